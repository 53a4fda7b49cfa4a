/*
 * Request plumbing of the JSON:API handlers; see the header.
 */

#include "ngx_webpush_conf.hpp"
#include "ngx_webpush_worker.hpp"

#include "api/ngx_webpush_reply.hpp"
#include "api/ngx_webpush_request.hpp"
#include "glue/ngx_webpush_glue.hpp"


namespace webpush {

namespace {

/* the body handler waiting for ngx_http_read_client_request_body() */
struct BodyContext {
    BodyHandler  handler;
};


void
body_read(ngx_http_request_t *r) noexcept
{
    auto *ctx = static_cast<BodyContext *>(
                     ngx_http_get_module_ctx(r, ngx_http_webpush_module));
    ngx_int_t rc;

    try {
        ngx_http_request_body_t *rb = r->request_body;
        std::string body;

        if (rb != nullptr && rb->temp_file != nullptr) {
            /* reading it back would block: the buffer must hold it */
            rc = send_error(r, api::wrong_request_body(
                     "the body is larger than client_body_buffer_size"));

        } else {
            for (ngx_chain_t *cl = rb ? rb->bufs : nullptr; cl;
                 cl = cl->next)
            {
                if (!ngx_buf_in_memory(cl->buf)) {
                    continue;
                }

                body.append(reinterpret_cast<char *>(cl->buf->pos),
                            cl->buf->last - cl->buf->pos);
            }

            rc = ctx->handler(r, std::move(body));
        }

    } catch (...) {
        glue::log_exception(r->connection->log, "request failed");
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_finalize_request(r, rc);
}


/* queues the query, or throws having queued nothing */
void
run_held(db::Pool *pool, const std::shared_ptr<glue::RequestHold> &hold,
    const db::Statement *stmt, std::string sql, db::Params params,
    Reply reply)
{
    auto done = [hold, reply = std::move(reply)](db::Outcome &&outcome) {
        ngx_http_request_t *r = hold->request();

        if (r == nullptr) {
            /* terminated while it waited: nobody to answer */
            return;
        }

        ngx_log_t *log = r->connection->log;

        ngx_int_t rc = glue::barrier(log, "request failed",
                                     ngx_int_t(NGX_HTTP_INTERNAL_SERVER_ERROR),
                                     [&]() -> ngx_int_t {
            if (outcome.unavailable) {
                ngx_log_error(NGX_LOG_ERR, log, 0,
                              "webpush: database unavailable: %s",
                              outcome.error.c_str());

                return send_error(r, api::custom_error(
                           "503", 503, "Database unavailable.",
                           "try again later"));
            }

            return reply(r, std::move(outcome));
        });

        hold->finish(rc);
    };

    if (stmt != nullptr) {
        pool->exec(*stmt, std::move(params), std::move(done));

    } else {
        pool->exec_sql(std::move(sql), std::move(params), std::move(done));
    }
}


ngx_int_t
run(ngx_http_request_t *r, const db::Statement *stmt, std::string sql,
    db::Params params, Reply reply)
{
    Worker *w = worker();

    if (w == nullptr || !w->pool) {
        return send_error(r, api::custom_error("503", 503,
                                               "Database unavailable."));
    }

    std::shared_ptr<glue::RequestHold> hold = glue::RequestHold::take(r);

    try {
        run_held(w->pool.get(), hold, stmt, std::move(sql), std::move(params),
                 std::move(reply));

    } catch (...) {
        /* nothing was queued: the content handler's return finalizes r */
        hold->release();
        throw;
    }

    return NGX_DONE;
}

} // namespace


ngx_int_t
query(ngx_http_request_t *r, const db::Statement &stmt, db::Params params,
    Reply reply)
{
    return run(r, &stmt, std::string(), std::move(params), std::move(reply));
}


ngx_int_t
query_sql(ngx_http_request_t *r, std::string sql, db::Params params,
    Reply reply)
{
    return run(r, nullptr, std::move(sql), std::move(params),
               std::move(reply));
}


ngx_int_t
read_body(ngx_http_request_t *r, BodyHandler handler)
{
    auto *ctx = static_cast<BodyContext *>(
                             ngx_pcalloc(r->pool, sizeof(BodyContext)));
    if (ctx == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->handler = handler;
    ngx_http_set_ctx(r, ctx, ngx_http_webpush_module);

    r->request_body_in_single_buf = 1;

    ngx_int_t rc = ngx_http_read_client_request_body(r, body_read);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


ngx_int_t
send_document(ngx_http_request_t *r, ngx_uint_t status, std::string_view body)
{
    return send_reply(r, status, json_api_type, body);
}


ngx_int_t
send_errors(ngx_http_request_t *r, const api::ErrorList &errors)
{
    api::ErrorReply reply = api::render_errors(errors);
    return send_document(r, reply.status, reply.body);
}


ngx_int_t
send_error(ngx_http_request_t *r, api::Error error)
{
    return send_errors(r, api::ErrorList{std::move(error)});
}


ngx_int_t
internal_error(ngx_http_request_t *r, const db::Outcome &outcome)
{
    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "webpush: query failed: %s (SQLSTATE %s)",
                  outcome.error.c_str(), outcome.sqlstate.c_str());

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


std::string_view
to_view(const ngx_str_t &s)
{
    return std::string_view(reinterpret_cast<const char *>(s.data), s.len);
}


std::string
link_base(ngx_http_request_t *r, std::string_view type)
{
    std::string base;

#if (NGX_HTTP_SSL)
    base = r->connection->ssl ? "https://" : "http://";
#else
    base = "http://";
#endif

    if (r->headers_in.host != nullptr) {
        base.append(to_view(r->headers_in.host->value));

    } else {
        auto *cscf = static_cast<ngx_http_core_srv_conf_t *>(
                    ngx_http_get_module_srv_conf(r, ngx_http_core_module));
        base.append(to_view(cscf->server_name));
    }

    /* the URI up to the resource type: where the API is mounted */
    std::string_view uri = to_view(r->uri);
    size_t pos = uri.find(type);

    if (pos != std::string_view::npos && pos > 0) {
        base.append(uri.substr(0, pos - 1));
    }

    return base;
}

} // namespace webpush
