/*
 * Connections to push services (see ngx_webpush_push_conn.hpp): the
 * connect walk over a host's addresses with the address policy, TLS
 * (SNI, certificate and host name checks, sessions cached per origin),
 * and the keep-alive pool.  Shape after nginx's own clients without a
 * client request and the upstream module's TLS code.
 */

#include "push/ngx_webpush_push_impl.hpp"

#include <openssl/x509v3.h>

#include <new>
#include <utility>


namespace webpush::push {

/* connects to the next untried address of the exchange */
void
Impl::connect_next(Exchange *ex)
{
    in_port_t port = ex->req.target.port;

    if (ex->tried == 0) {
        /* a new walk over the addresses (a stale connection's resend) */
        ex->refused = 0;
    }

    while (ex->tried < ex->addrs.size()) {
        Addr &a = ex->addrs[(ex->first + ex->tried++) % ex->addrs.size()];

        ex->resp.failure = PushFailure::none;    /* the last address's */

        if (refuse(ex, a)) {
            continue;
        }

        ngx_inet_set_port(&a.u.sa, port);

        ex->peer_text = addr_text(a);
        ex->peer_name = as_ngx_str(ex->peer_text);

        ngx_memzero(&ex->peer, sizeof(ngx_peer_connection_t));
        ex->peer.sockaddr = &a.u.sa;
        ex->peer.socklen = a.len;
        ex->peer.name = &ex->peer_name;
        ex->peer.get = ngx_event_get_peer;
        ex->peer.log = &ex->log;
        ex->peer.log_error = NGX_ERROR_INFO;

        set_action(ex, "connecting to push service");

        ngx_int_t rc = ngx_event_connect_peer(&ex->peer);
        ngx_err_t err = ngx_socket_errno;

        if (rc == NGX_DECLINED) {
            /* refused at once; ngx_event_connect_peer() logged it */
            ex->last_error = "connect() to " + ex->peer_text + " failed"
                             + errno_text(err);

            if (err == NGX_ECONNREFUSED) {
                ex->resp.failure = PushFailure::connection_refused;
            }

            continue;
        }

        if (rc != NGX_OK && rc != NGX_AGAIN) {
            fail(ex, "connect() to " + ex->peer_text
                     + " failed (no socket or connection available, see "
                       "the error log)");
            return;
        }

        Conn *conn = new_conn(ex, ex->peer.connection);

        connects_++;

        if (rc == NGX_AGAIN) {
            conn->phase = Phase::connecting;
            ngx_add_timer(conn->c->write, conf_.timeout);
            return;
        }

        connected(conn);
        return;
    }

    if (ex->refused != 0 && ex->refused == ex->addrs.size()) {
        /* the same answer next time: sending again cannot help */
        ex->peer_text.clear();
        size_t more = ex->refused - 1;

        ex->resp.permanent = true;
        fail(ex, "address refused: " + ex->refusal
                 + (more ? " (and " + std::to_string(more)
                           + (more > 1 ? " more addresses" : " more address")
                           + " refused too)"
                         : std::string()),
             FailureKind::refused);
        return;
    }

    /* the last address tried refused the connection: the origin does */
    fail(ex, ex->last_error.empty() ? std::string("no address to connect to")
                                    : ex->last_error,
         ex->resp.failure != PushFailure::none ? FailureKind::refused
                                               : FailureKind::transient);
}


/*
 * The SSRF guard after DNS: true (and a warning) when the address is not
 * one the client may connect to (address_policy.hpp).  Checked on every
 * connect, so that cached names and IP literals are held to it too.
 */
bool
Impl::refuse(Exchange *ex, const Addr &a)
{
    push::IpAddress ip;

    if (a.u.sa.sa_family == AF_INET) {
        ngx_memcpy(ip.bytes.data(), &a.u.sin.sin_addr, 4);

#if (NGX_HAVE_INET6)
    } else if (a.u.sa.sa_family == AF_INET6) {
        ip.v6 = true;
        ngx_memcpy(ip.bytes.data(), a.u.sin6.sin6_addr.s6_addr, 16);
#endif

    } else {
        if (ex->refused++ == 0) {
            ex->refusal = "\"" + ex->name + "\" has an address of an "
                          "unknown family";
            ex->refused_ip.v6 = true;
            ex->refused_ip.bytes.fill(0xff);
        }

        return true;
    }

    const char *why = policy_.refusal(ip, ex->req.target.tls,
                                      ex->req.target.port);

    if (why == nullptr) {
        return false;
    }

    std::string text = to_string(ip);

    /*
     * The error names the lowest refused address: the resolver rotates
     * its answers, and the same answer should give the same error.
     */
    if (ex->refused == 0
        || std::make_pair(ip.v6, ip.bytes)
           < std::make_pair(ex->refused_ip.v6, ex->refused_ip.bytes))
    {
        ex->refusal = "\"" + ex->name + "\" "
                      + (ex->ip_literal ? "is " : "resolved to ") + text
                      + ", " + why + ", which is not globally reachable";
        ex->refused_ip = ip;
    }

    ex->refused++;

    ngx_log_error(NGX_LOG_WARN, &ex->log, 0,
                  "webpush: not connecting to %s for push service host "
                  "\"%s\": %s is not globally reachable and no "
                  "webpush_push_hosts pattern names that address",
                  text.c_str(), ex->name.c_str(), why);

    return true;
}


Conn *
Impl::new_conn(Exchange *ex, ngx_connection_t *c)
{
    ngx_pool_t *pool = ngx_create_pool(conn_pool_size, &ex->log);

    if (pool == nullptr) {
        ngx_close_connection(c);
        throw std::bad_alloc();
    }

    c->pool = pool;

    Conn *conn = nullptr;

    try {
        conn = new Conn();
        conn->key = ex->key;
        conn->peer_text = ex->peer_text;

    } catch (...) {
        delete conn;
        conn = nullptr;
    }

    if (conn == nullptr) {
        ngx_close_connection(c);
        ngx_destroy_pool(pool);
        throw std::bad_alloc();
    }

    conn->impl = this;
    conn->c = c;
    conn->tls = ex->req.target.tls;

    /* HTTP/1.1 only so far; an HTTP/2 transport is chosen by ALPN */
    conn->transport = h1_.get();
    conn->born = ngx_current_msec;

    conns_.push_back(conn->all, conn);

    c->data = conn;
    c->read->handler = on_read;
    c->write->handler = on_write;

    attach(ex, conn);

    return conn;
}


void
Impl::attach(Exchange *ex, Conn *conn) noexcept
{
    ngx_connection_t *c = conn->c;

    conn->ex = ex;
    conn->requests++;
    ex->conn = conn;

    c->log = &ex->log;
    c->read->log = &ex->log;
    c->write->log = &ex->log;
    c->pool->log = &ex->log;

    /* the response progress is the transport's: reset by its start() */
}


void
Impl::detach(Conn *conn) noexcept
{
    ngx_connection_t *c = conn->c;

    if (conn->ex != nullptr) {
        conn->ex->conn = nullptr;
        conn->ex = nullptr;
    }

    c->log = log_;
    c->read->log = log_;
    c->write->log = log_;
    c->pool->log = log_;
}


void
Impl::connect_event(Conn *conn, ngx_event_t *ev)
{
    ngx_connection_t *c = conn->c;
    Exchange *ex = conn->ex;

    if (ev->timedout) {
        ex->last_error = "timed out (connecting to " + ex->peer_text + ")";
        ngx_log_error(NGX_LOG_INFO, c->log, 0, "connect() timed out");
        close_conn(conn, false);
        connect_next(ex);
        return;
    }

    int        err = 0;
    socklen_t  len = sizeof(int);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, reinterpret_cast<void *>(&err),
                   &len)
        == -1)
    {
        err = ngx_socket_errno;
    }

    if (err) {
        (void) ngx_connection_error(c, err, const_cast<char *>(
                                                     "connect() failed"));
        ex->last_error = "connect() to " + ex->peer_text + " failed"
                         + errno_text(err);

        if (err == NGX_ECONNREFUSED) {
            ex->resp.failure = PushFailure::connection_refused;
        }

        close_conn(conn, false);
        connect_next(ex);
        return;
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    connected(conn);
}


