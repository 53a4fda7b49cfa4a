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
 * connection at a time.  An HTTP/2 transport implements the same three
 * calls for its streams.
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
};


std::unique_ptr<Transport> make_http1(HttpClient::Impl &impl);

} // namespace webpush::push
