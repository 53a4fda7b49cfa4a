/*
 * The push client's inside (private to src/push/): one Exchange per
 * post(), and HttpClient::Impl, the exchange state machine
 * (ngx_webpush_push_client.cpp), its connections
 * (ngx_webpush_push_conn.cpp) and its transports
 * (ngx_webpush_push_transport.hpp).
 *
 * Ownership: an Exchange (one post()) is heap-allocated and linked in
 * Impl::active_ until its callback has run; finishing it only queues it,
 * a posted event runs the callbacks, so an Exchange stays valid through
 * every event handler that touches it.
 */

#pragma once

#include "glue/ngx_webpush_glue.hpp"
#include "push/ngx_webpush_push_client.hpp"
#include "push/ngx_webpush_push_conn.hpp"
#include "push/ngx_webpush_push_transport.hpp"
#include "push/wire.hpp"
#include "push/address_policy.hpp"
#include "util/lru.hpp"

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>


namespace webpush::push {

constexpr ngx_msec_t  deadline_factor = 3;    /* x webpush_timeout */
constexpr size_t      max_cached = 1024;      /* names and TLS sessions */

/*
 * HTTP/2 (ngx_webpush_push_origins.cpp): connections per origin at most,
 * the streams a connection being opened is expected to take (nghttp2's
 * limit until the service's SETTINGS arrive), how long an origin whose
 * ALPN chose HTTP/1.1 is not asked again, and how often one exchange may
 * be refused (REFUSED_STREAM, above a GOAWAY) before it fails.
 */
constexpr size_t      max_origin_conns = 8;
constexpr size_t      assumed_streams = 100;
constexpr ngx_msec_t  h1_memory = 3600000;
constexpr unsigned    max_refusals = 8;


/*
 * What a failure before any HTTP answer says about the other exchanges
 * to the same origin (Impl::opener_gone()): another connection may fare
 * better after a transient one (a timeout, a reset, a closed connection,
 * a malformed answer); the others each exchange would meet the same way.
 * Given to fail() where the failure arises; the error text is for people
 * only, nothing reads it.
 */
enum class FailureKind {
    transient,
    resolver,       /* the name: no resolver, not resolved, no address */
    refused,        /* every address: connections refused, or refused by
                       the address policy (resp.permanent) */
    certificate,    /* not trusted, or not valid for the name */
};


struct CachedName {
    std::vector<Addr>  addrs;
    time_t             valid;
};


enum class Parse {
    more,
    complete,
    error,
};


/* one post(): the request, its progress and its response */
struct Exchange {
    HttpClient::Impl       *impl;
    glue::Link<Exchange>    active;         /* Impl::active_ */
    Exchange               *next_done = nullptr;

    PushRequest             req;
    Callback                done;
    PushResponse            resp;

    std::string             name;           /* lowercase, no brackets */
    std::string             key;            /* scheme://name:port */
    bool                    ip_literal = false;
    std::string             out;            /* the request bytes */
    size_t                  sent = 0;

    std::vector<Addr>       addrs;
    size_t                  first = 0;
    size_t                  tried = 0;
    std::string             peer_text;      /* "192.0.2.1:443" */
    ngx_str_t               peer_name;
    ngx_peer_connection_t   peer;
    std::string             last_error;

    ngx_resolver_ctx_t     *rctx = nullptr;
    Conn                   *conn = nullptr;
    ngx_log_t               log;
    ngx_msec_t              start;
    std::optional<glue::Event>  deadline;   /* the whole request */
    size_t                  refused = 0;    /* addresses refused by policy */
    push::IpAddress       refused_ip;     /* the lowest of them */
    std::string             refusal;        /* why, for that one */

    bool                    finished = false;
    FailureKind             failure_kind = FailureKind::transient;
    bool                    retried = false;
    bool                    got_bytes = false;