void
Impl::connected(Conn *conn)
{
    (void) ngx_tcp_nodelay(conn->c);

    if (conn->tls) {
        start_tls(conn);
        return;
    }

    conn->transport->start(conn);
}


void
Impl::start_tls(Conn *conn)
{
    ngx_connection_t *c = conn->c;
    Exchange *ex = conn->ex;

    conn->phase = Phase::handshaking;
    set_action(ex, "TLS handshaking with push service");

    if (ngx_ssl_create_connection(conf_.ssl, c, NGX_SSL_BUFFER|NGX_SSL_CLIENT)
        != NGX_OK)
    {
        fail(ex, "TLS handshake failed (cannot create a TLS connection)");
        return;
    }

    c->sendfile = 0;

    /* nginx logs why a handshake fails at the error level */
    c->log_error = NGX_ERROR_ERR;

    /* RFC 6066: no SNI for IP literals */

    if (!ex->ip_literal
        && SSL_set_tlsext_host_name(c->ssl->connection,
                                    const_cast<char *>(ex->name.c_str()))
           == 0)
    {
        ngx_ssl_error(NGX_LOG_ERR, c->log, 0,
                      const_cast<char *>("SSL_set_tlsext_host_name(\"%s\") "
                                         "failed"), ex->name.c_str());
        fail(ex, "TLS handshake failed (cannot set the server name)");
        return;
    }

    /* RFC 7301; the service's choice is read in opened() */
    static const unsigned char  alpn[] = "\x02h2\x08http/1.1";

    if (conf_.http2
        && SSL_set_alpn_protos(c->ssl->connection, alpn, sizeof(alpn) - 1)
           != 0)
    {
        ngx_ssl_error(NGX_LOG_ERR, c->log, 0,
                      const_cast<char *>("SSL_set_alpn_protos() failed"));
        fail(ex, "TLS handshake failed (cannot offer ALPN)");
        return;
    }

    Session *session = sessions_.find(conn->key);

    if (session != nullptr) {
        if (ngx_ssl_set_session(c, session->get()) != NGX_OK) {
            fail(ex, "TLS handshake failed (cannot set the session)");
            return;
        }
    }

    c->ssl->save_session = on_save_session;

    ngx_int_t rc = ngx_ssl_handshake(c);

    if (rc == NGX_AGAIN) {
        if (!c->write->timer_set) {
            ngx_add_timer(c->write, conf_.timeout);
        }

        c->ssl->handler = on_handshake;
        return;
    }

    handshake_done(conn);
}


