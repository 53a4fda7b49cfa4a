/*
 * The push client: the exchange state machine and resolving (see
 * ngx_webpush_push_client.hpp for the contract).
 *
 * Shape, after nginx's own clients without a client request (the OCSP
 * responder client in ngx_event_openssl_stapling.c, njs's ngx_js_http.c)
 * and the upstream module's TLS code:
 *
 *   post() -> idle connection for the origin?  -> send
 *          -> IP literal / cached name / ngx_resolve_name()
 *          -> ngx_event_connect_peer() per address, SO_ERROR check
 *          -> ngx_ssl_create_connection() + SNI + session, ngx_ssl_handshake()
 *          -> verify result + host name
 *          -> send the request -> parse status line, headers, body
 *          -> park the connection or close it -> callback (posted event)
 *
 * Resolving is here; connecting, TLS and the keep-alive pool in
 * ngx_webpush_push_conn.cpp; sending and parsing in the connection's
 * Transport (ngx_webpush_push_h1.cpp for HTTP/1.1).
 *
 * Ownership: see ngx_webpush_push_impl.hpp (Exchange) and
 * ngx_webpush_push_conn.hpp (Conn).
 *
 * Caches (names, TLS sessions) are LRU (util/lru.hpp): endpoint host
 * names are chosen by subscribers within the allow-list's wildcards, and
 * a flood of one-off names must not evict the push services in use.
 */

#include "push/ngx_webpush_push_impl.hpp"

#include <sys/ioctl.h>

#include <algorithm>
#include <exception>
#include <new>
#include <string_view>
#include <utility>


