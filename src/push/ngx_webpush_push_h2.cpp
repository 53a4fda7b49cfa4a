/*
 * The HTTP/2 transport (see ngx_webpush_push_transport.hpp): one object
 * per connection, owning its nghttp2 client session.  nghttp2 frames,
 * does HPACK, flow control and the stream states; the socket and TLS
 * stay nginx's: bytes go in with nghttp2_session_mem_recv() from the
 * read handler and out with nghttp2_session_mem_send() from the write
 * handler (add() and cancel() only submit and post the write event), so
 * nghttp2 is never entered from its own callbacks.
 *
 * Streams: each exchange is one stream, its stream user data; a stream
 * the exchange left (cancel(), its deadline) has none and is forgotten.
 * A stream that closes
 *   NO_ERROR with a final status         the answer;
 *   REFUSED_STREAM before any byte       sent again (Impl::resend());
 *                                        nghttp2 closes the streams above
 *                                        a GOAWAY's last stream id so too
 *   with another error code              a reset: status 0 before the
 *                                        headers, else the status stands.
 * A connection error (read, write, EOF, a protocol error, no byte for
 * webpush_timeout while streams are open) ends every stream on it the
 * same way, but those above a GOAWAY's last stream id (never processed)
 * and those that were the first on an idle connection and got no byte
 * (a connection the service had just dropped, as HTTP/1.1's stale
 * keep-alive connection) are sent again.
 *
 * Idle (no stream): the connection is reusable in nginx's sense, sends
 * PING every h2_ping_interval (an unanswered PING within webpush_timeout
 * closes it) and closes after webpush's keep-alive timeout.  It retires
 * (no new stream, closed once idle) after a GOAWAY, max_h2_conn_requests
 * streams, max_conn_age, or when the worker exits (then it still takes
 * the streams of exchanges the worker holds: it takes no new work).
 */

#include "push/ngx_webpush_push_h2.hpp"

#include <algorithm>
#include <climits>
#include <new>
#include <stdexcept>


namespace webpush::push {

namespace {

constexpr size_t  recv_buffer_size = 16384;
constexpr size_t  send_batch_size = 16384;     /* frames per send() */

u_char *conn_log_handler(ngx_log_t *log, u_char *buf, size_t len) noexcept;

} // namespace


Http2::Http2(Impl &impl, Conn *conn) : impl_(impl), conn_(conn)
{
    nghttp2_option *opt;

    if (nghttp2_option_new(&opt) != 0) {
        throw std::bad_alloc();
    }

    /* until the service's SETTINGS: as many as Impl assumes */
    nghttp2_option_set_peer_max_concurrent_streams(opt, assumed_streams);

    nghttp2_session *session;

    int rc = nghttp2_session_client_new2(&session, callbacks(), this, opt);

    nghttp2_option_del(opt);

    if (rc != 0) {
        throw std::bad_alloc();
    }

    session_.reset(session);
}


const nghttp2_session_callbacks *
Http2::callbacks()
{
    struct Holder {
        nghttp2_session_callbacks  *cbs = nullptr;

        Holder()
        {
            if (nghttp2_session_callbacks_new(&cbs) != 0) {
                throw std::bad_alloc();
            }

            nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
            nghttp2_session_callbacks_set_on_frame_recv_callback(cbs,
                                                                 on_frame);
            nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
                cbs, on_data);
            nghttp2_session_callbacks_set_on_stream_close_callback(cbs,
                                                                   on_close);
            nghttp2_session_callbacks_set_error_callback2(cbs, on_error);
        }

        ~Holder() { nghttp2_session_callbacks_del(cbs); }
    };

    static Holder  holder;

    return holder.cbs;
}