bool
Impl::host_matches(Conn *conn)
{
    ngx_connection_t *c = conn->c;
    Exchange *ex = conn->ex;

    if (!ex->ip_literal) {
        ngx_str_t name = as_ngx_str(ex->name);
        return ngx_ssl_check_host(c, &name) == NGX_OK;
    }

    /* ngx_ssl_check_host() compares DNS names only */

    X509 *cert = SSL_get1_peer_certificate(c->ssl->connection);

    if (cert == nullptr) {
        return false;
    }

    int rc = X509_check_ip_asc(cert, ex->name.c_str(), 0);

    X509_free(cert);

    return rc == 1;
}


void
Impl::handshake_done(Conn *conn)
{
    ngx_connection_t *c = conn->c;
    Exchange *ex = conn->ex;

    if (!c->ssl->handshaked) {
        if (c->write->timedout || c->read->timedout) {
            c->timedout = 1;
            fail(ex, "timed out (TLS handshake with " + ex->peer_text + ")");

        } else {
            fail(ex, "TLS handshake failed (with " + ex->peer_text
                     + ", see the error log)");
        }

        return;
    }

    c->log_error = NGX_ERROR_INFO;

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (SSL_session_reused(c->ssl->connection)) {
        tls_resumed_++;
    }

    if (conf_.verify) {
        long rc = SSL_get_verify_result(c->ssl->connection);

        if (rc != X509_V_OK) {
            fail(ex, std::string("certificate verify failed: ")
                     + X509_verify_cert_error_string(rc),
                 FailureKind::certificate);
            return;
        }

        if (!host_matches(conn)) {
            fail(ex, "host name mismatch: the certificate of "
                     + ex->peer_text + " is not valid for \"" + ex->name
                     + "\"", FailureKind::certificate);
            return;
        }
    }

    /* HTTP/2 or HTTP/1.1, as ALPN decided */
    opened(conn);
}