namespace webpush::push {

/* " (111: Connection refused)", as nginx writes errno */
std::string
errno_text(ngx_err_t err)
{
    if (err == 0) {
        return std::string();
    }

    u_char  buf[NGX_MAX_ERROR_STR];

    u_char *last = ngx_strerror(err, buf, sizeof(buf));

    return " (" + std::to_string(err) + ": "
           + std::string(reinterpret_cast<char *>(buf), last - buf) + ")";
}


bool
input_waiting(ngx_connection_t *c) noexcept
{
    int  n = 0;

    if (c->ssl != nullptr && SSL_pending(c->ssl->connection) > 0) {
        n = 1;

    } else if (ioctl(c->fd, FIONREAD, &n) == -1) {
        return false;
    }

    if (n <= 0) {
        return false;
    }

    /* as ngx_epoll_process_events() marks a readable socket */
    c->read->ready = 1;
    c->read->available = -1;

    ngx_log_error(NGX_LOG_INFO, c->log, 0,
                  "timer fired with the answer unread in the socket "
                  "(the worker was stalled): reading it");
    return true;
}


std::string
addr_text(const Addr &a)
{
    u_char  buf[NGX_SOCKADDR_STRLEN];

    size_t len = ngx_sock_ntop(const_cast<struct sockaddr *>(&a.u.sa), a.len,
                               buf, NGX_SOCKADDR_STRLEN, 1);

    return std::string(reinterpret_cast<char *>(buf), len);
}


ngx_str_t
as_ngx_str(std::string &s)
{
    ngx_str_t  str;

    str.len = s.size();
    str.data = reinterpret_cast<u_char *>(s.data());

    return str;
}


void
set_action(Exchange *ex, const char *action)
{
    ex->log.action = const_cast<char *>(action);
}


void
keep_field(PushResponse &resp, Kept kept, std::string_view value)
{
    std::string *field = nullptr;

    switch (kept) {

    case Kept::retry_after:
        field = &resp.retry_after;
        break;

    case Kept::location:
        field = &resp.location;
        break;

    case Kept::wns_status:
        field = &resp.wns_status;
        break;

    case Kept::wns_error:
        field = &resp.wns_error;
        break;

    case Kept::none:
        break;
    }

    if (field != nullptr) {
        field->assign(value.substr(0, header_value_limit));
    }
}


namespace {

u_char *log_handler(ngx_log_t *log, u_char *buf, size_t len) noexcept;
void on_resolved(ngx_resolver_ctx_t *ctx) noexcept;

} // namespace


Impl::Impl(const HttpClientConfig &conf)
    : conf_(conf), log_(conf.log ? conf.log : ngx_cycle->log),
      deliver_ev_(log_, "push callbacks", [this]() { deliver(); }),
      h1_(make_http1(*this)),
      drain_ev_(log_, "push streams", [this]() { drain(); })
{
    /* none: only globally reachable addresses */
    if (conf.push_hosts != nullptr) {
        policy_ = push::AddressPolicy(*conf.push_hosts);
    }

    /* read once: the pointer need not outlive the constructor */
    conf_.push_hosts = nullptr;
}


Impl::~Impl()
{
    destroying_ = true;

    deliver_ev_.cancel();
    drain_ev_.cancel();

    /* callbacks run from deliver() may post() more: those abort too */
    while (!active_.empty() || done_head_ != nullptr) {
        active_.find([this](Exchange *ex) {
            if (!ex->finished) {
                fail(ex, "aborted");
            }
            return false;
        });

        deliver();
    }

    while (!conns_.empty()) {
        close_conn(conns_.front(), false);
    }

    /* sessions_ frees the cached TLS sessions */
}


void
Impl::post(PushRequest req, Callback done)
{
    auto *ex = new Exchange();

    ex->impl = this;
    ex->req = std::move(req);
    ex->done = std::move(done);
    ex->start = ngx_current_msec;

    ex->log = *log_;
    ex->log.handler = log_handler;
    ex->log.data = ex;
    ex->log.action = nullptr;

    active_.push_back(ex->active, ex);

    /* from here on the callback will be called */

    if (destroying_) {
        fail(ex, "aborted");
        return;
    }

    try {
        /*
         * Not cancelable, like the request's own timers: a graceful
         * shutdown lets requests in flight finish, and this bounds them.
         */
        ex->deadline.emplace(&ex->log, "push request deadline",
                             [ex]() { ex->impl->expire(ex); }, false);
        ex->deadline->arm(deadline_factor * conf_.timeout);

        build_request(ex);

        if (!ex->finished) {
            start(ex);
        }

    } catch (const std::bad_alloc &) {
        fail(ex, "out of memory");

    } catch (const std::exception &e) {
        fail(ex, e.what());

    } catch (...) {
        fail(ex, "internal error");
    }
}


/* validates the target and headers, fills name, key and out */
void
Impl::build_request(Exchange *ex)
{
    const PushTarget &t = ex->req.target;

    std::string name = push::host_name(t.host);

    if (name.empty() || t.port == 0) {
        fail(ex, "invalid request: no host or port");
        return;
    }

    Addr  a;
    ngx_memzero(&a, sizeof(Addr));

    in_addr_t addr = ngx_inet_addr(reinterpret_cast<u_char *>(name.data()),
                                   name.size());

    if (addr != INADDR_NONE) {
        a.u.sin.sin_family = AF_INET;
        a.u.sin.sin_addr.s_addr = addr;
        a.len = sizeof(struct sockaddr_in);
        ex->ip_literal = true;

#if (NGX_HAVE_INET6)
    } else if (name.find(':') != std::string::npos) {
        if (ngx_inet6_addr(reinterpret_cast<u_char *>(name.data()),
                           name.size(), a.u.sin6.sin6_addr.s6_addr)
            != NGX_OK)
        {
            fail(ex, "invalid request: bad IPv6 address \"" + name + "\"");
            return;
        }

        a.u.sin6.sin6_family = AF_INET6;
        a.len = sizeof(struct sockaddr_in6);
        ex->ip_literal = true;
#endif

    } else if (!push::valid_name(name)) {
        fail(ex, "invalid request: bad host name \"" + name + "\"");
        return;
    }

    if (ex->ip_literal) {
        ex->addrs.push_back(a);
    }

    if (!push::valid_path(t.path)) {
        fail(ex, "invalid request: bad path");
        return;
    }

    if (t.tls && conf_.ssl == nullptr) {
        fail(ex, "invalid request: https is not configured");
        return;
    }

    ex->key = push::origin_key(t.tls, name, t.port);

    /* the bytes themselves are the transport's (HTTP/1.1 or HTTP/2) */
    std::string error = push::check_headers(ex->req);

    if (!error.empty()) {
        fail(ex, error);
        return;
    }

    ex->name = std::move(name);
}


void
Impl::start(Exchange *ex)
{
    if (!ex->retried) {
        Conn *conn = take_idle(ex->key);

        if (conn != nullptr) {
            reuses_++;
            ex->resp.reused = true;

            /* for errors and logs, as on a new connection */
            ex->peer_text = conn->peer_text;

            attach(ex, conn);
            conn->transport->start(conn);
            return;
        }
    }

    /* HTTP/2: on a stream, or waiting for one */
    if (schedule(ex)) {
        return;
    }

    /* a connection per request: within half of worker_connections */
    if (!ex->opener && h1_conns() >= h1_cap()) {
        origins_[ex->key].waiting.push_back(ex->wait, ex);
        set_action(ex, "waiting for a connection to push service");
        return;
    }

    if (ex->ip_literal) {
        ex->tried = 0;
        connect_next(ex);
        return;
    }

    resolve(ex);
}


void
Impl::resolve(Exchange *ex)
{
    CachedName *cached = names_.find(ex->name);

    if (cached != nullptr) {
        if (cached->valid > ngx_time()) {
            /* checked again in connect_next(), as a fresh answer is */
            ex->addrs = cached->addrs;
            ex->first = rr_++;
            ex->tried = 0;
            connect_next(ex);
            return;
        }

        names_.erase(ex->name);
    }

    if (conf_.resolver == nullptr) {
        fail(ex, "resolver error: no resolver defined to resolve \""
                 + ex->name + "\"", FailureKind::resolver);
        return;
    }

    ngx_resolver_ctx_t *ctx = ngx_resolve_start(conf_.resolver, nullptr);

    if (ctx == nullptr) {
        fail(ex, "resolver error: cannot start resolving \"" + ex->name
                 + "\"", FailureKind::resolver);
        return;
    }

    if (ctx == NGX_NO_RESOLVER) {
        fail(ex, "resolver error: no resolver defined to resolve \""
                 + ex->name + "\"", FailureKind::resolver);
        return;
    }

    ctx->name = as_ngx_str(ex->name);
    ctx->handler = on_resolved;
    ctx->data = ex;
    ctx->timeout = conf_.resolver_timeout;

    ex->rctx = ctx;
    set_action(ex, "resolving push service name");

    /* may call on_resolved() before it returns */

    if (ngx_resolve_name(ctx) != NGX_OK) {
        ex->rctx = nullptr;    /* freed by ngx_resolve_name() */
        fail(ex, "resolver error: cannot resolve \"" + ex->name + "\"",
             FailureKind::resolver);
    }
}


void
Impl::resolved(Exchange *ex, ngx_resolver_ctx_t *ctx)
{
    ex->rctx = nullptr;

    ngx_int_t state = ctx->state;
    time_t valid = ctx->valid;
    std::vector<Addr> addrs;

    try {
        for (ngx_uint_t i = 0; state == NGX_OK && i < ctx->naddrs; i++) {
            Addr  a;

            if (ctx->addrs[i].socklen > sizeof(a.u)) {
                continue;
            }

            ngx_memzero(&a, sizeof(Addr));
            ngx_memcpy(&a.u, ctx->addrs[i].sockaddr, ctx->addrs[i].socklen);
            a.len = ctx->addrs[i].socklen;
            addrs.push_back(a);
        }

    } catch (...) {
        ngx_resolve_name_done(ctx);
        throw;
    }

    ngx_resolve_name_done(ctx);

    if (state != NGX_OK) {
        if (state == NGX_RESOLVE_NXDOMAIN) {
            ex->resp.failure = PushFailure::name_not_found;
        }

        fail(ex, std::string("resolver error: ")
                 + ngx_resolver_strerror(state) + " (" + ex->name + ")",
             FailureKind::resolver);
        return;
    }

    if (addrs.empty()) {
        fail(ex, "resolver error: no usable address (" + ex->name + ")",
             FailureKind::resolver);
        return;
    }

    try {
        cache_name(ex->name, addrs, valid);

    } catch (const std::bad_alloc &) {
        /* not cached */
    }

    ex->addrs = std::move(addrs);
    ex->first = rr_++;
    ex->tried = 0;

    connect_next(ex);
}


void
Impl::cache_name(const std::string &name, const std::vector<Addr> &addrs,
    time_t valid)
{
    if (valid <= ngx_time()) {
        return;
    }

    /* full: the least recently used name goes */
    names_.put(name, CachedName{addrs, valid});
}


void
Impl::complete(Conn *conn) noexcept
{
    Exchange *ex = conn->ex;
    bool reuse = ex->reusable;

    ex->resp.status = ex->status.code;

    detach(conn);

    if (reuse) {
        park(conn);

    } else {
        close_conn(conn, !conn->c->read->eof);
    }

    finish(ex);
}


/*
 * Reading failed.  Once the status line and headers are in, the push
 * service has answered: its status stands, the error only says that the
 * body was cut short, and the connection is not reused.
 */
void
Impl::read_failure(Conn *conn, const std::string &error)
{
    Exchange *ex = conn->ex;

    if (!ex->headers_done) {
        io_failure(conn, error);
        return;
    }

    ex->resp.error = error;
    ex->reusable = false;

    complete(conn);
}


/*
 * A transport failure while sending or reading.  On a reused connection
 * before any response byte, the service most likely closed the idle
 * connection as we picked it: send again once on a new connection.
 */
void
Impl::io_failure(Conn *conn, const std::string &error)
{
    Exchange *ex = conn->ex;

    if (ex->resp.reused && !ex->got_bytes && !ex->retried) {
        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, &ex->log, 0,
                       "webpush client: stale keepalive connection (%s), "
                       "retrying", error.c_str());

        close_conn(conn, false);

        retries_++;
        ex->retried = true;
        ex->resp.reused = false;

        start(ex);
        return;
    }

