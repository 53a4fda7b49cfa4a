/*
 * Fully buffered replies.
 */

#include "ngx_webpush_conf.hpp"

#include "api/ngx_webpush_reply.hpp"


namespace webpush {

const std::string_view  json_type = "application/json";
const std::string_view  json_api_type = "application/vnd.api+json";


ngx_int_t
send_reply(ngx_http_request_t *r, ngx_uint_t status,
    std::string_view content_type, std::string_view body) noexcept
{
    r->headers_out.status = status;
    r->headers_out.content_length_n = body.size();

    r->headers_out.content_type.len = content_type.size();
    r->headers_out.content_type.data =
        reinterpret_cast<u_char *>(const_cast<char *>(content_type.data()));
    r->headers_out.content_type_len = content_type.size();

    if (body.empty()) {
        r->header_only = 1;
    }

    ngx_int_t rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    ngx_buf_t *b = ngx_create_temp_buf(r->pool, body.size());
    if (b == nullptr) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->last, body.data(), body.size());
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    ngx_chain_t out = { b, nullptr };

    return ngx_http_output_filter(r, &out);
}

ngx_int_t
only_get(ngx_http_request_t *r) noexcept
{
    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    return ngx_http_discard_request_body(r);
}

} // namespace webpush
