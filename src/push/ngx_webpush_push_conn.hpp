/*
 * One connection to a push service (private to src/push/): the TCP
 * connection, its TLS and its place in the keep-alive pool.  Made and
 * closed by HttpClient::Impl (ngx_webpush_push_conn.cpp: connecting,
 * TLS handshake and certificate checks, session reuse, parking and
 * taking idle connections); the bytes on it are a Transport's.
 *
 * A Conn is heap-allocated, owns its ngx_connection_t and the
 * connection's pool, and is deleted when the connection closes.
 * c->data is always the Conn.
 */

#pragma once

#include "ngx.hpp"
#include "glue/ngx_webpush_list.hpp"
#include "push/ngx_webpush_push_client.hpp"

#include <memory>
#include <string>


namespace webpush::push {

constexpr size_t      conn_pool_size = 4096;
constexpr ngx_int_t   verify_depth = 10;

/*
 * A kept-alive connection is closed instead of parked after this many
 * requests or once it is this old, as nginx's own keepalive_requests
 * and keepalive_time (their defaults): a push service's load balancer
 * gets to move us, and no connection's TLS and memory state lives for
 * ever.  The request that reaches a limit is answered as usual.
 */
constexpr ngx_uint_t  max_conn_requests = 1000;
constexpr ngx_msec_t  max_conn_age = 3600000;   /* 1 h */


struct Addr {
    union {
        struct sockaddr      sa;
        struct sockaddr_in   sin;
#if (NGX_HAVE_INET6)
        struct sockaddr_in6  sin6;
#endif
    } u;
    socklen_t  len;
};


/* frees a cached session when the LRU evicts or replaces it */
struct SessionFree {
    void operator()(ngx_ssl_session_t *s) const noexcept
    {
        ngx_ssl_free_session(s);
    }
};

using Session = std::unique_ptr<ngx_ssl_session_t, SessionFree>;


enum class Phase {
    connecting,
    handshaking,
    sending,
    reading,
    idle,
    multiplexed,    /* HTTP/2: its exchanges are streams, ex is unused */
};


struct Exchange;
struct Conn;
class Transport;


/*
 * An HTTP/2 connection is retired (no new streams; closed once its
 * streams are answered) after this many streams, and carries at most
 * this many at once whatever the service allows.
 */
constexpr ngx_uint_t  max_h2_conn_requests = 100000;
constexpr size_t      max_h2_streams = 256;


/* one TCP connection to a push service */
struct Conn {
    HttpClient::Impl     *impl;
    glue::Link<Conn>      all;              /* Impl::conns_ */
    glue::Link<Conn>      idle;             /* Impl::idle_, when parked */
    glue::Link<Conn>      h2;               /* Impl::h2_, when multiplexed */
    glue::List<Exchange>  streams;          /* multiplexed: its exchanges */
    std::unique_ptr<Transport>  own;        /* a transport of its own
                                               (HTTP/2: the session) */
    ngx_log_t             log;              /* multiplexed: the origin's */
    ngx_connection_t     *c;
    std::string           key;
    std::string           peer_text;        /* "192.0.2.1:443" */
    bool                  tls;
    Phase                 phase = Phase::connecting;
    Exchange             *ex = nullptr;
    /* the HTTP/1.1 transport's, made by its first start() */
    ngx_http_request_t   *parser = nullptr; /* parser state only */
    ngx_buf_t            *buf = nullptr;    /* status line and headers */
    Transport            *transport;        /* speaks HTTP on it */
    ngx_uint_t            requests = 0;     /* exchanges attached so far */
    ngx_msec_t            born = 0;         /* when it was connected */
};


void on_handshake(ngx_connection_t *c) noexcept;
void on_save_session(ngx_connection_t *c) noexcept;
void close_orphan(ngx_connection_t *c) noexcept;

} // namespace webpush::push
