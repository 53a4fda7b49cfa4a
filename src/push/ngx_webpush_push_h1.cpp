/*
 * The HTTP/1.1 transport (see ngx_webpush_push_transport.hpp): one
 * exchange per connection at a time, the request written by
 * push::write_request() (wire.hpp) and sent whole, the answer parsed by
 * nginx's parsers, its framing decided by wire.hpp.
 *
 * Parser state: nginx's ngx_http_parse_status_line(),
 * ngx_http_parse_header_line() and ngx_http_parse_chunked() keep their
 * state in an ngx_http_request_t (state, http_major/minor,
 * header_name_start/end, header_start/end, lowcase_header, header_hash,
 * invalid_header) and the chunked parser logs through r->connection.
 * The client has no request, so each connection owns one zeroed
 * ngx_http_request_t in its pool as the parsers' state block, with only
 * r->connection set; it is zeroed again for each response and never
 * passed to any other nginx function.  Using nginx's parsers keeps the
 * client exactly as strict and as lenient as nginx's proxy module.
 *
 * The status line and headers must fit in one 16 KiB buffer (the
 * parsers keep pointers into it); body bytes are consumed as they come,
 * the first 1 KiB kept for logs, at most 64 KiB read (beyond that the
 * connection is not reused).  Everything read for one response is counted
 * too (response_limit): nginx's chunked parser skips chunk extensions
 * and trailers without a bound, so a service streaming an endless chunk
 * extension would otherwise never be done.
 */

#include "push/ngx_webpush_push_impl.hpp"

#include <algorithm>
#include <new>
#include <string_view>


namespace webpush::push {
namespace {

class Http1 final : public Transport {
public:
    explicit Http1(Impl &impl) : impl_(impl) {}

    void start(Conn *conn) override;
    void on_writable(Conn *conn) override;
    void on_readable(Conn *conn) override;

private:
    Parse process(Conn *conn);
    void header(Exchange *ex, ngx_http_request_t *r);
    bool keep(Exchange *ex, const u_char *p, off_t n);

    /* how an exchange ends: the Impl's (ngx_webpush_push_transport.hpp) */
    void fail(Exchange *ex, const std::string &error) noexcept
    {
        impl_.fail(ex, error);
    }

    void read_failure(Conn *conn, const std::string &error)
    {
        impl_.read_failure(conn, error);
    }

    void io_failure(Conn *conn, const std::string &error)
    {
        impl_.io_failure(conn, error);
    }

    void complete(Conn *conn) noexcept { impl_.complete(conn); }