    /* HTTP/2 */
    glue::Link<Exchange>    stream;         /* Conn::streams */
    glue::Link<Exchange>    wait;           /* Origin::waiting */
    int32_t                 stream_id = 0;
    bool                    opener = false; /* opening a connection that
                                               its origin's waiters wait
                                               for (counted in opening) */
    bool                    after_idle = false;  /* its stream was the
                                               first on an idle
                                               connection */
    unsigned                refusals = 0;

    /*
     * The response's progress, kept by the transport (reset by its
     * start()); the exchange reads status, headers_done (the answer
     * stands, only the body may be cut short), reusable and got_bytes.
     */
    ngx_http_status_t       status;
    ngx_http_chunked_t      chunked;
    bool                    status_done = false;
    bool                    headers_done = false;
    bool                    body_known = false;
    push::Body              body = push::Body::none;
    push::ResponseHead      head;
    off_t                   remaining = 0;
    off_t                   body_read = 0;
    off_t                   received = 0;   /* bytes of this response */
    bool                    reusable = false;
    const char             *parse_error = "";
};


/*
 * The HTTP/2 bookkeeping of one origin (ngx_webpush_push_origins.cpp):
 * kept while connections to it are being opened or exchanges wait for
 * it, dropped once unused() (Impl::forget_origin(), drain()).
 */
struct Origin {
    size_t                  opening = 0;    /* connections being opened */
    glue::List<Exchange>    waiting;        /* for a stream */

    /* a connection being opened is ready, or failed */
    void opener_done() noexcept
    {
        if (opening > 0) {
            opening--;
        }
    }

    bool unused() const noexcept
    {
        return opening == 0 && waiting.empty();
    }
};

using Origins = std::unordered_map<std::string, Origin>;


class HttpClient::Impl {
public:
    explicit Impl(const HttpClientConfig &conf);
    ~Impl();

    Impl(const Impl &) = delete;
    Impl &operator=(const Impl &) = delete;

    void post(PushRequest req, Callback done);

    size_t in_flight() const { return active_.size(); }
    size_t idle() const { return idle_.size(); }
    void close_idle() noexcept;
    HttpClientStats stats() const;

    /* the steps, in order */
    void start(Exchange *ex);
    void resolve(Exchange *ex);
    void resolved(Exchange *ex, ngx_resolver_ctx_t *ctx);
    void connect_next(Exchange *ex);
    void connect_event(Conn *conn, ngx_event_t *ev);
    void connected(Conn *conn);
    void start_tls(Conn *conn);
    void handshake_done(Conn *conn);
    void complete(Conn *conn) noexcept;
    void io_failure(Conn *conn, const std::string &error);
    void read_failure(Conn *conn, const std::string &error);
    void idle_event(Conn *conn) noexcept;

    /* HTTP/2: scheduling exchanges on streams (..._push_origins.cpp) */
    bool schedule(Exchange *ex);
    void opened(Conn *conn);
    void add_stream(Exchange *ex, Conn *conn);
    void resend(Exchange *ex, bool refused) noexcept;
    void stream_end(Exchange *ex, const std::string &error) noexcept;
    void wake() noexcept;
    void drain() noexcept;
    void unwait(Exchange *ex) noexcept;
    void opener_gone(Exchange *ex) noexcept;
    bool forget_origin(Origins::iterator it) noexcept;
    Conn *with_room(const std::string &key) const noexcept;
    size_t h2_conns(const std::string &key) const noexcept;
    bool may_open(const std::string &key, const Origin &o, size_t ahead)
        const noexcept;
    bool known_h1(const std::string &key) noexcept;
    bool h1_ready(const std::string &key) noexcept;

    /* connections that are not multiplexed, and how many may be open */
    size_t h1_conns() const noexcept { return conns_.size() - h2_.size(); }
    size_t h1_cap() const noexcept;

    void fail(Exchange *ex, const std::string &error,
              FailureKind kind = FailureKind::transient) noexcept;
    void expire(Exchange *ex) noexcept;
    bool refuse(Exchange *ex, const Addr &a);
    void finish(Exchange *ex) noexcept;
    void deliver() noexcept;