/* the connection is ours again */
Conn *
Impl::take_idle(const std::string &key) noexcept
{
    for ( ;; ) {
        Conn *conn = idle_.find([&key](Conn *idle) {
                         return idle->key == key;
                     });

        if (conn == nullptr) {
            return nullptr;
        }

        ngx_connection_t *c = conn->c;

        idle_.remove(conn->idle);

        if (!alive(c) || ngx_handle_read_event(c->read, 0) != NGX_OK) {
            close_conn(conn, false);
            continue;
        }

        c->idle = 0;
        c->read->cancelable = 0;
        ngx_reusable_connection(c, 0);

        if (c->read->timer_set) {
            ngx_del_timer(c->read);
        }

        c->read->handler = on_read;
        c->write->handler = on_write;

        return conn;
    }
}


/* nothing to read and no EOF on an idle connection? */
bool
Impl::alive(ngx_connection_t *c) noexcept
{
    u_char  ch;

    if (c->close || c->read->eof || c->read->error || c->read->timedout
        || c->write->error || c->write->timedout)
    {
        return false;
    }

    if (c->ssl) {
        /* lets OpenSSL consume non-data records such as session tickets */
        return c->recv(c, &ch, 1) == NGX_AGAIN;
    }

    ssize_t n = recv(c->fd, reinterpret_cast<char *>(&ch), 1, MSG_PEEK);

    if (n == -1 && ngx_socket_errno == NGX_EAGAIN) {
        c->read->ready = 0;
        return true;
    }

    return false;
}


void
Impl::park(Conn *conn) noexcept
{
    ngx_connection_t *c = conn->c;

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (conf_.keepalive == 0 || ngx_exiting || ngx_terminate || c->close
        || c->read->eof || c->read->error || c->write->error
        || c->read->timedout || c->write->timedout
        || conn->requests >= max_conn_requests
        || ngx_current_msec - conn->born >= max_conn_age)
    {
        close_conn(conn, true);
        return;
    }

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        close_conn(conn, false);
        return;
    }

    conn->phase = Phase::idle;
    c->idle = 1;

    /* nginx may take it back when it runs out of connections */
    ngx_reusable_connection(c, 1);

    /* an idle connection never delays a graceful shutdown */
    c->read->cancelable = 1;
    ngx_add_timer(c->read, conf_.keepalive_timeout);

    idle_.push_front(conn->idle, conn);

    if (!origins_.empty()) {
        wake();
    }

    while (idle_.size() > conf_.keepalive) {
        close_conn(idle_.back(), true);
    }

    if (c->read->ready) {
        idle_event(conn);
    }
}


/* an idle connection became readable, timed out or nginx is exiting */
void
Impl::idle_event(Conn *conn) noexcept
{
    ngx_connection_t *c = conn->c;

    if (!c->close && !c->read->timedout && alive(c)
        && ngx_handle_read_event(c->read, 0) == NGX_OK)
    {
        return;
    }

    close_conn(conn, !c->read->eof && !c->read->error);
}


void
Impl::close_conn(Conn *conn, bool graceful) noexcept
{
    ngx_connection_t *c = conn->c;

    if (conn->idle.linked()) {
        idle_.remove(conn->idle);
    }

    if (conn->h2.linked()) {
        h2_.remove(conn->h2);
    }

    /* a multiplexed connection's transport ended its streams first */
    while (!conn->streams.empty()) {
        Exchange *ex = conn->streams.front();

        conn->streams.remove(ex->stream);
        ex->conn = nullptr;

        try {
            fail(ex, "connection to " + conn->peer_text + " closed");

        } catch (...) {
            finish(ex);
        }
    }

    conns_.remove(conn->all);

    if (!origins_.empty()) {
        /* a connection slot is free: exchanges may wait for one */
        wake();
    }

    detach(conn);

    c->data = nullptr;
    c->idle = 0;
    c->read->cancelable = 0;

    if (c->reusable) {
        ngx_reusable_connection(c, 0);
    }

    delete conn;

    if (c->ssl) {
        c->ssl->save_session = nullptr;
        c->ssl->no_wait_shutdown = 1;

        if (!graceful || destroying_) {
            c->ssl->no_send_shutdown = 1;
        }

        if (ngx_ssl_shutdown(c) == NGX_AGAIN) {
            /* close_notify still being sent: nginx finishes it */
            c->ssl->handler = close_orphan;
            return;
        }
    }

    close_orphan(c);
}


