/*
 * Request plumbing shared by the JSON:API handlers: reading the body,
 * running a query while the request waits, JSON:API replies.
 */

#pragma once

#include "ngx.hpp"

#include "api/errors.hpp"
#include "db/ngx_webpush_pg.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>


namespace webpush {

/*
 * What to answer once a query completed: returns what a content handler
 * returns (the result of send_reply(), or an HTTP status).
 */
using Reply = std::function<ngx_int_t(ngx_http_request_t *r,
                                      db::Outcome &&outcome)>;

/*
 * Runs stmt for r: r is held (glue::RequestHold) until the reply is sent
 * and r is finalized from the query's callback.  If nginx terminates r
 * meanwhile (the client went away, worker_shutdown_timeout), the query
 * still completes and its answer is dropped: reply is not called.
 * Returns NGX_DONE, or an error reply when there is no database pool.  A
 * database that is down or too slow answers 503 without calling reply.
 * Throws only before anything was queued (r is then left as it was).
 */
ngx_int_t query(ngx_http_request_t *r, const db::Statement &stmt,
    db::Params params, Reply reply);
ngx_int_t query_sql(ngx_http_request_t *r, std::string sql,
    db::Params params, Reply reply);

/*
 * Reads the request body, then calls handler (which returns what a
 * content handler returns).  Returns what the content handler returns.
 */
using BodyHandler = ngx_int_t (*)(ngx_http_request_t *r, std::string &&body);

ngx_int_t read_body(ngx_http_request_t *r, BodyHandler handler);

/* JSON:API document replies */
ngx_int_t send_document(ngx_http_request_t *r, ngx_uint_t status,
    std::string_view body);
ngx_int_t send_errors(ngx_http_request_t *r, const api::ErrorList &errors);
ngx_int_t send_error(ngx_http_request_t *r, api::Error error);

/* an SQL failure that is not the client's fault: logged, 500 */
ngx_int_t internal_error(ngx_http_request_t *r, const db::Outcome &outcome);

/* "scheme://host" for links.self, followed by the URI up to the type */
std::string link_base(ngx_http_request_t *r, std::string_view type);

std::string_view to_view(const ngx_str_t &s);

} // namespace webpush