    fail(ex, error);
}


void
Impl::fail(Exchange *ex, const std::string &error, FailureKind kind) noexcept
{
    if (ex->finished) {
        return;
    }

    ex->resp.status = 0;
    ex->failure_kind = kind;

    try {
        ex->resp.error = error;

    } catch (...) {
        ex->resp.error.clear();
        ex->resp.error.assign("out of memory");
    }

    ngx_log_error(NGX_LOG_INFO, &ex->log, 0, "push request failed: %s",
                  ex->resp.error.c_str());

    finish(ex);
}


/*
 * The whole request took deadline_factor x webpush_timeout: the phase
 * timers restart with every byte, so a service trickling its answer is
 * stopped here.  Once the headers are in, its status stands, as for any
 * body cut short.
 */
void
Impl::expire(Exchange *ex) noexcept
{
    if (ex->finished) {
        return;
    }

    try {
        std::string error = "timed out (no complete answer within "
                            + std::to_string(deadline_factor
                                             * conf_.timeout)
                            + " ms"
                            + (ex->peer_text.empty()
                               ? std::string()
                               : " from " + ex->peer_text)
                            + ")";

        Conn *conn = ex->conn;

        if (conn != nullptr && conn->phase == Phase::multiplexed) {
            stream_end(ex, error);
            return;
        }

        /* never io_failure()'s resend: the deadline has passed */
        if (conn != nullptr && conn->phase == Phase::reading
            && ex->headers_done)
        {
            conn->c->timedout = 1;
            read_failure(conn, error);
            return;
        }

        fail(ex, error);

    } catch (...) {
        fail(ex, "timed out");
    }
}


