/*
 * Which connection an exchange goes on, per origin, once HTTP/2 is in
 * play (see ngx_webpush_push_client.hpp, "HTTP/2"):
 *
 *   - an HTTP/2 connection to the origin with a free stream, the one
 *     with the most free streams (fills connections evenly);
 *   - else, while connections to the origin are being opened and they
 *     are expected to take it (assumed_streams each), or while the first
 *     one is being opened, wait for them;
 *   - else, below max_origin_conns, open one more (the exchange is its
 *     "opener"; the TLS handshake's ALPN decides what it becomes);
 *   - else wait for a stream to end.
 *
 * Waiting exchanges are woken (drain(), a posted event) whenever a
 * stream ends, a connection opens, is refused or closes, or a SETTINGS
 * frame may have raised the limit.  An origin that picked HTTP/1.1 is
 * remembered (h1_origins_) and its exchanges take the HTTP/1.1 path:
 * a connection each, kept alive.  When an opener fails before its
 * connection is ready for a reason every exchange would meet (a name
 * that does not exist, refused connections or addresses, a certificate
 * not trusted), the waiters that no other connection will take fail with
 * its error; after any other failure (a timeout) the next one opens.
 */

#include "push/ngx_webpush_push_impl.hpp"

#include <algorithm>
#include <cstring>


