/*
 * Sending small, fully buffered replies (JSON documents, Prometheus text)
 * from content handlers.
 */

#pragma once

#include "ngx.hpp"

#include <string_view>


namespace webpush {

/*
 * Sends body with the given status and content type, or only the header
 * for HEAD and for an empty body.  Returns what a content handler returns.
 */
ngx_int_t send_reply(ngx_http_request_t *r, ngx_uint_t status,
    std::string_view content_type, std::string_view body) noexcept;

/*
 * For read-only locations: NGX_OK for GET and HEAD (any body discarded),
 * else what the content handler returns (405).
 */
ngx_int_t only_get(ngx_http_request_t *r) noexcept;

extern const std::string_view  json_type;
extern const std::string_view  json_api_type;

} // namespace webpush