    /* connections */
    Conn *new_conn(Exchange *ex, ngx_connection_t *c);
    void attach(Exchange *ex, Conn *conn) noexcept;
    void detach(Conn *conn) noexcept;
    Conn *take_idle(const std::string &key) noexcept;
    void park(Conn *conn) noexcept;
    void close_conn(Conn *conn, bool graceful) noexcept;
    bool alive(ngx_connection_t *c) noexcept;
    bool host_matches(Conn *conn);

    /* caches */
    void save_session(Conn *conn) noexcept;

    const HttpClientConfig &conf() const noexcept { return conf_; }

private:
    void build_request(Exchange *ex);
    void cache_name(const std::string &name, const std::vector<Addr> &addrs,
                    time_t valid);

    HttpClientConfig                                     conf_;
    ngx_log_t                                           *log_;

    glue::List<Exchange>                                 active_;
    Exchange                                            *done_head_ = nullptr;
    Exchange                                            *done_tail_ = nullptr;
    glue::Event                                          deliver_ev_;

    glue::List<Conn>                                     conns_;

    /*
     * The keep-alive pool: parked connections, the most recently parked
     * first (reuse takes the warmest one, the limit closes the coldest).
     */
    glue::List<Conn>                                     idle_;

    push::AddressPolicy                                policy_;

    /* HTTP/1.1, shared by its connections (HTTP/2: one per connection) */
    std::unique_ptr<Transport>                           h1_;

    /* HTTP/2: multiplexed connections, origins with exchanges waiting or
       connections being opened, origins known to speak HTTP/1.1 only */
    glue::List<Conn>                                     h2_;
    Origins                                              origins_;
    util::Lru<std::string, ngx_msec_t>                   h1_origins_{
                                                             max_cached};
    glue::Event                                          drain_ev_;
    bool                                                 draining_ = false;

    util::Lru<std::string, CachedName>                   names_{max_cached};
    util::Lru<std::string, Session>                      sessions_{
                                                             max_cached};

    bool                                                 destroying_ = false;
    size_t                                               rr_ = 0;

    uint64_t                                             requests_ = 0;
    uint64_t                                             errors_ = 0;
    uint64_t                                             connects_ = 0;
    uint64_t                                             reuses_ = 0;
    uint64_t                                             retries_ = 0;
    uint64_t                                             tls_resumed_ = 0;
    uint64_t                                             streams_ = 0;
    uint64_t                                             refused_ = 0;
};


using Impl = HttpClient::Impl;


/* " (111: Connection refused)", as nginx writes errno */
std::string errno_text(ngx_err_t err);
std::string addr_text(const Addr &a);
ngx_str_t as_ngx_str(std::string &s);
void set_action(Exchange *ex, const char *action);

/* " while <action>, push service: <key>, peer: <peer>" (log handlers) */
u_char *log_context(ngx_log_t *log, u_char *buf, size_t len,
                    const std::string &key, const std::string &peer) noexcept;

/* keeps a response header the caller wants (wire.hpp's Kept) */
void keep_field(PushResponse &resp, Kept kept, std::string_view value);

void on_read(ngx_event_t *ev) noexcept;
void on_write(ngx_event_t *ev) noexcept;

/*
 * A read timer fired while the answer already waits in the socket: true,
 * and the read event is made ready again so the next recv() takes it.
 * After a stall (SIGSTOP, a paused VM, a slow step elsewhere) nginx's
 * epoll_wait() returns EINTR or the ready events, the clock jumps, and
 * the timers expire before those events are handled: without this check
 * an answer that arrived in time reads as a timeout (and a retry sends
 * the message twice).
 */
bool input_waiting(ngx_connection_t *c) noexcept;


/* runs a step for the exchange; a C++ failure fails the exchange */
template <typename F>
void
guarded(Exchange *ex, F step) noexcept
{
    try {
        step();

    } catch (const std::bad_alloc &) {
        ex->impl->fail(ex, "out of memory");

    } catch (const std::exception &e) {
        ex->impl->fail(ex, e.what());

    } catch (...) {
        ex->impl->fail(ex, "internal error");
    }
}

} // namespace webpush::push
