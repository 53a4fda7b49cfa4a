/*
 * The sender's HTTP/1.1 client (see the header for the contract).
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
 * Ownership: an Exchange (one post()) is heap-allocated and linked in
 * Impl::active_ until its callback has run; finishing it only queues it,
 * a posted event runs the callbacks, so an Exchange stays valid through
 * every event handler that touches it.  A Conn (one TCP connection) is
 * heap-allocated, owns its ngx_connection_t and the connection's pool,
 * and is deleted when the connection closes.  c->data is always the Conn.
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
 *
 * Caches (names, TLS sessions) are LRU (util/lru.hpp): endpoint host
 * names are chosen by subscribers within the allow-list's wildcards, and
 * a flood of one-off names must not evict the push services in use.
 */

#include "glue/ngx_webpush_glue.hpp"
#include "sender/address_policy.hpp"
#include "sender/ngx_webpush_http_client.hpp"
#include "util/lru.hpp"

#include <openssl/x509v3.h>

#include <algorithm>
#include <exception>
#include <new>
#include <optional>
#include <string_view>
#include <utility>


namespace webpush::sender {
namespace {

constexpr size_t      header_buffer_size = 16384;
constexpr size_t      body_kept = 1024;
constexpr off_t       body_limit = 65536;
constexpr off_t       response_limit = header_buffer_size + body_limit;
constexpr ngx_msec_t  deadline_factor = 3;    /* x webpush_timeout */
constexpr size_t      header_value_limit = 1024;
constexpr size_t      max_cached = 1024;      /* names and TLS sessions */
constexpr size_t      conn_pool_size = 4096;
constexpr ngx_int_t   verify_depth = 10;


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


struct CachedName {
    std::vector<Addr>  addrs;
    time_t             valid;
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


enum class Body {
    none,
    length,
    chunked,
    until_close,
};


enum class Parse {
    more,
    complete,
    error,
};


struct Conn;


/* one post(): the request, its progress and its response */
struct Exchange {
    HttpClient::Impl       *impl;
    Hook<Exchange>          active;         /* Impl::active_ */
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
    IpAddress               refused_ip;     /* the lowest of them */
    std::string             refusal;        /* why, for that one */

    bool                    finished = false;
    bool                    retried = false;
    bool                    got_bytes = false;

    /* response parsing */
    ngx_http_status_t       status;
    ngx_http_chunked_t      chunked;
    bool                    status_done = false;
    bool                    headers_done = false;
    bool                    body_known = false;
    Body                    body = Body::none;
    off_t                   content_length = -1;
    off_t                   remaining = 0;
    off_t                   body_read = 0;
    off_t                   received = 0;   /* bytes of this response */
    bool                    te_chunked = false;
    bool                    te_other = false;
    bool                    conn_close = false;
    bool                    conn_keep_alive = false;
    bool                    reusable = false;
    const char             *parse_error = "";
};


/* one TCP connection to a push service */
struct Conn {
    HttpClient::Impl     *impl;
    Hook<Conn>            all;              /* Impl::conns_ */
    Hook<Conn>            idle;             /* Impl::idle_, when parked */
    ngx_connection_t     *c;
    std::string           key;
    std::string           peer_text;        /* "192.0.2.1:443" */
    bool                  tls;
    Phase                 phase = Phase::connecting;
    Exchange             *ex = nullptr;
    ngx_http_request_t   *parser;           /* parser state only */
    ngx_buf_t            *buf;
};


char
lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}


bool
iequals(std::string_view a, std::string_view b)
{
    if (a.size() != b.size()) {
        return false;
    }

    for (size_t i = 0; i < a.size(); i++) {
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }

    return true;
}


/* does a comma-separated header value hold this token? */
bool
has_token(std::string_view value, std::string_view token)
{
    while (!value.empty()) {
        size_t comma = value.find(',');
        std::string_view item = value.substr(0, comma);

        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
            item.remove_prefix(1);
        }

        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
            item.remove_suffix(1);
        }

        if (iequals(item, token)) {
            return true;
        }

        if (comma == std::string_view::npos) {
            break;
        }

        value.remove_prefix(comma + 1);
    }

    return false;
}


bool
valid_token(std::string_view s)
{
    if (s.empty()) {
        return false;
    }

    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);

        if (c <= 0x20 || c >= 0x7f || ch == ':' || ch == '(' || ch == ')'
            || ch == '<' || ch == '>' || ch == '@' || ch == ',' || ch == ';'
            || ch == '\\' || ch == '"' || ch == '/' || ch == '['
            || ch == ']' || ch == '?' || ch == '=' || ch == '{' || ch == '}')
        {
            return false;
        }
    }

    return true;
}


