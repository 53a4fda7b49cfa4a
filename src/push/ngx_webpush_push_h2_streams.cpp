/*
 * The HTTP/2 transport's streams (see ngx_webpush_push_h2.cpp): nghttp2's
 * callbacks, run from inside nghttp2_session_mem_recv() and
 * nghttp2_session_mem_send().  They only record and end exchanges (an
 * ended exchange's callback runs later, from a posted event); sending and
 * closing the connection happen after nghttp2 returns.
 */

#include "push/ngx_webpush_push_h2.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>


namespace webpush::push {

Exchange *
Http2::exchange(int32_t id) const noexcept
{
    return static_cast<Exchange *>(
               nghttp2_session_get_stream_user_data(session_.get(), id));
}


/* the exchange is no longer on its stream */
void
Http2::leave(Exchange *ex) noexcept
{
    if (ex->stream.linked()) {
        conn_->streams.remove(ex->stream);
    }

    ex->conn = nullptr;

    if (!failed_) {
        (void) nghttp2_session_set_stream_user_data(session_.get(),
                                                    ex->stream_id, nullptr);
    }

    impl_.wake();
}


void
Http2::stream_closed(Exchange *ex, uint32_t error_code)
{
    leave(ex);

    if (error_code == NGHTTP2_NO_ERROR) {
        if (!ex->headers_done) {
            impl_.fail(ex, "malformed response: the HTTP/2 stream ended "
                           "without a final status");
            return;
        }

        impl_.stream_end(ex, std::string());
        return;
    }

    if (error_code == NGHTTP2_REFUSED_STREAM && !ex->got_bytes) {
        /*
         * Not processed (RFC 9113 8.7): safe to send again.  nghttp2
         * closes the streams above a GOAWAY's last stream id so too;
         * those were not refused, the connection went away.
         */
        impl_.resend(ex, !(goaway_ && ex->stream_id > goaway_last_));
        return;
    }

    impl_.stream_end(ex, "HTTP/2 stream reset by " + conn_->peer_text + " ("
                         + nghttp2_http2_strerror(error_code) + ")");
}


int
Http2::on_header(nghttp2_session *, const nghttp2_frame *frame,
    const uint8_t *name, size_t namelen, const uint8_t *value,
    size_t valuelen, uint8_t, void *user) noexcept
{
    auto *h2 = static_cast<Http2 *>(user);

    if (frame->hd.type != NGHTTP2_HEADERS) {
        return 0;
    }

    Exchange *ex = h2->exchange(frame->hd.stream_id);

    if (ex == nullptr) {
        return 0;
    }

    ex->got_bytes = true;

    std::string_view n(reinterpret_cast<const char *>(name), namelen);
    std::string_view v(reinterpret_cast<const char *>(value), valuelen);

    if (n == ":status") {
        /* nghttp2 checked it: three digits */
        unsigned code = 0;

        for (char ch : v) {
            code = code * 10 + (ch - '0');
        }

        if (!interim(code)) {
            ex->status.code = code;
            ex->status_done = true;
        }

        return 0;
    }

    if (!ex->status_done || ex->headers_done) {
        /* an interim response's fields, or trailers */
        return 0;
    }

    Kept kept = Kept::none;

    /* framing is nghttp2's: only what the caller keeps matters here */
    (void) ex->head.add(n, v, &kept);

    try {
        keep_field(ex->resp, kept, v);

    } catch (...) {
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }

    return 0;
}


int
Http2::on_frame(nghttp2_session *, const nghttp2_frame *frame,
    void *user) noexcept
{
    auto *h2 = static_cast<Http2 *>(user);

    switch (frame->hd.type) {

    case NGHTTP2_HEADERS: {
        Exchange *ex = h2->exchange(frame->hd.stream_id);

        if (ex != nullptr && ex->status_done) {
            ex->headers_done = true;
        }

        break;
    }

    case NGHTTP2_SETTINGS:
        /* the stream limit may have changed */
        h2->impl_.wake();
        break;

    case NGHTTP2_GOAWAY:
        h2->goaway_ = true;
        h2->goaway_last_ = frame->goaway.last_stream_id;

        ngx_log_error(NGX_LOG_INFO, &h2->conn_->log, 0,
                      "push service sent GOAWAY (%s), last stream %D",
                      nghttp2_http2_strerror(frame->goaway.error_code),
                      frame->goaway.last_stream_id);

        h2->impl_.wake();
        break;

    case NGHTTP2_PING:
        if (frame->hd.flags & NGHTTP2_FLAG_ACK) {
            h2->ping_sent_ = false;

            ngx_connection_t *c = h2->conn_->c;

            if (c->idle) {
                ngx_msec_t keepalive = h2->impl_.conf().keepalive_timeout;
                ngx_msec_t idle = ngx_current_msec - h2->idle_since_;

                ngx_add_timer(c->read, std::min(h2_ping_interval,
                                                keepalive > idle
                                                ? keepalive - idle : 1));
            }
        }

        break;
    }

    return 0;
}


int
Http2::on_data(nghttp2_session *session, uint8_t, int32_t id,
    const uint8_t *data, size_t len, void *user) noexcept
{
    auto *h2 = static_cast<Http2 *>(user);
    Exchange *ex = h2->exchange(id);

    if (ex == nullptr) {
        return 0;
    }

    ex->got_bytes = true;

    try {
        std::string &body = ex->resp.body;

        if (body.size() < body_kept) {
            body.append(reinterpret_cast<const char *>(data),
                        std::min(body_kept - body.size(), len));
        }

        ex->body_read += len;

        if (ex->body_read > body_limit) {
            (void) nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id,
                                             NGHTTP2_CANCEL);
            h2->leave(ex);
            h2->impl_.stream_end(ex, "response larger than "
                                     + std::to_string(body_limit)
                                     + " bytes from "
                                     + h2->conn_->peer_text);
        }

    } catch (...) {
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }

    return 0;
}


int
Http2::on_close(nghttp2_session *, int32_t id, uint32_t error_code,
    void *user) noexcept
{
    auto *h2 = static_cast<Http2 *>(user);
    Exchange *ex = h2->exchange(id);

    if (ex == nullptr) {
        return 0;
    }

    try {
        h2->stream_closed(ex, error_code);

    } catch (...) {
        h2->impl_.fail(ex, "out of memory");
    }

    return 0;
}


ssize_t
Http2::read_body(nghttp2_session *, int32_t id, uint8_t *buf, size_t length,
    uint32_t *data_flags, nghttp2_data_source *, void *user) noexcept
{
    auto *h2 = static_cast<Http2 *>(user);
    Exchange *ex = h2->exchange(id);

    if (ex == nullptr) {
        /* left meanwhile: nghttp2 resets the stream */
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }

    const std::string &body = ex->req.body;
    size_t n = std::min(length, body.size() - ex->sent);

    std::memcpy(buf, body.data() + ex->sent, n);
    ex->sent += n;

    if (ex->sent == body.size()) {
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    }

    return static_cast<ssize_t>(n);
}

/* why nghttp2 ends the session (or a stream): for the error log */
int
Http2::on_error(nghttp2_session *, int, const char *msg, size_t len,
    void *user) noexcept
{
    auto *h2 = static_cast<Http2 *>(user);

    ngx_log_error(NGX_LOG_INFO, &h2->conn_->log, 0, "HTTP/2: %*s", len,
                  msg);

    return 0;
}

} // namespace webpush::push