/* the exchange is over: free what it holds and queue its callback */
void
Impl::finish(Exchange *ex) noexcept
{
    if (ex->finished) {
        return;
    }

    ex->finished = true;

    if (ex->deadline) {
        ex->deadline->cancel();
    }

    if (ex->rctx != nullptr) {
        ngx_resolve_name_done(ex->rctx);
        ex->rctx = nullptr;
    }

    if (ex->wait.linked()) {
        unwait(ex);
    }

    if (ex->opener) {
        opener_gone(ex);
    }

    Conn *conn = ex->conn;

    if (conn != nullptr && conn->phase == Phase::multiplexed) {
        /* the connection carries other streams: reset this one only */
        conn->transport->cancel(conn, ex);

    } else if (conn != nullptr) {
        close_conn(conn, false);
    }

    if (ex->resp.status) {
        requests_++;

    } else {
        errors_++;
    }

    ex->resp.elapsed = ngx_current_msec - ex->start;

    ex->next_done = nullptr;

    if (done_tail_ != nullptr) {
        done_tail_->next_done = ex;

    } else {
        done_head_ = ex;
    }

    done_tail_ = ex;

    if (!destroying_) {
        deliver_ev_.post();
    }
}


/* runs the callbacks of the exchanges finished so far */
void
Impl::deliver() noexcept
{
    Exchange *ex = done_head_;

    done_head_ = nullptr;
    done_tail_ = nullptr;

    while (ex != nullptr) {
        Exchange *next = ex->next_done;

        active_.remove(ex->active);

        Callback done = std::move(ex->done);
        PushResponse resp = std::move(ex->resp);

        delete ex;

        try {
            if (done) {
                done(std::move(resp));
            }

        } catch (const std::exception &e) {
            ngx_log_error(NGX_LOG_ALERT, log_, 0,
                          "webpush client: callback failed: %s", e.what());

        } catch (...) {
            ngx_log_error(NGX_LOG_ALERT, log_, 0,
                          "webpush client: callback failed");
        }

        ex = next;
    }
}


