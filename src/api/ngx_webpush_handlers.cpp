/*
 * The content handler of the API's locations (providers, subscriptions,
 * notifications, engagement events, the VAPID public key; webpush_status
 * has its own in status/).  It is noexcept and turns a C++ failure into a
 * 500, never an exception into nginx.
 */

#include "ngx_webpush_conf.hpp"

#include "api/ngx_webpush_api.hpp"
#include "api/ngx_webpush_handlers.hpp"
#include "api/ngx_webpush_reply.hpp"
#include "glue/ngx_webpush_glue.hpp"
#include "util/json.hpp"

#include <jansson.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>


namespace webpush {
namespace {

using util::JsonPtr;


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

    std::string body = util::json_compact(doc.get());

    if (body.empty()) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return send_reply(r, NGX_HTTP_OK, json_type, body);
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

    case Handler::status:       /* status::content_handler */
    case Handler::providers:
        return providers_handler(r);

    case Handler::subscriptions:
        return subscriptions_handler(r);

    case Handler::notifications:
        return notifications_handler(r);

    case Handler::events:
        return events_handler(r);

    case Handler::none:
        break;
    }

    return NGX_DECLINED;

} catch (...) {
    glue::log_exception(r->connection->log, "request failed");
    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}

} // namespace webpush