namespace webpush::push {

/* true: ex is on a stream or waits for one; false: open a connection */
bool
Impl::schedule(Exchange *ex)
{
    if (!conf_.http2 || !ex->req.target.tls || known_h1(ex->key)) {
        return false;
    }

    Conn *conn = with_room(ex->key);

    if (conn != nullptr) {
        add_stream(ex, conn);
        return true;
    }

    Origin &o = origins_[ex->key];

    if (!may_open(ex->key, o, o.waiting.size())) {
        o.waiting.push_back(ex->wait, ex);
        set_action(ex, "waiting for an HTTP/2 stream to push service");
        return true;
    }

    o.opening++;
    ex->opener = true;

    return false;
}


/* the TLS handshake of conn is done: HTTP/2 or HTTP/1.1, as ALPN chose */
void
Impl::opened(Conn *conn)
{
    Exchange *ex = conn->ex;

    const unsigned char  *proto = nullptr;
    unsigned int          len = 0;

    if (conf_.http2) {
        SSL_get0_alpn_selected(conn->c->ssl->connection, &proto, &len);
    }

    bool h2 = len == 2 && std::memcmp(proto, "h2", 2) == 0;

    if (ex->opener) {
        ex->opener = false;

        auto it = origins_.find(ex->key);

        if (it != origins_.end()) {
            it->second.opener_done();
        }
    }

    if (!h2) {
        if (conf_.http2) {
            /* its waiters go the HTTP/1.1 way (drain()) */
            h1_origins_.put(conn->key, ngx_current_msec);
            wake();
        }

        conn->transport->start(conn);
        return;
    }

    conn->own = make_http2(*this, conn);
    conn->transport = conn->own.get();
    conn->phase = Phase::multiplexed;

    /* the exchange becomes its first stream; the log becomes the
       connection's own (the transport's start()) */
    detach(conn);

    conn->requests = 0;
    h2_.push_back(conn->h2, conn);

    conn->transport->start(conn);

    add_stream(ex, conn);

    wake();
}


void
Impl::add_stream(Exchange *ex, Conn *conn)
{
    ex->resp.reused = conn->requests > 0;
    ex->after_idle = ex->resp.reused && conn->streams.empty();
    ex->peer_text = conn->peer_text;

    if (ex->resp.reused) {
        reuses_++;
    }

    conn->transport->add(conn, ex);

    streams_++;
}


/*
 * A stream the service refused or never processed: the request is sent
 * again on another stream, first in line, without the caller seeing a
 * failure.  Refusals (RST_STREAM REFUSED_STREAM) count, at most
 * max_refusals; streams a GOAWAY left unprocessed do not (the
 * connection they were on is gone; the deadline bounds them).
 */
void
Impl::resend(Exchange *ex, bool refused) noexcept
{
    ex->conn = nullptr;
    ex->stream_id = 0;

    if (refused && ++ex->refusals > max_refusals) {
        fail(ex, "HTTP/2 stream refused " + std::to_string(max_refusals)
                 + " times by " + ex->peer_text);
        return;
    }

    refused_++;

    try {
        origins_[ex->key].waiting.push_front(ex->wait, ex);

    } catch (...) {
        fail(ex, "out of memory");
        return;
    }

    set_action(ex, "waiting for an HTTP/2 stream to push service");

    wake();
}


/*
 * A stream ended without a complete answer (reset, deadline): once its
 * headers arrived the service has answered and its status stands, as
 * for an HTTP/1.1 body cut short; before that it is a transport error.
 */
void
Impl::stream_end(Exchange *ex, const std::string &error) noexcept
{
    if (!ex->headers_done) {
        fail(ex, error);
        return;
    }

    try {
        ex->resp.error = error;

    } catch (...) {
        /* the status stands without the text */
    }

    ex->resp.status = ex->status.code;

    finish(ex);
}


void
Impl::wake() noexcept
{
    if (!destroying_) {
        drain_ev_.post();
    }
}


/* waiting exchanges to the streams and connections there are now */
void
Impl::drain() noexcept
{
    draining_ = true;

    for (auto it = origins_.begin(); it != origins_.end(); ) {
        const std::string &key = it->first;
        Origin &o = it->second;

        for (size_t n = o.waiting.size(); n > 0 && !o.waiting.empty(); n--) {
            bool go = with_room(key) != nullptr || h1_ready(key)
                      || may_open(key, o, o.waiting.size() - 1);

            if (!go) {
                break;
            }

            Exchange *ex = o.waiting.front();

            o.waiting.remove(ex->wait);

            guarded(ex, [&]() { start(ex); });
        }

        /* forget_origin() leaves this to the walk */
        if (o.unused()) {
            it = origins_.erase(it);

        } else {
            ++it;
        }
    }

    draining_ = false;
}


/*
 * Drops the origin's entry when nothing is opened or waits for it: true
 * when dropped.  Not while drain() walks origins_ (a step it runs may end
 * here): the walk drops it when it passes.
 */
bool
Impl::forget_origin(Origins::iterator it) noexcept
{
    if (draining_ || !it->second.unused()) {
        return false;
    }

    origins_.erase(it);

    return true;
}


void
Impl::unwait(Exchange *ex) noexcept
{
    auto it = origins_.find(ex->key);

    if (it == origins_.end()) {
        return;
    }

    it->second.waiting.remove(ex->wait);

    forget_origin(it);
}


/*
 * The opener ended before its connection was ready (it failed: connect,
 * TLS, resolving, its deadline).  Waiters beyond what the other
 * connections of the origin will take fail as it did.
 */
void
Impl::opener_gone(Exchange *ex) noexcept
{
    ex->opener = false;

    auto it = origins_.find(ex->key);

    if (it == origins_.end()) {
        return;
    }

    Origin &o = it->second;

    o.opener_done();

    size_t room = o.opening * assumed_streams;

    h2_.find([&](Conn *conn) {
        if (conn->key == ex->key) {
            room += conn->transport->room(conn);
        }
        return false;
    });

    /*
     * Only an answer every exchange would get the same way: the name does
     * not resolve, connections are refused, the addresses or the
     * certificate are not acceptable (FailureKind).  After a timeout or a
     * reset the next waiter opens a connection itself.
     */
    bool same_for_all = ex->resp.status == 0
                        && ex->failure_kind != FailureKind::transient;

    while (same_for_all && o.waiting.size() > room) {
        Exchange *w = o.waiting.back();

        o.waiting.remove(w->wait);

        w->resp.failure = ex->resp.failure;
        w->resp.permanent = ex->resp.permanent;

        try {
            fail(w, ex->resp.error, ex->failure_kind);

        } catch (...) {
            finish(w);
        }
    }

    if (forget_origin(it)) {
        return;
    }

    wake();
}


/* the multiplexed connection to key with the most free streams */
Conn *
Impl::with_room(const std::string &key) const noexcept
{
    Conn *best = nullptr;
    size_t most = 0;

    h2_.find([&](Conn *conn) {
        if (conn->key == key) {
            size_t room = conn->transport->room(conn);

            if (room > most) {
                most = room;
                best = conn;
            }
        }
        return false;
    });

    return best;
}


/*
 * May an exchange with "ahead" others waiting before it open another
 * connection to the origin?  Not while those being opened are expected
 * to take them all, not beyond max_origin_conns, and not while the
 * first one is being opened: its SETTINGS tell how many streams a
 * connection takes, and a burst of handshakes to a new origin at the
 * start of a fan-out is what a busy push service answers slowest.
 */
bool
Impl::may_open(const std::string &key, const Origin &o, size_t ahead) const
    noexcept
{
    size_t open = h2_conns(key);

    return ahead >= o.opening * assumed_streams
           && o.opening + open < max_origin_conns
           && (o.opening == 0 || open > 0);
}


/* multiplexed connections to key, those retiring not counted */
size_t
Impl::h2_conns(const std::string &key) const noexcept
{
    size_t n = 0;

    h2_.find([&](Conn *conn) {
        if (conn->key == key && !conn->transport->retiring(conn)) {
            n++;
        }
        return false;
    });

    return n;
}


/*
 * HTTP/1.1 goes one request per connection: the open connections that
 * are not multiplexed stay within half of worker_connections, so that a
 * webpush_concurrency far above it (streams, for HTTP/2) cannot take
 * every connection of the worker when a service speaks HTTP/1.1 only.
 */
size_t
Impl::h1_cap() const noexcept
{
    return std::max<size_t>(ngx_cycle->connection_n / 2, 1);
}


/* can a waiting exchange go to key over HTTP/1.1 now? */
bool
Impl::h1_ready(const std::string &key) noexcept
{
    bool h1 = !conf_.http2 || key.compare(0, 7, "http://") == 0
              || known_h1(key);

    if (!h1) {
        return false;
    }

    return h1_conns() < h1_cap()
           || idle_.find([&key](Conn *conn) { return conn->key == key; })
              != nullptr;
}


/* did the origin pick HTTP/1.1 within the last h1_memory ms? */
bool
Impl::known_h1(const std::string &key) noexcept
{
    ngx_msec_t *when = h1_origins_.find(key);

    if (when == nullptr) {
        return false;
    }

    if (ngx_current_msec - *when < h1_memory) {
        return true;
    }

    h1_origins_.erase(key);

    return false;
}

} // namespace webpush::push
