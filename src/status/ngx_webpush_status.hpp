/*
 * The webpush_status location: GET -> the module's state as JSON, or in
 * the Prometheus text format with ?format=prometheus.  Database and sender
 * figures are the serving worker's own (each worker has its pool and
 * sender); queue figures are the node's.
 *
 * The one component that looks at all the others (pool, queue, sender),
 * so that none of them needs to know about it.
 */

#pragma once

#include "ngx.hpp"


namespace webpush::status {

/* the content handler of webpush_status locations */
ngx_int_t content_handler(ngx_http_request_t *r) noexcept;

} // namespace webpush::status
