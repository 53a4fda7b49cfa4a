/*
 * ngx_http_webpush_module: web push notifications inside nginx.
 *
 * This file wires the module into nginx: the directive table, the
 * configuration life cycle (create, merge, post-configuration checks) and
 * the content handlers of the webpush_* locations.  The work itself lives
 * in src/<component>/.
 */

#include "ngx_webpush_conf.hpp"

#include "ngx_webpush_objects.hpp"
#include "ngx_webpush_worker.hpp"

#include "api/ngx_webpush_access.hpp"
#include "api/ngx_webpush_handlers.hpp"
#include "crypto/event_token.hpp"
#include "crypto/keys.hpp"
#include "db/ngx_webpush_pg.hpp"
#include "glue/ngx_webpush_glue.hpp"
#include "queue/ngx_webpush_queue.hpp"
#include "push/ngx_webpush_push_client.hpp"
#include "sender/ngx_webpush_sender.hpp"
#include "status/ngx_webpush_status.hpp"

#include <libpq-fe.h>

#include <cstdio>
#include <new>
#include <optional>
#include <string>


namespace webpush {
namespace {

char *set_vapid_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *set_vapid_subject(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf) noexcept;
char *set_postgres(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *set_name_list(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *set_push_hosts(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;
char *set_handler(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept;

char *check_bounds(ngx_conf_t *cf, void *post, void *data) noexcept;

void *create_main_conf(ngx_conf_t *cf) noexcept;
char *init_main_conf(ngx_conf_t *cf, void *conf) noexcept;
void *create_loc_conf(ngx_conf_t *cf) noexcept;
char *merge_loc_conf(ngx_conf_t *cf, void *parent, void *child) noexcept;
ngx_int_t postconfiguration(ngx_conf_t *cf) noexcept;
ngx_int_t setup_sender(ngx_conf_t *cf, MainConf *mcf);
ngx_int_t setup_events(ngx_conf_t *cf, MainConf *mcf) noexcept;
ngx_int_t init_process(ngx_cycle_t *cycle) noexcept;
void exit_process(ngx_cycle_t *cycle) noexcept;


ngx_conf_num_bounds_t  pool_bounds = {
    check_bounds, 1, 64
};

ngx_conf_num_bounds_t  concurrency_bounds = {
    check_bounds, 1, 65536
};

ngx_conf_num_bounds_t  keepalive_bounds = {
    check_bounds, 0, 65536
};

ngx_conf_num_bounds_t  attempts_bounds = {
    check_bounds, 1, 100
};


/* "handler" of a location directive: which Handler it installs */
ngx_uint_t  handler_vapid_public_key =
    static_cast<ngx_uint_t>(Handler::vapid_public_key);
ngx_uint_t  handler_status = static_cast<ngx_uint_t>(Handler::status);
ngx_uint_t  handler_providers = static_cast<ngx_uint_t>(Handler::providers);
ngx_uint_t  handler_subscriptions =
    static_cast<ngx_uint_t>(Handler::subscriptions);
ngx_uint_t  handler_notifications =
    static_cast<ngx_uint_t>(Handler::notifications);
ngx_uint_t  handler_events = static_cast<ngx_uint_t>(Handler::events);


ngx_command_t  commands[] = {

    { ngx_string("webpush_vapid_key"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      set_vapid_key,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(MainConf, vapid_key_file),
      nullptr },

    { ngx_string("webpush_vapid_subject"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      set_vapid_subject,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(MainConf, vapid_subject),
      nullptr },

    { ngx_string("webpush_postgres"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      set_postgres,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(MainConf, postgres),
      nullptr },

    { ngx_string("webpush_postgres_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(MainConf, postgres_pool),
      &pool_bounds },

    { ngx_string("webpush_postgres_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(MainConf, postgres_timeout),
      nullptr },

    { ngx_string("webpush_queue_size"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(MainConf, queue_size),
      nullptr },

    { ngx_string("webpush_push_hosts"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      set_push_hosts,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(MainConf, push_hosts),
      nullptr },

    { ngx_string("webpush_ssl_trusted_certificate"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(MainConf, ssl_trusted_certificate),
      nullptr },

    { ngx_string("webpush_ssl_verify"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(MainConf, ssl_verify),
      nullptr },

    { ngx_string("webpush_concurrency"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(MainConf, concurrency),
      &concurrency_bounds },

    { ngx_string("webpush_keepalive"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(MainConf, keepalive),
      &keepalive_bounds },

    { ngx_string("webpush_http2"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(MainConf, http2),
      nullptr },

    { ngx_string("webpush_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(MainConf, timeout),
      nullptr },

    { ngx_string("webpush_message_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(MainConf, message_ttl),
      nullptr },

    { ngx_string("webpush_subscription_ttl"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(MainConf, subscription_ttl),
      nullptr },

    { ngx_string("webpush_max_attempts"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(MainConf, max_attempts),
      &attempts_bounds },

    { ngx_string("webpush_sender"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(MainConf, sender),
      nullptr },

    { ngx_string("webpush_delivery_log"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(MainConf, delivery_log),
      nullptr },

    { ngx_string("webpush_lease"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(MainConf, lease),
      nullptr },

    { ngx_string("webpush_groups"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      set_name_list,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(MainConf, groups),
      nullptr },

    { ngx_string("webpush_locales"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      set_name_list,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(MainConf, locales),
      nullptr },

    /* who may subscribe: api/ngx_webpush_access.cpp */
    { ngx_string("webpush_public_groups"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      set_name_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(LocConf, public_groups),
      nullptr },

    { ngx_string("webpush_subscription_identity"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      set_subscription_identity,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      nullptr },

    { ngx_string("webpush_subscription_token_secret"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      set_subscription_token_secret,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      nullptr },

    { ngx_string("webpush_vapid_public_key"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      set_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &handler_vapid_public_key },

    { ngx_string("webpush_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      set_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &handler_status },

    { ngx_string("webpush_providers"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      set_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &handler_providers },

    { ngx_string("webpush_subscriptions"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      set_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &handler_subscriptions },

    { ngx_string("webpush_notifications"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      set_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &handler_notifications },

    { ngx_string("webpush_events"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      set_handler,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      &handler_events },

      ngx_null_command
};


ngx_http_module_t  module_ctx = {
    nullptr,                               /* preconfiguration */
    postconfiguration,                     /* postconfiguration */

    create_main_conf,                      /* create main configuration */
    init_main_conf,                        /* init main configuration */

    nullptr,                               /* create server configuration */
    nullptr,                               /* merge server configuration */

    create_loc_conf,                       /* create location configuration */
    merge_loc_conf                         /* merge location configuration */
};


/* std::string of an nginx string; config-time only */
std::string
to_string(const ngx_str_t &s)
{
    return std::string(reinterpret_cast<const char *>(s.data), s.len);
}


/* an exception at configuration time: "nginx -t" says what and where */
char *
conf_exception(ngx_conf_t *cf, const ngx_str_t *directive) noexcept
{
    static ngx_str_t  module_name = ngx_string("webpush");
    const ngx_str_t  *name = directive ? directive : &module_name;

    try {
        throw;

    } catch (const std::bad_alloc &) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": out of memory",
                           name);

    } catch (const std::exception &e) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": %s", name,
                           e.what());

    } catch (...) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": unknown error",
                           name);
    }

    return static_cast<char *>(NGX_CONF_ERROR);
}


/* a copy of a C++ string in cf->pool, for values kept in the conf */
bool
copy_to_pool(ngx_pool_t *pool, const std::string &src, ngx_str_t *dst)
{
    dst->data = static_cast<u_char *>(ngx_pnalloc(pool, src.size()));
    if (dst->data == nullptr) {
        return false;
    }

    ngx_memcpy(dst->data, src.data(), src.size());
    dst->len = src.size();

    return true;
}


char *
set_vapid_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept
try {
    auto *mcf = static_cast<MainConf *>(conf);

    if (mcf->vapid_key != nullptr) {
        return const_cast<char *>("is duplicate");
    }

    auto *value = static_cast<ngx_str_t *>(cf->args->elts);
    mcf->vapid_key_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &mcf->vapid_key_file, 1) != NGX_OK) {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    std::string reason;
    auto key = crypto::VapidKey::load_file(to_string(mcf->vapid_key_file),
                                           reason);
    if (!key) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" \"%V\": %s", &cmd->name, &value[1],
                           reason.c_str());
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    /* a signing key others can read is a key others can sign with */
    glue::warn_if_others_can_read(cf, &cmd->name, &mcf->vapid_key_file);

    /* the key lives as long as the configuration it belongs to */
    mcf->vapid_key = glue::pool_new<crypto::VapidKey>(cf->pool,
                                                      std::move(*key));

    if (!copy_to_pool(cf->pool, mcf->vapid_key->public_key_b64u(),
                      &mcf->vapid_public_key))
    {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    return NGX_CONF_OK;

} catch (...) {
    return conf_exception(cf, &cmd->name);
}


char *
set_vapid_subject(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept
try {
    auto *mcf = static_cast<MainConf *>(conf);

    if (mcf->vapid_subject.data != nullptr) {
        return const_cast<char *>("is duplicate");
    }

    auto *value = static_cast<ngx_str_t *>(cf->args->elts);

    std::string reason;
    if (!crypto::validate_subject(to_string(value[1]), reason)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" \"%V\": %s", &cmd->name, &value[1],
                           reason.c_str());
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    mcf->vapid_subject = value[1];

    return NGX_CONF_OK;

} catch (...) {
    return conf_exception(cf, &cmd->name);
}


/* the connection string is parsed now so that "nginx -t" catches typos */
char *
set_postgres(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept
try {
    auto *mcf = static_cast<MainConf *>(conf);

    if (mcf->postgres.data != nullptr) {
        return const_cast<char *>("is duplicate");
    }

    auto *value = static_cast<ngx_str_t *>(cf->args->elts);
    std::string conninfo = to_string(value[1]);

    std::string reason;
    std::optional<db::Conninfo> parsed = db::parse_conninfo(conninfo, reason);

    if (!parsed) {
        /* the value is not echoed: it may hold a password */
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": invalid connection string: %s",
                           &cmd->name, reason.c_str());
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    /* postconfiguration checks that a name has a resolver */
    if (parsed->needs_resolver()
        && !copy_to_pool(cf->pool, parsed->first_name(),
                         &mcf->postgres_host_name))
    {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    /* a NUL-terminated copy, as libpq wants it */
    mcf->postgres.len = value[1].len;
    mcf->postgres.data = static_cast<u_char *>(
                                   ngx_pnalloc(cf->pool, value[1].len + 1));
    if (mcf->postgres.data == nullptr) {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    ngx_cpystrn(mcf->postgres.data, value[1].data, value[1].len + 1);

    return NGX_CONF_OK;

} catch (...) {
    return conf_exception(cf, &cmd->name);
}


/* webpush_groups / webpush_locales: a list of distinct, non-empty names */
char *
set_name_list(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept
{
    auto *field = reinterpret_cast<ngx_array_t **>(
                                 static_cast<char *>(conf) + cmd->offset);

    if (*field != nullptr) {
        return const_cast<char *>("is duplicate");
    }

    *field = ngx_array_create(cf->pool, cf->args->nelts - 1,
                              sizeof(ngx_str_t));
    if (*field == nullptr) {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    auto *value = static_cast<ngx_str_t *>(cf->args->elts);

    for (ngx_uint_t i = 1; i < cf->args->nelts; i++) {
        if (value[i].len == 0 || value[i].len > 255) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\": a name must be 1 to 255 bytes long",
                               &cmd->name);
            return static_cast<char *>(NGX_CONF_ERROR);
        }

        auto *name = static_cast<ngx_str_t *>(ngx_array_push(*field));
        if (name == nullptr) {
            return static_cast<char *>(NGX_CONF_ERROR);
        }

        *name = value[i];
    }

    return NGX_CONF_OK;
}


/* webpush_push_hosts: parsed now, so that nginx -t names a bad pattern */
char *
set_push_hosts(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept
try {
    auto *mcf = static_cast<MainConf *>(conf);

    if (mcf->push_hosts != nullptr) {
        return const_cast<char *>("is duplicate");
    }

    if (set_name_list(cf, cmd, conf) != NGX_CONF_OK) {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    ConfObjects *objects = conf_objects(cf, mcf);
    if (objects == nullptr) {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    push::PushHosts hosts;
    auto *value = static_cast<ngx_str_t *>(mcf->push_hosts->elts);

    for (ngx_uint_t i = 0; i < mcf->push_hosts->nelts; i++) {
        std::string reason;

        if (!hosts.add(to_string(value[i]), reason)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" \"%V\": %s", &cmd->name, &value[i],
                               reason.c_str());
            return static_cast<char *>(NGX_CONF_ERROR);
        }
    }

    objects->push_hosts = std::move(hosts);

    return NGX_CONF_OK;

} catch (...) {
    return conf_exception(cf, &cmd->name);
}


std::vector<std::string>
to_strings(ngx_array_t *list)
{
    std::vector<std::string> out;

    if (list == nullptr) {
        return out;
    }

    auto *value = static_cast<ngx_str_t *>(list->elts);

    for (ngx_uint_t i = 0; i < list->nelts; i++) {
        out.push_back(to_string(value[i]));
    }

    return out;
}


/* the rules the subscription and notification handlers validate with */
bool
build_rules(ngx_conf_t *cf, MainConf *mcf)
{
    ConfObjects *objects = conf_objects(cf, mcf);
    if (objects == nullptr) {
        return false;
    }

    api::SubscriptionRules &rules = objects->subscription_rules;

    rules.push_hosts = objects->push_hosts ? *objects->push_hosts
                                           : push::PushHosts::defaults();
    rules.groups = to_strings(mcf->groups);
    rules.locales = to_strings(mcf->locales);
    rules.key_check = [](std::string_view p256dh, std::string_view auth,
                         std::string &reason)
    {
        return crypto::SubscriptionKeys::check(p256dh, auth, reason);
    };

    objects->notification_rules.groups = rules.groups;
    objects->notification_rules.locales = rules.locales;

    return true;
}


char *
set_handler(ngx_conf_t *cf, ngx_command_t *cmd, void *conf) noexcept
{
    auto *lcf = static_cast<LocConf *>(conf);

    if (lcf->handler != static_cast<ngx_uint_t>(Handler::none)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\": this location already has a webpush "
                           "handler", &cmd->name);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    lcf->handler = *static_cast<ngx_uint_t *>(cmd->post);

    auto *clcf = static_cast<ngx_http_core_loc_conf_t *>(
                    ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    clcf->handler = lcf->handler == handler_status ? status::content_handler
                                                   : content_handler;

    auto *mcf = static_cast<MainConf *>(
               ngx_http_conf_get_module_main_conf(cf, ngx_http_webpush_module));
    mcf->handlers++;

    if (lcf->handler == handler_providers
        || lcf->handler == handler_subscriptions
        || lcf->handler == handler_notifications
        || lcf->handler == handler_events)
    {
        mcf->database_handlers++;
    }

    /* decided now, for the whole configuration: the sender signs a token
     * into each payload only when reports can come back somewhere */
    if (lcf->handler == handler_events) {
        mcf->events_handlers++;
    }

    return NGX_CONF_OK;
}


/*
 * ngx_conf_check_num_bounds() without the directive's name is hard to act
 * on; while a post handler runs, cf->args still holds the directive.
 */
char *
check_bounds(ngx_conf_t *cf, void *post, void *data) noexcept
{
    auto *bounds = static_cast<ngx_conf_num_bounds_t *>(post);
    ngx_int_t value = *static_cast<ngx_int_t *>(data);

    if (value >= bounds->low && value <= bounds->high) {
        return NGX_CONF_OK;
    }

    auto *args = static_cast<ngx_str_t *>(cf->args->elts);

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"%V\" must be between %i and %i, not %i",
                       &args[0], bounds->low, bounds->high, value);

    return static_cast<char *>(NGX_CONF_ERROR);
}


void *
create_main_conf(ngx_conf_t *cf) noexcept
{
    auto *mcf = static_cast<MainConf *>(
                                  ngx_pcalloc(cf->pool, sizeof(MainConf)));
    if (mcf == nullptr) {
        return nullptr;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     mcf->vapid_key_file = { 0, NULL };
     *     mcf->vapid_subject = { 0, NULL };
     *     mcf->postgres = { 0, NULL };
     *     mcf->ssl_trusted_certificate = { 0, NULL };
     *     mcf->push_hosts = NULL;
     *     mcf->groups = NULL;
     *     mcf->locales = NULL;
     *     mcf->vapid_key = NULL;
     *     mcf->handlers = 0;
     *     mcf->events_handlers = 0;
     *     mcf->event_key = NULL;
     */

    mcf->postgres_pool = NGX_CONF_UNSET_UINT;
    mcf->postgres_timeout = NGX_CONF_UNSET_MSEC;
    mcf->queue_size = NGX_CONF_UNSET_SIZE;
    mcf->ssl_verify = NGX_CONF_UNSET;
    mcf->concurrency = NGX_CONF_UNSET_UINT;
    mcf->keepalive = NGX_CONF_UNSET_UINT;
    mcf->http2 = NGX_CONF_UNSET;
    mcf->timeout = NGX_CONF_UNSET_MSEC;
    mcf->message_ttl = NGX_CONF_UNSET;
    mcf->subscription_ttl = NGX_CONF_UNSET;
    mcf->max_attempts = NGX_CONF_UNSET_UINT;
    mcf->sender = NGX_CONF_UNSET;
    mcf->delivery_log = NGX_CONF_UNSET;
    mcf->lease = NGX_CONF_UNSET;

    return mcf;
}


char *
init_main_conf(ngx_conf_t *cf, void *conf) noexcept
{
    auto *mcf = static_cast<MainConf *>(conf);

    ngx_conf_init_uint_value(mcf->postgres_pool, 2);
    ngx_conf_init_msec_value(mcf->postgres_timeout, 5000);
    ngx_conf_init_size_value(mcf->queue_size, 8 * 1024 * 1024);
    ngx_conf_init_value(mcf->ssl_verify, 1);
    ngx_conf_init_uint_value(mcf->concurrency, 1000);
    ngx_conf_init_uint_value(mcf->keepalive, 16);
    ngx_conf_init_value(mcf->http2, 1);
    ngx_conf_init_msec_value(mcf->timeout, 10000);
    ngx_conf_init_value(mcf->message_ttl, 28 * 86400);
    ngx_conf_init_value(mcf->subscription_ttl, 7 * 86400);
    ngx_conf_init_uint_value(mcf->max_attempts, 5);
    ngx_conf_init_value(mcf->sender, 1);
    ngx_conf_init_value(mcf->delivery_log, 1);
    ngx_conf_init_value(mcf->lease, 60);

    /*
     * A claimed delivery waits in the queue and is sent within its lease;
     * one still queued at half of it is left to the next claim, so the
     * lease must cover a request's timeout comfortably.
     */
    if (mcf->lease < 10
        || mcf->lease * 1000 < static_cast<time_t>(mcf->timeout) * 4)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpush_lease\" must be at least 10s and "
                           "four times \"webpush_timeout\"");
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    if (mcf->queue_size < 64 * 1024) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpush_queue_size\" of %uz bytes is too small, "
                           "at least 64k is needed", mcf->queue_size);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    if (mcf->message_ttl > 0x7fffffff) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpush_message_ttl\" must not exceed "
                           "2147483647 seconds");
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    try {
        if (!build_rules(cf, mcf)) {
            return static_cast<char *>(NGX_CONF_ERROR);
        }

    } catch (...) {
        return conf_exception(cf, nullptr);
    }

    if (mcf->postgres_timeout == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpush_postgres_timeout\" must be greater "
                           "than zero");
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    if (mcf->timeout == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpush_timeout\" must be greater than zero");
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    return NGX_CONF_OK;
}


void *
create_loc_conf(ngx_conf_t *cf) noexcept
{
    auto *lcf = static_cast<LocConf *>(ngx_pcalloc(cf->pool, sizeof(LocConf)));
    if (lcf == nullptr) {
        return nullptr;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     lcf->token_secret = { 0, NULL };
     *     lcf->public_groups = NULL;
     *     lcf->access = NULL;
     */

    lcf->handler = static_cast<ngx_uint_t>(Handler::none);
    lcf->identity_index = NGX_CONF_UNSET;

    return lcf;
}


char *
merge_loc_conf(ngx_conf_t *cf, void *parent, void *child) noexcept
{
    /*
     * The handler is not inherited: a webpush handler belongs to the
     * location that names it, as with nginx's own content handlers.
     * Who may subscribe is, so that a server or an enclosing location can
     * restrict every subscription location inside it.
     */
    return merge_subscription_access(cf, static_cast<LocConf *>(parent),
                                     static_cast<LocConf *>(child));
}


/*
 * The sender's shared state, made at configuration time: the node's send
 * queue (shared memory) and the TLS client context.
 */
ngx_int_t
setup_sender(ngx_conf_t *cf, MainConf *mcf)
{
    mcf->queue_zone = queue::add_queue_zone(cf, mcf->queue_size);
    if (mcf->queue_zone == nullptr) {
        return NGX_ERROR;
    }

    mcf->ssl = static_cast<ngx_ssl_t *>(ngx_pcalloc(cf->pool,
                                                    sizeof(ngx_ssl_t)));
    if (mcf->ssl == nullptr) {
        return NGX_ERROR;
    }

    mcf->ssl->log = cf->log;

    ngx_str_t *trusted = mcf->ssl_trusted_certificate.len
                         ? &mcf->ssl_trusted_certificate : nullptr;

    return push::create_client_ssl(cf, mcf->ssl, trusted,
                                     mcf->ssl_verify != 0);
}


/*
 * webpush_events: the key of the engagement tokens, from the VAPID key
 * (crypto/event_token.hpp), so that every node with that key signs and
 * checks alike with nothing more to configure.
 */
ngx_int_t
setup_events(ngx_conf_t *cf, MainConf *mcf) noexcept
try {
    std::string reason;
    auto key = crypto::EventTokenKey::derive(*mcf->vapid_key, reason);

    if (!key) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpush_events\": no token key: %s",
                           reason.c_str());
        return NGX_ERROR;
    }

    /* the key lives as long as the configuration it belongs to */
    mcf->event_key = glue::pool_new<crypto::EventTokenKey>(cf->pool,
                                                           std::move(*key));

    return NGX_OK;

} catch (...) {
    static ngx_str_t  name = ngx_string("webpush_events");

    conf_exception(cf, &name);
    return NGX_ERROR;
}


/* settings that only make sense together are checked once all are read */
ngx_int_t
postconfiguration(ngx_conf_t *cf) noexcept
{
    auto *mcf = static_cast<MainConf *>(
               ngx_http_conf_get_module_main_conf(cf, ngx_http_webpush_module));

    if (mcf->handlers == 0) {
        return NGX_OK;
    }

    if (mcf->vapid_key == nullptr) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpush_vapid_key\" is required in the http "
                           "block when a webpush handler is used");
        return NGX_ERROR;
    }

    if (mcf->vapid_subject.data == nullptr) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpush_vapid_subject\" is required in the "
                           "http block when a webpush handler is used");
        return NGX_ERROR;
    }

    if (mcf->postgres.data != nullptr && mcf->sender) {
        if (setup_sender(cf, mcf) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (mcf->postgres_host_name.len != 0 && !glue::has_http_resolver(cf)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpush_postgres\": the host \"%V\" is a "
                           "name, and no \"resolver\" is set in the http "
                           "block to resolve it without blocking",
                           &mcf->postgres_host_name);
        return NGX_ERROR;
    }

    if (mcf->postgres.data == nullptr && mcf->database_handlers != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpush_postgres\" is required in the http "
                           "block when webpush_providers, "
                           "webpush_subscriptions, webpush_notifications "
                           "or webpush_events is used");
        return NGX_ERROR;
    }

    if (mcf->events_handlers != 0 && setup_events(cf, mcf) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}

std::unique_ptr<Worker>  the_worker;

} // namespace


ConfObjects *
conf_objects(ngx_conf_t *cf, MainConf *mcf)
{
    if (mcf->objects != nullptr) {
        return mcf->objects;
    }

    mcf->objects = glue::pool_new<ConfObjects>(cf->pool);

    return mcf->objects;
}


namespace {


ngx_int_t
init_process(ngx_cycle_t *cycle) noexcept
try {
    MainConf *mcf = main_conf(cycle);

    if (mcf == nullptr || mcf->handlers == 0) {
        return NGX_OK;
    }

    the_worker = std::make_unique<Worker>();

    if (mcf->postgres.len == 0) {
        return NGX_OK;
    }

    Worker &w = *the_worker;

    std::string reason;
    std::optional<db::Conninfo> conninfo =
        db::parse_conninfo(to_string(mcf->postgres), reason);

    if (!conninfo) {
        /* checked by set_postgres(): only memory can fail here */
        throw std::bad_alloc();
    }

    db::ResolverConf resolver;
    resolver.resolver = glue::http_resolver(cycle, &resolver.timeout);

    w.pool = std::make_unique<db::Pool>(cycle->log, std::move(*conninfo),
                                        mcf->postgres_pool,
                                        mcf->postgres_timeout,
                                        db::schema_sql(), resolver);

    if (mcf->queue_zone != nullptr) {
        w.queue = std::make_unique<queue::Queue>(mcf->queue_zone);

        if (!w.queue->ok()) {
            ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                          "webpush: the send queue is not usable, "
                          "this worker sends nothing");
            w.queue.reset();

        } else {
            w.sender = std::make_unique<sender::Sender>(
                           cycle, mcf, w.pool.get(), w.queue.get(),
                           mcf->objects->subscription_rules.push_hosts);

            sender::Sender *s = w.sender.get();
            w.pool->listen("webpush", [s](std::string_view payload) {
                s->wake(payload);
            });
        }
    }

    w.pool->start();

    if (w.sender) {
        w.sender->start();
    }

    return NGX_OK;

} catch (...) {
    glue::log_exception(cycle->log, "worker start-up failed");
    return NGX_ERROR;
}


void
exit_process(ngx_cycle_t *cycle) noexcept
{
    the_worker.reset();
}

} // namespace


Worker::Worker() = default;
Worker::~Worker() = default;


Worker *
worker() noexcept
{
    return the_worker.get();
}

} // namespace webpush


extern "C" {

ngx_module_t  ngx_http_webpush_module = {
    NGX_MODULE_V1,
    &webpush::module_ctx,                  /* module context */
    webpush::commands,                     /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    nullptr,                               /* init master */
    nullptr,                               /* init module */
    webpush::init_process,                 /* init process */
    nullptr,                               /* init thread */
    nullptr,                               /* exit thread */
    webpush::exit_process,                 /* exit process */
    nullptr,                               /* exit master */
    NGX_MODULE_V1_PADDING
};

}
