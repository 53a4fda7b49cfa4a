/*
 * A transport: how requests and responses travel on an open connection
 * (private to src/push/).  The exchange state machine
 * (ngx_webpush_push_client.cpp) resolves, connects and does TLS, then
 * hands the connection with its exchange to conn->transport; the
 * transport sends the request, reads the answer and ends the exchange
 * through the Impl: complete() (an answer, the connection parked or
 * closed), read_failure() (cut short after the headers), io_failure()
 * (a transport error: resent once on a fresh connection when a reused
 * one proved stale) or fail().  Event handlers reach it through
 * on_writable()/on_readable() while the connection is in
 * Phase::sending or Phase::reading.
 *
 * HTTP/1.1 (ngx_webpush_push_h1.cpp) carries one exchange per
 * connection at a time: conn->ex, sent by start().
 *
 * HTTP/2 (ngx_webpush_push_h2.cpp, chosen by ALPN) multiplexes: one
 * transport object per connection owns its nghttp2 session; start()
 * opens the session, add() puts an exchange on a new stream (it is
 * linked in conn->streams until it ends), cancel() resets the stream of
 * an exchange that ended otherwise (its deadline), room() says how many
 * more streams the connection takes now.  It ends exchanges through the
 * Impl as well: stream_end() (an answer or a reset stream), resend() (a
 * stream the service refused or never processed: sent again without
 * counting as an attempt), and closes its connection itself.  Sending
 * happens from the connection's write handler only (add() and cancel()
 * post it), never from inside nghttp2's callbacks.
 */

#pragma once

#include "push/ngx_webpush_push_conn.hpp"

#include <memory>


namespace webpush::push {

class Transport {
public:
    virtual ~Transport() = default;

    /* conn is open (TLS done) and attached to its exchange: send */
    virtual void start(Conn *conn) = 0;

    /* the connection's write event: more to send, or a send timeout */
    virtual void on_writable(Conn *conn) = 0;

    /* the connection's read event: the answer, or a read timeout */
    virtual void on_readable(Conn *conn) = 0;

    /* multiplexing transports only (HTTP/1.1: conn->ex alone) */

    /* streams the connection can open now */
    virtual size_t room(const Conn *) const noexcept { return 0; }

    /*
     * going away (GOAWAY, limits, an error: no new streams; the worker
     * shutting down: only those of exchanges it holds), closed once idle
     */
    virtual bool retiring(const Conn *) const noexcept { return false; }

    /* sends ex on a new stream of conn; throws if it cannot */
    virtual void add(Conn *, Exchange *) {}

    /* ex ended before its stream did: reset the stream, forget ex */
    virtual void cancel(Conn *, Exchange *) noexcept {}
};


std::unique_ptr<Transport> make_http1(HttpClient::Impl &impl);
std::unique_ptr<Transport> make_http2(HttpClient::Impl &impl, Conn *conn);

} // namespace webpush::push