/* the connection preface and our SETTINGS; the first stream follows */
void
Http2::start(Conn *conn)
{
    ngx_connection_t *c = conn->c;

    in_ = static_cast<u_char *>(ngx_palloc(c->pool, recv_buffer_size));

    if (in_ == nullptr) {
        throw std::bad_alloc();
    }

    conn->log = *c->log;
    conn->log.handler = conn_log_handler;
    conn->log.data = conn;
    conn->log.action = const_cast<char *>("talking HTTP/2 to push service");

    c->log = &conn->log;
    c->read->log = &conn->log;
    c->write->log = &conn->log;
    c->pool->log = &conn->log;

    /* no server push; answers are small, headers as HTTP/1.1's limit */
    nghttp2_settings_entry iv[] = {
        { NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
        { NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, header_buffer_size },
    };

    int rc = nghttp2_submit_settings(session_.get(), NGHTTP2_FLAG_NONE, iv,
                                     sizeof(iv) / sizeof(iv[0]));

    if (rc != 0) {
        throw std::runtime_error(std::string("HTTP/2: ")
                                 + nghttp2_strerror(rc));
    }

    post_write();
}


size_t
Http2::room(const Conn *conn) const noexcept
{
    /*
     * Not retiring(): a worker shutting down takes no new work (the
     * sender pops nothing more), but what it holds may still wait for a
     * stream (refused, beyond the streams of the connections open): it
     * goes on those rather than on a new connection each, opened one
     * after another, where it could outlast its deadline after the
     * service had it, and be retried.  They still close once idle.
     */
    if (worn(conn)) {
        return 0;
    }

    size_t cap = std::min<size_t>(
                     nghttp2_session_get_remote_settings(
                         session_.get(),
                         NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS),
                     max_h2_streams);

    size_t open = conn->streams.size();

    return cap > open ? cap - open : 0;
}


bool
Http2::retiring(const Conn *conn) const noexcept
{
    return ngx_exiting || ngx_terminate || worn(conn);
}


bool
Http2::worn(const Conn *conn) const noexcept
{
    return failed_ || goaway_
           || conn->requests >= max_h2_conn_requests
           || ngx_current_msec - conn->born >= max_conn_age
           || nghttp2_session_get_next_stream_id(session_.get())
              >= static_cast<uint32_t>(INT32_MAX) - 2;
}


void
Http2::add(Conn *conn, Exchange *ex)
{
    std::vector<Field> fields;

    std::string error = request_fields(ex->req, ex->name, fields);

    if (!error.empty()) {
        throw std::runtime_error(error);
    }

    std::vector<nghttp2_nv> nv;
    nv.reserve(fields.size());

    for (auto &f : fields) {
        nghttp2_nv  one;

        one.name = reinterpret_cast<uint8_t *>(f.first.data());
        one.namelen = f.first.size();
        one.value = reinterpret_cast<uint8_t *>(f.second.data());
        one.valuelen = f.second.size();
        one.flags = NGHTTP2_NV_FLAG_NONE;      /* nghttp2 copies them */
        nv.push_back(one);
    }

    nghttp2_data_provider  body;

    body.source.ptr = nullptr;
    body.read_callback = read_body;

    int32_t id = nghttp2_submit_request(session_.get(), nullptr, nv.data(),
                                        nv.size(), &body, ex);

    if (id < 0) {
        throw std::runtime_error(std::string("HTTP/2: cannot open a stream: ")
                                 + nghttp2_strerror(id));
    }

    ex->stream_id = id;
    ex->conn = conn;
    ex->sent = 0;
    ex->got_bytes = false;
    ex->status_done = false;
    ex->headers_done = false;
    ex->status.code = 0;
    ex->head = ResponseHead();
    ex->body_read = 0;
    ex->resp.body.clear();

    conn->streams.push_back(ex->stream, ex);
    conn->requests++;

    set_action(ex, "waiting for the push service's HTTP/2 answer");

    busy();
    post_write();
}


void
Http2::cancel(Conn *conn, Exchange *ex) noexcept
{
    conn->streams.remove(ex->stream);
    ex->conn = nullptr;

    if (!failed_
        && nghttp2_session_set_stream_user_data(session_.get(),
                                                ex->stream_id, nullptr)
           == 0)
    {
        (void) nghttp2_submit_rst_stream(session_.get(), NGHTTP2_FLAG_NONE,
                                         ex->stream_id, NGHTTP2_CANCEL);
        post_write();
    }

    impl_.wake();
}


void
Http2::on_writable(Conn *conn)
{
    ngx_connection_t *c = conn->c;

    try {
        if (c->write->timedout) {
            c->timedout = 1;
            failure("timed out (sending to " + conn->peer_text + ")");
            return;
        }

        if (!flush()) {
            return;
        }

        settle();

    } catch (...) {
        failure("out of memory");
    }
}


void
Http2::on_readable(Conn *conn)
{
    ngx_connection_t *c = conn->c;

    try {
        if (c->close) {
            /* nginx wants it back: shutting down, out of connections */
            failure("connection closed by nginx");
            return;
        }

        if (c->read->timedout) {
            c->read->timedout = 0;

            if (conn->streams.empty()) {
                idle_timeout();
                return;
            }

            if (!input_waiting(c)) {
                c->timedout = 1;
                failure("timed out (reading the response from "
                        + conn->peer_text + ")");
                return;
            }
        }

        bool got = false;

        for ( ;; ) {
            ssize_t n = c->recv(c, in_, recv_buffer_size);

            if (n == NGX_AGAIN) {
                break;
            }

            if (n == 0) {
                failure("connection closed prematurely by "
                        + conn->peer_text);
                return;
            }

            if (n == NGX_ERROR) {
                ngx_err_t err = ngx_socket_errno;
                failure("recv() from " + conn->peer_text + " failed"
                        + (c->ssl ? std::string() : errno_text(err)));
                return;
            }

            got = true;

            ssize_t rv = nghttp2_session_mem_recv(session_.get(), in_, n);

            if (rv < 0) {
                failure("HTTP/2 error with " + conn->peer_text + ": "
                        + nghttp2_strerror(static_cast<int>(rv)));
                return;
            }
        }

        if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
            failure("recv() failed (cannot wait for the socket)");
            return;
        }

        if (got && !conn->streams.empty()) {
            ngx_add_timer(c->read, impl_.conf().timeout);
        }

        if (!flush()) {
            return;
        }

        settle();

    } catch (...) {
        failure("out of memory");
    }
}


