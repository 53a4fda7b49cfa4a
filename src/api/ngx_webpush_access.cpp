/*
 * Who may subscribe to which group.  A browser-facing subscription
 * location is public: without these checks anyone could subscribe their
 * own browser to another customer's group and read its notifications.
 */

#include "api/ngx_webpush_access.hpp"

#include "api/requests.hpp"
#include "api/subscription_access.hpp"
#include "glue/ngx_webpush_glue.hpp"

#include <openssl/crypto.h>

#include <cstdio>
#include <optional>
#include <string>
#include <string_view>


namespace webpush {
namespace {

/* a secret file holds a key, not a document: anything longer is a mistake */
constexpr size_t  max_secret_file = 4096;


/* the secret stays in memory no longer than its configuration */
void
cleanse_secret(void *data) noexcept
{
    auto *secret = static_cast<ngx_str_t *>(data);

    OPENSSL_cleanse(secret->data, secret->len);
}


/*
 * The file's bytes up to max_secret_file + 1, so that the caller can tell
 * "too long"; NGX_ERROR with ngx_errno set if it cannot be read.
 */
ssize_t
read_secret_file(u_char *name, u_char *buf, size_t size)
{
    ngx_fd_t fd = ngx_open_file(name, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        return NGX_ERROR;
    }

    size_t total = 0;

    while (total < size) {
        ssize_t n = ngx_read_fd(fd, buf + total, size - total);

        if (n == -1) {
            ngx_err_t err = ngx_errno;
            ngx_close_file(fd);
            ngx_set_errno(err);
            return NGX_ERROR;
        }

        if (n == 0) {
            break;
        }

        total += n;
    }

    ngx_close_file(fd);

    return total;
}

} // namespace


char *
set_subscription_identity(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf) noexcept
{
    auto *lcf = static_cast<LocConf *>(conf);

    if (lcf->identity_index != NGX_CONF_UNSET) {
        return const_cast<char *>("is duplicate");
    }

    auto *value = static_cast<ngx_str_t *>(cf->args->elts);
    ngx_str_t name = value[1];

    /* a literal would give every anonymous client the same identity */
    if (name.len < 2 || name.data[0] != '$') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" \"%V\": not a variable, the identity "
                           "must be a variable such as $remote_user",
                           &cmd->name, &value[1]);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    name.len--;
    name.data++;

    /* an unknown name is reported by nginx once the http block is read */
    ngx_int_t index = ngx_http_get_variable_index(cf, &name);
    if (index == NGX_ERROR) {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    lcf->identity_index = index;

    return NGX_CONF_OK;
}


char *
set_subscription_token_secret(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf) noexcept
{
    auto *lcf = static_cast<LocConf *>(conf);

    if (lcf->token_secret.data != nullptr) {
        return const_cast<char *>("is duplicate");
    }

    auto *value = static_cast<ngx_str_t *>(cf->args->elts);
    ngx_str_t file = value[1];

    if (ngx_conf_full_name(cf->cycle, &file, 1) != NGX_OK) {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    auto *secret = static_cast<ngx_str_t *>(
                       ngx_palloc(cf->pool, sizeof(ngx_str_t)));
    u_char *buf = static_cast<u_char *>(
                      ngx_pnalloc(cf->pool, max_secret_file + 1));
    ngx_pool_cleanup_t *cln = ngx_pool_cleanup_add(cf->pool, 0);

    if (secret == nullptr || buf == nullptr || cln == nullptr) {
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    secret->data = buf;
    secret->len = 0;
    cln->handler = cleanse_secret;
    cln->data = secret;

    ssize_t n = read_secret_file(file.data, buf, max_secret_file + 1);

    if (n == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "\"%V\" \"%V\": cannot read the secret file",
                           &cmd->name, &file);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    secret->len = n;

    if (secret->len > max_secret_file) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" \"%V\": the secret file is longer than "
                           "%uz bytes", &cmd->name, &file, max_secret_file);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    /* what "openssl rand -hex 32 > file" and editors add is not secret */
    while (secret->len > 0
           && (buf[secret->len - 1] == '\n' || buf[secret->len - 1] == '\r'))
    {
        secret->len--;
    }

    if (secret->len < api::kTokenSecretMinLength) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" \"%V\": the secret must be at least %uz "
                           "bytes long (without trailing newlines), it has "
                           "%uz", &cmd->name, &file,
                           api::kTokenSecretMinLength, secret->len);
        return static_cast<char *>(NGX_CONF_ERROR);
    }

    /* a secret others can read is a token others can mint */
    glue::warn_if_others_can_read(cf, &cmd->name, &file);

    lcf->token_secret = *secret;

    return NGX_CONF_OK;
}


char *
merge_subscription_access(ngx_conf_t *cf, LocConf *prev,
    LocConf *conf) noexcept
try {
    ngx_conf_merge_value(conf->identity_index, prev->identity_index,
                         NGX_CONF_UNSET);

    if (conf->token_secret.data == nullptr) {
        conf->token_secret = prev->token_secret;
    }

    if (conf->public_groups == nullptr) {
        conf->public_groups = prev->public_groups;
    }

    if (conf->handler != static_cast<ngx_uint_t>(Handler::subscriptions)) {
        return NGX_CONF_OK;
    }

    api::SubscriptionAccess access;

    access.identity = conf->identity_index != NGX_CONF_UNSET;
    access.secret = std::string_view(
                        reinterpret_cast<const char *>(conf->token_secret.data),
                        conf->token_secret.len);

    if (conf->public_groups != nullptr) {
        auto *name = static_cast<ngx_str_t *>(conf->public_groups->elts);

        for (ngx_uint_t i = 0; i < conf->public_groups->nelts; i++) {
            access.public_groups.emplace_back(
                reinterpret_cast<const char *>(name[i].data), name[i].len);
        }
    }

    if (!access.open()) {
        conf->access = glue::pool_new<api::SubscriptionAccess>(
                           cf->pool, std::move(access));
    }

    return NGX_CONF_OK;

} catch (...) {
    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "webpush: out of memory merging the subscription "
                       "access settings");
    return static_cast<char *>(NGX_CONF_ERROR);
}


bool
subscription_allowed(ngx_http_request_t *r, const api::SubscriptionRequest &s)
{
    auto *lcf = static_cast<LocConf *>(
                    ngx_http_get_module_loc_conf(r, ngx_http_webpush_module));

    if (lcf->access == nullptr) {
        return true;
    }

    std::optional<std::string_view> identity;

    if (lcf->identity_index != NGX_CONF_UNSET) {
        ngx_http_variable_value_t *vv =
            ngx_http_get_indexed_variable(r, lcf->identity_index);

        if (vv != nullptr && !vv->not_found) {
            identity = std::string_view(reinterpret_cast<char *>(vv->data),
                                        vv->len);
        }
    }

    std::optional<std::string_view> token;

    if (s.token) {
        token = *s.token;
    }

    std::optional<std::string_view> identifier;

    if (s.group_identifier) {
        identifier = *s.group_identifier;
    }

    api::AccessDecision d = api::decide_subscription_access(
                                *lcf->access, s.group_name, identifier,
                                identity, token, ngx_time());

    if (!d.allowed) {
        /* reasons only: the token, identity and group are the client's */
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "webpush: subscription refused: %s",
                      api::access_refusal_text(d).c_str());
    }

    return d.allowed;
}

} // namespace webpush