HttpClientStats
Impl::stats() const
{
    HttpClientStats  s;

    s.in_flight = active_.size();
    s.connections = conns_.size();
    s.idle = idle_.size();
    s.requests = requests_;
    s.errors = errors_;
    s.connects = connects_;
    s.reuses = reuses_;
    s.retries = retries_;
    s.tls_resumed = tls_resumed_;
    s.h2_connections = h2_.size();
    s.streams = streams_;
    s.refused = refused_;

    return s;
}


/* " while <action>, push service: <origin>, peer: <address>" */
u_char *
log_context(ngx_log_t *log, u_char *buf, size_t len, const std::string &key,
    const std::string &peer) noexcept
{
    u_char *p = buf;

    if (log->action) {
        p = ngx_snprintf(p, len, " while %s", log->action);
        len -= p - buf;
        buf = p;
    }

    if (key.empty()) {
        return p;
    }

    p = ngx_snprintf(p, len, ", push service: %s", key.c_str());
    len -= p - buf;

    if (!peer.empty()) {
        p = ngx_snprintf(p, len, ", peer: %s", peer.c_str());
    }

    return p;
}


namespace {

/* an exchange's log */
u_char *
log_handler(ngx_log_t *log, u_char *buf, size_t len) noexcept
{
    auto *ex = static_cast<Exchange *>(log->data);

    if (ex == nullptr) {
        return log_context(log, buf, len, std::string(), std::string());
    }

    return log_context(log, buf, len, ex->key, ex->peer_text);
}


void
on_resolved(ngx_resolver_ctx_t *ctx) noexcept
{
    auto *ex = static_cast<Exchange *>(ctx->data);

    guarded(ex, [&]() { ex->impl->resolved(ex, ctx); });
}


void
on_event(ngx_event_t *ev, bool write) noexcept
{
    auto *c = static_cast<ngx_connection_t *>(ev->data);
    auto *conn = static_cast<Conn *>(c->data);

    if (conn == nullptr) {
        return;
    }

    Impl *impl = conn->impl;

    if (conn->phase == Phase::multiplexed) {
        /* HTTP/2: the transport catches its own failures */
        if (write) {
            conn->transport->on_writable(conn);

        } else {
            conn->transport->on_readable(conn);
        }

        return;
    }

    if (conn->phase == Phase::idle) {
        if (!write) {
            impl->idle_event(conn);
        }

        return;
    }

    Exchange *ex = conn->ex;

    if (ex == nullptr) {
        return;
    }

    guarded(ex, [&]() {
        switch (conn->phase) {

        case Phase::connecting:
            impl->connect_event(conn, ev);
            break;

        case Phase::sending:
            if (write) {
                conn->transport->on_writable(conn);
            }

            /* a read event waits: reading starts once the request is out */
            break;

        case Phase::reading:
            if (!write) {
                conn->transport->on_readable(conn);
            }

            break;

        case Phase::handshaking:
        case Phase::idle:
        case Phase::multiplexed:
            break;
        }
    });
}

} // namespace


void
on_read(ngx_event_t *ev) noexcept
{
    on_event(ev, false);
}


void
on_write(ngx_event_t *ev) noexcept
{
    on_event(ev, true);
}


/* the public face */

HttpClient::HttpClient(const HttpClientConfig &conf)
    : impl_(std::make_unique<Impl>(conf))
{
}


HttpClient::~HttpClient() = default;


void
HttpClient::post(PushRequest req, Callback done)
{
    impl_->post(std::move(req), std::move(done));
}


size_t
HttpClient::in_flight() const
{
    return impl_->in_flight();
}


size_t
HttpClient::idle() const
{
    return impl_->idle();
}


void
HttpClient::close_idle()
{
    impl_->close_idle();
}


HttpClientStats
HttpClient::stats() const
{
    return impl_->stats();
}


} // namespace webpush::push