/* writes what nghttp2 has to send; false: the connection failed */
bool
Http2::flush()
{
    ngx_connection_t *c = conn_->c;

    for ( ;; ) {
        if (out_pos_ == out_.size()) {
            out_.clear();
            out_pos_ = 0;

            while (out_.size() < send_batch_size) {
                const uint8_t *data;

                ssize_t n = nghttp2_session_mem_send(session_.get(), &data);

                if (n < 0) {
                    failure(std::string("HTTP/2 error: ")
                            + nghttp2_strerror(static_cast<int>(n)));
                    return false;
                }

                if (n == 0) {
                    break;
                }

                out_.append(reinterpret_cast<const char *>(data), n);
            }

            if (out_.empty()) {
                break;
            }
        }

        /* an unfinished TLS write is retried with the same bytes */
        ssize_t n = c->send(c,
                            reinterpret_cast<u_char *>(out_.data())
                                + out_pos_,
                            out_.size() - out_pos_);

        if (n == NGX_ERROR) {
            ngx_err_t err = ngx_socket_errno;
            failure("send() to " + conn_->peer_text + " failed"
                    + (c->ssl ? std::string() : errno_text(err)));
            return false;
        }

        if (n <= 0) {
            if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
                failure("send() failed (cannot wait for the socket)");
                return false;
            }

            if (!c->write->timer_set) {
                ngx_add_timer(c->write, impl_.conf().timeout);
            }

            return true;
        }

        out_pos_ += n;
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        failure("send() failed (cannot wait for the socket)");
        return false;
    }

    return true;
}