    Impl  &impl_;
};


void
Http1::start(Conn *conn)
{
    ngx_connection_t *c = conn->c;
    Exchange *ex = conn->ex;

    if (conn->parser == nullptr) {
        /* the parsers' state and the header buffer, for the connection */
        conn->parser = static_cast<ngx_http_request_t *>(
                             ngx_pcalloc(c->pool, sizeof(ngx_http_request_t)));
        conn->buf = ngx_create_temp_buf(c->pool, header_buffer_size);

        if (conn->parser == nullptr || conn->buf == nullptr) {
            conn->parser = nullptr;
            throw std::bad_alloc();
        }
    }

    if (ex->out.empty()) {
        /* the headers were checked by post(): this cannot fail */
        std::string error = write_request(ex->req, ex->name,
                                          impl_.conf().keepalive != 0,
                                          ex->out);
        if (!error.empty()) {
            fail(ex, error);
            return;
        }
    }

    ngx_memzero(conn->parser, sizeof(ngx_http_request_t));
    conn->parser->connection = c;
    conn->buf->pos = conn->buf->start;
    conn->buf->last = conn->buf->start;

    ngx_memzero(&ex->status, sizeof(ngx_http_status_t));
    ngx_memzero(&ex->chunked, sizeof(ngx_http_chunked_t));
    ex->sent = 0;
    ex->got_bytes = false;
    ex->status_done = false;
    ex->headers_done = false;
    ex->body_known = false;
    ex->body = Body::none;
    ex->head = ResponseHead();
    ex->remaining = 0;
    ex->body_read = 0;
    ex->received = 0;
    ex->reusable = false;

    conn->phase = Phase::sending;
    set_action(conn->ex, "sending request to push service");

    ngx_add_timer(c->write, impl_.conf().timeout);

    on_writable(conn);
}


void
Http1::on_writable(Conn *conn)
{
    ngx_connection_t *c = conn->c;
    Exchange *ex = conn->ex;

    if (c->write->timedout) {
        c->timedout = 1;
        fail(ex, "timed out (sending the request to " + ex->peer_text + ")");
        return;
    }

    while (ex->sent < ex->out.size()) {
        ssize_t n = c->send(c,
                            reinterpret_cast<u_char *>(ex->out.data())
                                + ex->sent,
                            ex->out.size() - ex->sent);

        if (n == NGX_ERROR) {
            ngx_err_t err = ngx_socket_errno;
            io_failure(conn, "send() to " + ex->peer_text + " failed"
                             + (c->ssl ? std::string() : errno_text(err)));
            return;
        }

        if (n <= 0) {
            if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
                fail(ex, "send() failed (cannot wait for the socket)");
                return;
            }

            if (!c->write->timer_set) {
                ngx_add_timer(c->write, impl_.conf().timeout);
            }

            return;
        }

        ex->sent += n;
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (ngx_handle_write_event(c->write, 0) != NGX_OK) {
        fail(ex, "send() failed (cannot wait for the socket)");
        return;
    }

    conn->phase = Phase::reading;
    set_action(ex, "reading response from push service");

    ngx_add_timer(c->read, impl_.conf().timeout);

    on_readable(conn);
}


void
Http1::on_readable(Conn *conn)
{
    ngx_connection_t *c = conn->c;
    Exchange *ex = conn->ex;
    ngx_buf_t *b = conn->buf;

    if (c->read->timedout && input_waiting(c)) {
        c->read->timedout = 0;
    }

    if (c->read->timedout) {
        c->timedout = 1;

        std::string error = "timed out (reading the response from "
                            + ex->peer_text + ")";

        /*
         * Not a stale keepalive connection (that one fails at once): the
         * service has the request and is slow.  Sending it again would
         * duplicate the message and double webpush_timeout.
         */
        if (!ex->headers_done) {
            fail(ex, error);
            return;
        }

        read_failure(conn, error);
        return;
    }

    for ( ;; ) {
        if (ex->headers_done && b->pos == b->last) {
            b->pos = b->start;
            b->last = b->start;
        }

        if (b->last == b->end) {
            fail(ex, "malformed response: status line and headers exceed "
                     + std::to_string(header_buffer_size) + " bytes");
            return;
        }

        ssize_t n = c->recv(c, b->last, b->end - b->last);

        if (n == NGX_AGAIN) {
            if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
                fail(ex, "recv() failed (cannot wait for the socket)");
                return;
            }

            ngx_add_timer(c->read, impl_.conf().timeout);
            return;
        }

        if (n == NGX_ERROR) {
            ngx_err_t err = ngx_socket_errno;
            read_failure(conn, "recv() from " + ex->peer_text + " failed"
                               + (c->ssl ? std::string() : errno_text(err)));
            return;
        }

        if (n == 0) {
            if (ex->headers_done && ex->body == Body::until_close) {
                ex->reusable = false;
                complete(conn);
                return;
            }

            read_failure(conn, "connection closed prematurely by "
                               + ex->peer_text
                               + (ex->got_bytes
                                  ? " while reading the response"
                                  : " before any response"));
            return;
        }

        ex->got_bytes = true;
        ex->received += n;
        b->last += n;

        switch (process(conn)) {

        case Parse::more:
            if (ex->received > response_limit) {
                read_failure(conn, "response larger than "
                                   + std::to_string(response_limit)
                                   + " bytes from " + ex->peer_text);
                return;
            }

            break;

        case Parse::complete:
            complete(conn);
            return;

        case Parse::error:
            read_failure(conn, std::string("malformed response: ")
                               + ex->parse_error);
            return;
        }
    }
}


Parse
Http1::process(Conn *conn)
{
    Exchange *ex = conn->ex;
    ngx_buf_t *b = conn->buf;
    ngx_http_request_t *r = conn->parser;
    ngx_int_t rc;

    while (!ex->headers_done) {

        if (!ex->status_done) {
            rc = ngx_http_parse_status_line(r, b, &ex->status);

            if (rc == NGX_AGAIN) {
                return Parse::more;
            }

            if (rc != NGX_OK) {
                ex->parse_error = "invalid status line";
                return Parse::error;
            }

            ex->status_done = true;
        }

        rc = ngx_http_parse_header_line(r, b, 1);

        if (rc == NGX_OK) {
            if (!r->invalid_header) {
                header(ex, r);

                if (*ex->parse_error) {
                    return Parse::error;
                }
            }

            continue;
        }

        if (rc == NGX_AGAIN) {
            return Parse::more;
        }

        if (rc != NGX_HTTP_PARSE_HEADER_DONE) {
            ex->parse_error = "invalid header line";
            return Parse::error;
        }

        if (push::interim(ex->status.code)) {
            /* the final response follows */
            ngx_memzero(&ex->status, sizeof(ngx_http_status_t));
            ex->status_done = false;
            ex->head = push::ResponseHead();
            continue;
        }

        ex->headers_done = true;
    }

    if (!ex->body_known) {
        push::Framing f = push::decide_framing(ex->status.code,
                                               ex->status.http_version,
                                               ex->head);

        ex->body_known = true;
        ex->body = f.body;
        ex->remaining = f.length;
        ex->reusable = f.reusable;
    }

    switch (ex->body) {

    case Body::none:
        break;

    case Body::length: {
        off_t n = std::min<off_t>(ex->remaining, b->last - b->pos);

        if (!keep(ex, b->pos, n)) {
            ex->reusable = false;
            return Parse::complete;
        }

        b->pos += n;
        ex->remaining -= n;

        if (ex->remaining > 0) {
            return Parse::more;
        }

        break;
    }

    case Body::chunked:
        for ( ;; ) {
#if (nginx_version >= 1027002)
            /* keep_trailers 0: trailers are skipped, as before 1.27.2 */
            rc = ngx_http_parse_chunked(r, b, &ex->chunked, 0);
#else
            rc = ngx_http_parse_chunked(r, b, &ex->chunked);
#endif

            if (rc == NGX_OK) {
                off_t n = std::min<off_t>(ex->chunked.size, b->last - b->pos);

                if (!keep(ex, b->pos, n)) {
                    ex->reusable = false;
                    return Parse::complete;
                }

                b->pos += n;
                ex->chunked.size -= n;
                continue;
            }

            if (rc == NGX_DONE) {
                break;
            }

            if (rc == NGX_AGAIN) {
                return Parse::more;
            }

            ex->parse_error = "invalid chunked body";
            return Parse::error;
        }

        break;

    case Body::until_close:
        if (!keep(ex, b->pos, b->last - b->pos)) {
            return Parse::complete;
        }

        b->pos = b->last;
        return Parse::more;
    }

    if (b->pos != b->last) {
        /* bytes after the response: nothing we could pair them with */
        ex->reusable = false;
    }

    return Parse::complete;
}


void
Http1::header(Exchange *ex, ngx_http_request_t *r)
{
    std::string_view name(reinterpret_cast<char *>(r->header_name_start),
                          r->header_name_end - r->header_name_start);
    std::string_view value(reinterpret_cast<char *>(r->header_start),
                           r->header_end - r->header_start);

    push::Kept kept;

    const char *error = ex->head.add(name, value, &kept);

    if (error != nullptr) {
        ex->parse_error = error;
        return;
    }

    keep_field(ex->resp, kept, value);
}


/* takes n body bytes; false once more than body_limit were read */
bool
Http1::keep(Exchange *ex, const u_char *p, off_t n)
{
    std::string &body = ex->resp.body;

    if (body.size() < body_kept) {
        size_t take = std::min<size_t>(body_kept - body.size(),
                                       static_cast<size_t>(n));
        body.append(reinterpret_cast<const char *>(p), take);
    }

    ex->body_read += n;

    return ex->body_read <= body_limit;
}

} // namespace


std::unique_ptr<Transport>
make_http1(HttpClient::Impl &impl)
{
    return std::make_unique<Http1>(impl);
}

} // namespace webpush::push