bool
valid_value(std::string_view s)
{
    for (char ch : s) {
        if (ch == '\r' || ch == '\n' || ch == '\0') {
            return false;
        }
    }

    return true;
}


bool
valid_path(std::string_view s)
{
    if (s.empty() || s.front() != '/') {
        return false;
    }

    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);

        if (c <= 0x20 || c == 0x7f) {
            return false;
        }
    }

    return true;
}


bool
valid_name(std::string_view s)
{
    if (s.empty() || s.size() > 253) {
        return false;
    }

    for (char ch : s) {
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
              || ch == '-' || ch == '.' || ch == '_'))
        {
            return false;
        }
    }

    return true;
}


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


u_char *log_handler(ngx_log_t *log, u_char *buf, size_t len) noexcept;
void on_read(ngx_event_t *ev) noexcept;
void on_write(ngx_event_t *ev) noexcept;
void on_handshake(ngx_connection_t *c) noexcept;
void on_save_session(ngx_connection_t *c) noexcept;
void on_resolved(ngx_resolver_ctx_t *ctx) noexcept;
void close_orphan(ngx_connection_t *c) noexcept;

} // namespace


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
    void begin_send(Conn *conn);
    void send_request(Conn *conn);
    void read_response(Conn *conn);
    Parse process(Conn *conn);
    void complete(Conn *conn) noexcept;
    void io_failure(Conn *conn, const std::string &error);
    void read_failure(Conn *conn, const std::string &error);
    void idle_event(Conn *conn) noexcept;

    void fail(Exchange *ex, const std::string &error) noexcept;
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

private:
    void build_request(Exchange *ex);
    void header(Exchange *ex, ngx_http_request_t *r);
    bool keep(Exchange *ex, const u_char *p, off_t n);
    void cache_name(const std::string &name, const std::vector<Addr> &addrs,
                    time_t valid);

    HttpClientConfig                                     conf_;
    ngx_log_t                                           *log_;

    List<Exchange>                                       active_;
    Exchange                                            *done_head_ = nullptr;
    Exchange                                            *done_tail_ = nullptr;
    glue::Event                                          deliver_ev_;

    List<Conn>                                           conns_;

    /* idle connections, most recently used first */
    List<Conn>                                           idle_;

    AddressPolicy                                        policy_;

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
};


using Impl = HttpClient::Impl;


Impl::Impl(const HttpClientConfig &conf)
    : conf_(conf), log_(conf.log ? conf.log : ngx_cycle->log),
      deliver_ev_(log_, "push callbacks", [this]() { deliver(); })
{
    /* none: only globally reachable addresses */
    if (conf.push_hosts != nullptr) {
        policy_ = AddressPolicy(*conf.push_hosts);
    }

    /* read once: the pointer need not outlive the constructor */
    conf_.push_hosts = nullptr;
}


Impl::~Impl()
{
    destroying_ = true;

    deliver_ev_.cancel();

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

    std::string name;
    name.reserve(t.host.size());

    for (char ch : t.host) {
        name += lower(ch);
    }

    if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
        name = name.substr(1, name.size() - 2);
    }

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

    } else if (!valid_name(name)) {
        fail(ex, "invalid request: bad host name \"" + name + "\"");
        return;
    }

    if (ex->ip_literal) {
        ex->addrs.push_back(a);
    }

    if (!valid_path(t.path)) {
        fail(ex, "invalid request: bad path");
        return;
    }

    if (t.tls && conf_.ssl == nullptr) {
        fail(ex, "invalid request: https is not configured");
        return;
    }

    std::string port = std::to_string(t.port);
    bool default_port = t.port == (t.tls ? 443 : 80);

    std::string host = name.find(':') != std::string::npos
                       ? "[" + name + "]" : name;

    ex->key = (t.tls ? "https://" : "http://") + host + ":" + port;

    std::string &out = ex->out;

    out.reserve(256 + t.path.size() + ex->req.body.size());
    out += "POST ";
    out += t.path;
    out += " HTTP/1.1\r\nHost: ";
    out += host;

    if (!default_port) {
        out += ':';
        out += port;
    }

    out += "\r\n";

    for (const auto &h : ex->req.headers) {
        if (iequals(h.first, "host") || iequals(h.first, "content-length")
            || iequals(h.first, "connection")
            || iequals(h.first, "transfer-encoding"))
        {
            continue;
        }

        if (!valid_token(h.first) || !valid_value(h.second)) {
            fail(ex, "invalid request: bad header \"" + h.first + "\"");
            return;
        }

        out += h.first;
        out += ": ";
        out += h.second;
        out += "\r\n";
    }

    out += "Content-Length: ";
    out += std::to_string(ex->req.body.size());
    out += "\r\n";

    if (conf_.keepalive == 0) {
        out += "Connection: close\r\n";
    }

    out += "\r\n";
    out += ex->req.body;

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
            begin_send(conn);
            return;
        }
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
                 + ex->name + "\"");
        return;
    }

    ngx_resolver_ctx_t *ctx = ngx_resolve_start(conf_.resolver, nullptr);

    if (ctx == nullptr) {
        fail(ex, "resolver error: cannot start resolving \"" + ex->name
                 + "\"");
        return;
    }

    if (ctx == NGX_NO_RESOLVER) {
        fail(ex, "resolver error: no resolver defined to resolve \""
                 + ex->name + "\"");
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
        fail(ex, "resolver error: cannot resolve \"" + ex->name + "\"");
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
                 + ngx_resolver_strerror(state) + " (" + ex->name + ")");
        return;
    }

    if (addrs.empty()) {
        fail(ex, "resolver error: no usable address (" + ex->name + ")");
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
                         : std::string()));
        return;
    }

    fail(ex, ex->last_error.empty() ? std::string("no address to connect to")
                                    : ex->last_error);
}