void
Impl::close_idle() noexcept
{
    while (!idle_.empty()) {
        close_conn(idle_.back(), true);
    }
}


void
Impl::save_session(Conn *conn) noexcept
{
    ngx_ssl_session_t *session = ngx_ssl_get_session(conn->c);

    if (session == nullptr) {
        return;
    }

    Session owned(session);

    try {
        /* replaces (and frees) the origin's previous session; full: the
           least recently used origin's goes */
        sessions_.put(conn->key, std::move(owned));

    } catch (...) {
        /* not cached; "owned" frees it if put() did not take it */
    }
}


/* c->ssl->handler: the handshake ended, well or not, or timed out */
void
on_handshake(ngx_connection_t *c) noexcept
{
    auto *conn = static_cast<Conn *>(c->data);

    if (conn == nullptr || conn->ex == nullptr) {
        return;
    }

    c->read->handler = on_read;
    c->write->handler = on_write;

    Exchange *ex = conn->ex;

    guarded(ex, [&]() { conn->impl->handshake_done(conn); });
}


/* c->ssl->save_session: a new TLS session (TLS 1.3: a ticket) arrived */
void
on_save_session(ngx_connection_t *c) noexcept
{
    auto *conn = static_cast<Conn *>(c->data);

    if (conn != nullptr) {
        conn->impl->save_session(conn);
    }
}


/* closes a connection nobody owns any more (also after a TLS shutdown) */
void
close_orphan(ngx_connection_t *c) noexcept
{
    ngx_pool_t *pool = c->pool;

    c->destroyed = 1;

    ngx_close_connection(c);

    if (pool != nullptr) {
        ngx_destroy_pool(pool);
    }
}


ngx_int_t
create_client_ssl(ngx_conf_t *cf, ngx_ssl_t *ssl, ngx_str_t *trusted_cert,
    bool verify) noexcept
{
    ssl->log = cf->log;

    if (ngx_ssl_create(ssl, NGX_SSL_TLSv1_2|NGX_SSL_TLSv1_3, nullptr)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ngx_pool_cleanup_t *cln = ngx_pool_cleanup_add(cf->pool, 0);

    if (cln == nullptr) {
        ngx_ssl_cleanup_ctx(ssl);
        return NGX_ERROR;
    }

    cln->handler = ngx_ssl_cleanup_ctx;
    cln->data = ssl;

    if (verify) {
        ngx_str_t  file = ngx_null_string;

        if (trusted_cert != nullptr && trusted_cert->len) {
            file = *trusted_cert;
        }

        /* the verify callback and depth; an empty name loads no file */

        if (ngx_ssl_trusted_certificate(cf, ssl, &file, verify_depth)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        /*
         * no webpush_ssl_trusted_certificate: OpenSSL's default CA file
         * and directory (SSL_CERT_FILE and SSL_CERT_DIR of the master's
         * environment, else those under the OPENSSLDIR OpenSSL was built
         * with); the file is read now, the directory when verifying
         */

        if (file.len == 0 && SSL_CTX_set_default_verify_paths(ssl->ctx) == 0) {
            ngx_ssl_error(NGX_LOG_EMERG, cf->log, 0,
                          const_cast<char *>(
                              "\"webpush_ssl_trusted_certificate\" is not "
                              "set and SSL_CTX_set_default_verify_paths() "
                              "failed"));
            return NGX_ERROR;
        }
    }

    if (ngx_ssl_client_session_cache(cf, ssl, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}

} // namespace webpush::push
