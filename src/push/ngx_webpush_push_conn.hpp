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


/* an intrusive doubly linked list: linking never allocates */
template <typename T>
struct Hook {
    Hook  *prev = nullptr;
    Hook  *next = nullptr;
    T     *owner = nullptr;

    bool linked() const noexcept { return prev != nullptr; }
};


template <typename T>
class List {
public:
    List() noexcept { head_.prev = head_.next = &head_; }

    List(const List &) = delete;
    List &operator=(const List &) = delete;

    bool empty() const noexcept { return head_.next == &head_; }
    size_t size() const noexcept { return size_; }

    T *front() const noexcept { return empty() ? nullptr : head_.next->owner; }
    T *back() const noexcept { return empty() ? nullptr : head_.prev->owner; }

    void
    push_front(Hook<T> &h, T *owner) noexcept
    {
        h.owner = owner;
        h.prev = &head_;
        h.next = head_.next;
        head_.next->prev = &h;
        head_.next = &h;
        size_++;
    }

    void
    push_back(Hook<T> &h, T *owner) noexcept
    {
        h.owner = owner;
        h.next = &head_;
        h.prev = head_.prev;
        head_.prev->next = &h;
        head_.prev = &h;
        size_++;
    }

    void
    remove(Hook<T> &h) noexcept
    {
        h.prev->next = h.next;
        h.next->prev = h.prev;
        h.prev = nullptr;
        h.next = nullptr;
        size_--;
    }

    /* calls f(T *) for each element, front to back; f may not unlink */
    template <typename F>
    T *
    find(F f) const
    {
        for (Hook<T> *h = head_.next; h != &head_; h = h->next) {
            if (f(h->owner)) {
                return h->owner;
            }
        }

        return nullptr;
    }

private:
    Hook<T>  head_;
    size_t   size_ = 0;
};


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
};


struct Exchange;
struct Conn;
class Transport;


/* a Conn's link in the IdlePool (standard layout for ngx_queue_data) */
struct IdleLink {
    ngx_queue_t   queue;
    Conn         *conn = nullptr;     /* nullptr: not parked */

    bool linked() const noexcept { return conn != nullptr; }
};


/* one TCP connection to a push service */
struct Conn {
    HttpClient::Impl     *impl;
    Hook<Conn>            all;              /* Impl::conns_ */
    IdleLink              idle;             /* Impl::idle_, when parked */
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


/*
 * The keep-alive pool: parked connections on an ngx_queue_t, the most
 * recently parked first (reuse takes the warmest one, the limit closes
 * the coldest).  Linking never allocates.
 */
class IdlePool {
public:
    IdlePool() noexcept { ngx_queue_init(&head_); }

    IdlePool(const IdlePool &) = delete;
    IdlePool &operator=(const IdlePool &) = delete;

    bool empty() const noexcept { return size_ == 0; }
    size_t size() const noexcept { return size_; }

    void push_front(Conn *conn) noexcept;
    void remove(Conn *conn) noexcept;

    /* the least recently parked one, nullptr when empty */
    Conn *oldest() noexcept;

    /* the most recently parked one for this origin key, or nullptr */
    Conn *find(const std::string &key) noexcept;

private:
    ngx_queue_t  head_;
    size_t       size_ = 0;
};


void on_handshake(ngx_connection_t *c) noexcept;
void on_save_session(ngx_connection_t *c) noexcept;
void close_orphan(ngx_connection_t *c) noexcept;

} // namespace webpush::push