/*
 * The SSRF guard after DNS: true (and a warning) when the address is not
 * one the client may connect to (address_policy.hpp).  Checked on every
 * connect, so that cached names and IP literals are held to it too.
 */
bool
Impl::refuse(Exchange *ex, const Addr &a)
{
    IpAddress ip;

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

    auto *parser = static_cast<ngx_http_request_t *>(
                             ngx_pcalloc(pool, sizeof(ngx_http_request_t)));
    ngx_buf_t *buf = ngx_create_temp_buf(pool, header_buffer_size);
    Conn *conn = nullptr;

    if (parser != nullptr && buf != nullptr) {
        try {
            conn = new Conn();
            conn->key = ex->key;
            conn->peer_text = ex->peer_text;

        } catch (...) {
            delete conn;
            conn = nullptr;
        }
    }

    if (conn == nullptr) {
        ngx_close_connection(c);
        ngx_destroy_pool(pool);
        throw std::bad_alloc();
    }

    conn->impl = this;
    conn->c = c;
    conn->tls = ex->req.target.tls;
    conn->parser = parser;
    conn->buf = buf;

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
    ex->conn = conn;

    c->log = &ex->log;
    c->read->log = &ex->log;
    c->write->log = &ex->log;
    c->pool->log = &ex->log;

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
    ex->content_length = -1;
    ex->remaining = 0;
    ex->body_read = 0;
    ex->received = 0;
    ex->te_chunked = false;
    ex->te_other = false;
    ex->conn_close = false;
    ex->conn_keep_alive = false;
    ex->reusable = false;
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

    begin_send(conn);
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
                     + X509_verify_cert_error_string(rc));
            return;
        }

        if (!host_matches(conn)) {
            fail(ex, "host name mismatch: the certificate of "
                     + ex->peer_text + " is not valid for \"" + ex->name
                     + "\"");
            return;
        }
    }

    begin_send(conn);
}


void
Impl::begin_send(Conn *conn)
{
    ngx_connection_t *c = conn->c;

    conn->phase = Phase::sending;
    set_action(conn->ex, "sending request to push service");

    ngx_add_timer(c->write, conf_.timeout);

    send_request(conn);
}


void
Impl::send_request(Conn *conn)
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
                ngx_add_timer(c->write, conf_.timeout);
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

    ngx_add_timer(c->read, conf_.timeout);

    read_response(conn);
}


