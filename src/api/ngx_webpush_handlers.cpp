/*
 * Content handlers: the entry points of every webpush location.  Each one
 * is noexcept and turns a C++ failure into a 500, never an exception into
 * nginx.
 */

#include "ngx_webpush_conf.hpp"
#include "ngx_webpush_worker.hpp"

#include "api/ngx_webpush_api.hpp"
#include "api/ngx_webpush_handlers.hpp"
#include "api/ngx_webpush_reply.hpp"
#include "db/ngx_webpush_pg.hpp"

#include <jansson.h>

#include <memory>
#include <string>


namespace webpush {
namespace {

struct JsonDeleter {
    void operator()(json_t *j) const noexcept { json_decref(j); }
};

using JsonPtr = std::unique_ptr<json_t, JsonDeleter>;


std::string
dump(const json_t *doc)
{
    std::unique_ptr<char, decltype(&free)> text(
        json_dumps(doc, JSON_COMPACT), &free);

    if (!text) {
        throw std::bad_alloc();
    }

    return std::string(text.get());
}


ngx_int_t
only_get(ngx_http_request_t *r)
{
    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    return ngx_http_discard_request_body(r);
}


/* GET -> {"publicKey":"<base64url>"}, the applicationServerKey */
ngx_int_t
vapid_public_key_handler(ngx_http_request_t *r, MainConf *mcf)
{
    ngx_int_t rc = only_get(r);
    if (rc != NGX_OK) {
        return rc;
    }

    JsonPtr doc(json_object());
    if (!doc
        || json_object_set_new(doc.get(), "publicKey",
               json_stringn(reinterpret_cast<char *>(
                                mcf->vapid_public_key.data),
                            mcf->vapid_public_key.len)) != 0)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return send_reply(r, NGX_HTTP_OK, json_type, dump(doc.get()));
}


bool
wants_prometheus(ngx_http_request_t *r)
{
    ngx_str_t format;

    if (ngx_http_arg(r, reinterpret_cast<u_char *>(
                            const_cast<char *>("format")),
                     6, &format) != NGX_OK)
    {
        return false;
    }

    return format.len == 10
           && ngx_strncmp(format.data, "prometheus", 10) == 0;
}


/*
 * GET -> the module's state as JSON, or in the Prometheus text format
 * with ?format=prometheus.
 */
ngx_int_t
status_handler(ngx_http_request_t *r, MainConf *mcf)
{
    ngx_int_t rc = only_get(r);
    if (rc != NGX_OK) {
        return rc;
    }

    /* this worker's view; every worker keeps its own pool */
    db::PoolStats pg{};
    Worker *w = worker();

    if (w != nullptr && w->pool) {
        pg = w->pool->stats();
    }

    if (wants_prometheus(r)) {
        std::string text =
            "# HELP webpush_info Module build information.\n"
            "# TYPE webpush_info gauge\n"
            "webpush_info{version=\"" NGX_HTTP_WEBPUSH_VERSION "\","
            "nginx=\"" NGINX_VERSION "\"} 1\n";

        auto metric = [&text](const char *name, const char *type,
                              const char *help, uint64_t value)
        {
            text += std::string("# HELP ") + name + " " + help + "\n"
                    + "# TYPE " + name + " " + type + "\n"
                    + name + "{pid=\"" + std::to_string(ngx_pid) + "\"} "
                    + std::to_string(value) + "\n";
        };

        metric("webpush_db_connections", "gauge",
               "Database connections ready in this worker.", pg.connected);
        metric("webpush_db_busy", "gauge",
               "Database connections running a query.", pg.busy);
        metric("webpush_db_queued", "gauge",
               "Queries waiting for a connection.", pg.queued);
        metric("webpush_db_queries_total", "counter",
               "Queries completed.", pg.queries);
        metric("webpush_db_errors_total", "counter",
               "Queries that failed with an SQL error.", pg.errors);
        metric("webpush_db_timeouts_total", "counter",
               "Queries that ran out of time.", pg.timeouts);
        metric("webpush_db_reconnects_total", "counter",
               "Connection attempts after a failure.", pg.reconnects);

        return send_reply(r, NGX_HTTP_OK,
                          "text/plain; version=0.0.4; charset=utf-8", text);
    }

    auto num = [](uint64_t v) { return static_cast<json_int_t>(v); };

    JsonPtr doc(json_pack(
        "{s:s, s:s, s:i, s:{s:b, s:b, s:i, s:i, s:i, s:i, s:I, s:I, s:I,"
        " s:I}}",
        "version", NGX_HTTP_WEBPUSH_VERSION,
        "nginx", NGINX_VERSION,
        "pid", static_cast<json_int_t>(ngx_pid),
        "postgres",
            "configured", mcf->postgres.len != 0,
            "schema_ready", pg.schema_ready,
            "pool", num(mcf->postgres_pool),
            "connected", num(pg.connected),
            "busy", num(pg.busy),
            "queued", num(pg.queued),
            "queries", num(pg.queries),
            "errors", num(pg.errors),
            "timeouts", num(pg.timeouts),
            "reconnects", num(pg.reconnects)));
    if (!doc) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return send_reply(r, NGX_HTTP_OK, json_type, dump(doc.get()));
}

} // namespace


ngx_int_t
content_handler(ngx_http_request_t *r) noexcept
try {
    auto *lcf = static_cast<LocConf *>(
                      ngx_http_get_module_loc_conf(r, ngx_http_webpush_module));
    MainConf *mcf = main_conf(r);

    switch (static_cast<Handler>(lcf->handler)) {

    case Handler::vapid_public_key:
        return vapid_public_key_handler(r, mcf);

    case Handler::status:
        return status_handler(r, mcf);

    case Handler::providers:
        return providers_handler(r);

    case Handler::subscriptions:
        return subscriptions_handler(r);

    case Handler::notifications:
        return notifications_handler(r);

    case Handler::none:
        break;
    }

    return NGX_DECLINED;

} catch (const std::exception &e) {
    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "webpush: request failed: %s", e.what());
    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}

} // namespace webpush