/* after I/O: idle, retired, or done with */
void
Http2::settle()
{
    ngx_connection_t *c = conn_->c;

    if (!conn_->streams.empty()) {
        return;
    }

    bool done = !nghttp2_session_want_read(session_.get())
                && !nghttp2_session_want_write(session_.get());

    if (done || retiring(conn_) || impl_.conf().keepalive == 0) {
        close(!done);
        return;
    }

    if (c->idle) {
        return;
    }

    /* idle: nginx may take it back, and it never delays a shutdown */
    c->idle = 1;
    ngx_reusable_connection(c, 1);
    c->read->cancelable = 1;

    idle_since_ = ngx_current_msec;
    ping_sent_ = false;

    ngx_add_timer(c->read, std::min(h2_ping_interval,
                                    impl_.conf().keepalive_timeout));
}


/* the read timer of an idle connection: PING, or its time is up */
void
Http2::idle_timeout()
{
    ngx_connection_t *c = conn_->c;
    ngx_msec_t idle = ngx_current_msec - idle_since_;
    ngx_msec_t keepalive = impl_.conf().keepalive_timeout;

    if (ping_sent_ || idle >= keepalive) {
        close(!ping_sent_);
        return;
    }

    if (nghttp2_submit_ping(session_.get(), NGHTTP2_FLAG_NONE, nullptr)
        != 0)
    {
        close(false);
        return;
    }

    ping_sent_ = true;

    ngx_add_timer(c->read, std::min(impl_.conf().timeout, keepalive - idle));

    if (!flush()) {
        return;
    }
}


/* a stream was added: the connection is busy again */
void
Http2::busy() noexcept
{
    ngx_connection_t *c = conn_->c;

    if (c->idle) {
        c->idle = 0;
        ngx_reusable_connection(c, 0);
        c->read->cancelable = 0;
        ngx_add_timer(c->read, impl_.conf().timeout);

    } else if (!c->read->timer_set) {
        ngx_add_timer(c->read, impl_.conf().timeout);
    }
}


/* no stream is left: a GOAWAY when graceful, then the Impl closes us */
void
Http2::close(bool graceful) noexcept
{
    if (graceful && !failed_
        && nghttp2_session_terminate_session(session_.get(),
                                             NGHTTP2_NO_ERROR)
           == 0)
    {
        try {
            if (!flush()) {
                return;
            }

        } catch (...) {
            /* closed without the GOAWAY */
        }
    }

    failed_ = true;

    impl_.close_conn(conn_, graceful);    /* deletes this */
}


/*
 * The connection failed: every stream on it ends (sent again when the
 * service never processed it or the connection was stale), then the
 * connection closes.  "this" is gone when it returns.
 */
void
Http2::failure(const std::string &error) noexcept
{
    if (failed_) {
        return;
    }

    failed_ = true;

    if (!conn_->streams.empty()) {
        ngx_log_error(NGX_LOG_INFO, &conn_->log, 0,
                      "HTTP/2 connection failed with %uz streams open: %s",
                      conn_->streams.size(), error.c_str());
    }

    while (!conn_->streams.empty()) {
        Exchange *ex = conn_->streams.front();

        leave(ex);

        bool unprocessed = goaway_ && ex->stream_id > goaway_last_;
        bool stale = ex->after_idle && !ex->retried;

        if (!ex->got_bytes && (unprocessed || stale)) {
            if (!unprocessed) {
                ex->retried = true;
            }

            impl_.resend(ex, false);
            continue;
        }

        impl_.stream_end(ex, error);
    }

    impl_.close_conn(conn_, false);    /* deletes this */
}


void
Http2::post_write() noexcept
{
    ngx_event_t *wev = conn_->c->write;

    if (!wev->posted) {
        ngx_post_event(wev, &ngx_posted_events);
    }
}


namespace {

/* a multiplexed connection's log: its origin and peer */
u_char *
conn_log_handler(ngx_log_t *log, u_char *buf, size_t len) noexcept
{
    auto *conn = static_cast<Conn *>(log->data);

    return log_context(log, buf, len, conn->key, conn->peer_text);
}

} // namespace


std::unique_ptr<Transport>
make_http2(HttpClient::Impl &impl, Conn *conn)
{
    return std::make_unique<Http2>(impl, conn);
}

} // namespace webpush::push
