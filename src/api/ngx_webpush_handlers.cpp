/*
 * Content handlers: the entry points of every webpush location.  Each one
 * is noexcept and turns a C++ failure into a 500, never an exception into
 * nginx.
 */

#include "ngx_webpush_conf.hpp"

#include "api/ngx_webpush_api.hpp"
#include "api/ngx_webpush_handlers.hpp"
#include "api/ngx_webpush_reply.hpp"

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

    if (wants_prometheus(r)) {
        std::string text =
            "# HELP webpush_info Module build information.\n"
            "# TYPE webpush_info gauge\n"
            "webpush_info{version=\"" NGX_HTTP_WEBPUSH_VERSION "\","
            "nginx=\"" NGINX_VERSION "\"} 1\n";

        return send_reply(r, NGX_HTTP_OK,
                          "text/plain; version=0.0.4; charset=utf-8", text);
    }

    JsonPtr doc(json_pack("{s:s, s:s, s:i, s:{s:b, s:i}}",
                          "version", NGX_HTTP_WEBPUSH_VERSION,
                          "nginx", NGINX_VERSION,
                          "pid", static_cast<json_int_t>(ngx_pid),
                          "postgres",
                              "configured", mcf->postgres.len != 0,
                              "pool", static_cast<json_int_t>(
                                          mcf->postgres_pool)));
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