void
Impl::read_response(Conn *conn)
{
    ngx_connection_t *c = conn->c;
    Exchange *ex = conn->ex;
    ngx_buf_t *b = conn->buf;

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

            ngx_add_timer(c->read, conf_.timeout);
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
Impl::process(Conn *conn)
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

        ngx_uint_t code = ex->status.code;

        if (code >= 100 && code < 200 && code != 101) {
            /* an interim response: the final one follows */
            ngx_memzero(&ex->status, sizeof(ngx_http_status_t));
            ex->status_done = false;
            ex->content_length = -1;
            ex->te_chunked = false;
            ex->te_other = false;
            ex->conn_close = false;
            ex->conn_keep_alive = false;
            continue;
        }

        ex->headers_done = true;
    }

    if (!ex->body_known) {
        ngx_uint_t code = ex->status.code;

        ex->body_known = true;
        ex->reusable = ex->status.http_version >= NGX_HTTP_VERSION_11
                       ? !ex->conn_close
                       : ex->conn_keep_alive && !ex->conn_close;

        if (code < 200 || code == 204 || code == 304) {
            ex->body = Body::none;

            if (code < 200) {
                ex->reusable = false;
            }

        } else if (ex->te_chunked) {
            ex->body = Body::chunked;

            if (ex->content_length != -1 || ex->te_other) {
                ex->reusable = false;
            }

        } else if (ex->te_other || ex->content_length == -1) {
            ex->body = Body::until_close;
            ex->reusable = false;

        } else {
            ex->body = ex->content_length ? Body::length : Body::none;
            ex->remaining = ex->content_length;
        }
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
            /* keep_trailers 0: trailers are parsed and skipped */
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
Impl::header(Exchange *ex, ngx_http_request_t *r)
{
    std::string_view name(reinterpret_cast<char *>(r->header_name_start),
                          r->header_name_end - r->header_name_start);
    std::string_view value(reinterpret_cast<char *>(r->header_start),
                           r->header_end - r->header_start);

    if (iequals(name, "content-length")) {
        off_t n = ngx_atoof(r->header_start, value.size());

        if (n == NGX_ERROR) {
            ex->parse_error = "invalid Content-Length";
            return;
        }

        if (ex->content_length != -1 && ex->content_length != n) {
            ex->parse_error = "conflicting Content-Length headers";
            return;
        }

        ex->content_length = n;
        return;
    }

    if (iequals(name, "transfer-encoding")) {
        if (iequals(value, "chunked")) {
            ex->te_chunked = true;

        } else {
            ex->te_other = true;
        }

        return;
    }

    if (iequals(name, "connection")) {
        if (has_token(value, "close")) {
            ex->conn_close = true;
        }

        if (has_token(value, "keep-alive")) {
            ex->conn_keep_alive = true;
        }

        return;
    }

    std::string *field = nullptr;

    if (iequals(name, "retry-after")) {
        field = &ex->resp.retry_after;

    } else if (iequals(name, "location")) {
        field = &ex->resp.location;

    } else if (iequals(name, "x-wns-status")) {
        field = &ex->resp.wns_status;

    } else if (iequals(name, "x-wns-error-description")) {
        field = &ex->resp.wns_error;
    }

    if (field != nullptr) {
        field->assign(value.substr(0, header_value_limit));
    }
}


/* takes n body bytes; false once more than body_limit were read */
bool
Impl::keep(Exchange *ex, const u_char *p, off_t n)
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


/* the connection is ours again */
Conn *
Impl::take_idle(const std::string &key) noexcept
{
    for ( ;; ) {
        Conn *conn = idle_.find([&key](Conn *cn) { return cn->key == key; });

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
        || c->read->timedout || c->write->timedout)
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

    conns_.remove(conn->all);

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


void
Impl::fail(Exchange *ex, const std::string &error) noexcept
{
    if (ex->finished) {
        return;
    }

    ex->resp.status = 0;

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

    if (ex->conn != nullptr) {
        close_conn(ex->conn, false);
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

    return s;
}


namespace {

/* " while <action>, push service: <origin>, peer: <address>" */
u_char *
log_handler(ngx_log_t *log, u_char *buf, size_t len) noexcept
{
    u_char *p = buf;

    if (log->action) {
        p = ngx_snprintf(p, len, " while %s", log->action);
        len -= p - buf;
        buf = p;
    }

    auto *ex = static_cast<Exchange *>(log->data);

    if (ex == nullptr || ex->key.empty()) {
        return p;
    }

    p = ngx_snprintf(p, len, ", push service: %s", ex->key.c_str());
    len -= p - buf;

    if (!ex->peer_text.empty()) {
        p = ngx_snprintf(p, len, ", peer: %s", ex->peer_text.c_str());
    }

    return p;
}


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


void
on_event(ngx_event_t *ev, bool write) noexcept
{
    auto *c = static_cast<ngx_connection_t *>(ev->data);
    auto *conn = static_cast<Conn *>(c->data);

    if (conn == nullptr) {
        return;
    }

    Impl *impl = conn->impl;

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
                impl->send_request(conn);
            }

            /* a read event waits: reading starts once the request is out */
            break;

        case Phase::reading:
            if (!write) {
                impl->read_response(conn);
            }

            break;

        case Phase::handshaking:
        case Phase::idle:
            break;
        }
    });
}


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


void
on_resolved(ngx_resolver_ctx_t *ctx) noexcept
{
    auto *ex = static_cast<Exchange *>(ctx->data);

    guarded(ex, [&]() { ex->impl->resolved(ex, ctx); });
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

} // namespace


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

} // namespace webpush::sender
