/*
 * The push client: the sender's outbound HTTP client, the one interface
 * the sender uses (post() a PushRequest, get a PushResponse).  Built on
 * nginx's own machinery:
 * names resolved by nginx's resolver (never blocking), connections made
 * with ngx_event_connect_peer(), TLS by ngx_ssl_* (SNI, certificate chain
 * and host name checks, session reuse per origin), responses parsed by
 * nginx's HTTP parsers, idle connections kept per origin.  One object per
 * worker process; everything runs on that worker's event loop.
 *
 * Phases and their limits (webpush_timeout applies to each one):
 *
 *   resolve    the resolver's own timeout (resolver_timeout); results
 *              are cached per host until the resolver's valid time
 *   connect    each address of the host in turn until one answers
 *   handshake  TLS, then (verify on) SSL_get_verify_result() and the
 *              host name (ngx_ssl_check_host, or the IP address SANs for
 *              an IP-literal host)
 *   send       the whole request
 *   read       between two reads of the response
 *
 * and a deadline for the whole request, resolving included: three times
 * webpush_timeout (a push service answering one byte at a time, each
 * within the read timeout, cannot hold a slot longer).  At most 80 KiB
 * are read per response, everything counted (interim responses, status
 * line and headers up to 16 KiB, chunk sizes, chunk extensions, trailers,
 * the body); the body of a push service's answer is small, so more is a
 * failure ("response larger than ...") and the connection is closed.
 *
 * Addresses (see address_policy.hpp): before connecting, every address,
 * resolved, cached or an IP literal, must be globally reachable, or named
 * by an IP-literal webpush_push_hosts pattern for that scheme and port;
 * others are skipped with a warning naming host and address.  When no
 * address of the host is left, the request fails with permanent set
 * ("address refused: ...").
 *
 * Any failure gives a PushResponse with status 0 and an error text, such
 * as "connect() to 192.0.2.1:443 failed (111: Connection refused)",
 * "timed out (connecting to 192.0.2.1:443)", "timed out (reading the
 * response from ...)", "TLS handshake failed (...)",
 * "certificate verify failed: self-signed certificate",
 * "host name mismatch: ...", "malformed response: invalid status line",
 * "resolver error: Host not found (push.example.com)",
 * "timed out (no complete answer within 30000 ms from ...)",
 * "response larger than 81920 bytes from ...", "address refused: ...",
 * "invalid request: ...", "aborted".  These failures are logged at the
 * info level with the phase, origin and peer address; nginx itself logs
 * why a TLS handshake failed at the error level.
 *
 * Idle connections are also "reusable" in nginx's sense: when the worker
 * runs out of worker_connections, nginx closes them first.  Keep
 * webpush_concurrency well below worker_connections: a request that
 * finds no free connection fails ("no socket or connection available").
 *
 * HTTP/2 (http2 on, https only): the TLS handshake offers ALPN "h2" and
 * "http/1.1".  When the service picks h2, the connection carries many
 * requests at once as streams (libnghttp2 frames them and does HPACK;
 * the socket and TLS stay nginx's), up to the service's
 * SETTINGS_MAX_CONCURRENT_STREAMS (and 256).  Another connection to the
 * origin is opened only when the open ones have no free stream, at most
 * 8 per origin; beyond that requests wait for a stream (within their
 * deadline).  While the first connection to an origin is being opened,
 * the requests behind it wait for it instead of opening their own.  A
 * service that picks HTTP/1.1 is remembered for an hour and gets
 * HTTP/1.1 keep-alive as below.  A stream refused by the service
 * (RST_STREAM REFUSED_STREAM, or above the last stream id of a GOAWAY)
 * is sent again, on another stream, without the caller seeing it
 * (refused at most 8 times; GOAWAYs within the deadline); other stream
 * resets and connection errors fail the
 * requests on them like a transport error (an answer whose headers
 * arrived keeps its status).  An idle HTTP/2 connection is kept for the
 * keep-alive timeout, checked with PING every 30 s.  It is retired after
 * 100,000 streams or an hour (as below).
 *
 * Not implemented: proxies, redirects (a 3xx is just a status),
 * cleartext HTTP/2 (h2c).

 * Files (src/push/): wire.* the pure wire rules (request writer, HTTP/2
 * header fields, header rules, framing decisions);
 * ngx_webpush_push_conn.* connecting, TLS, session reuse and the
 * keep-alive pool; ngx_webpush_push_transport.hpp the interface the
 * transports (ngx_webpush_push_h1.cpp, ngx_webpush_push_h2.cpp)
 * implement; ngx_webpush_push_origins.cpp which connection or stream an
 * exchange goes on; ngx_webpush_push_client.* this interface, the
 * exchange state machine and resolving.
 *
 * Keepalive: after a complete response that allows it (HTTP/1.1 without
 * "Connection: close", a delimited body), the connection is parked in a
 * per-worker idle list of at most "keepalive" connections (the least
 * recently used one is closed beyond that) and reused for the next
 * request to the same origin (scheme, host, port).  A connection is
 * not parked again after 1,000 requests or once it is an hour old (as
 * nginx's keepalive_requests and keepalive_time).  A request that fails
 * on a reused connection before any byte of the response arrived (the
 * service closed the idle connection meanwhile) is sent once more on a
 * fresh connection; a timeout is not such a failure (the service has the
 * request) and is never sent again.  Idle connections are marked
 * c->idle, so a graceful shutdown closes them at once; none is parked
 * once the worker exits.
 *
 * Requests in flight are not cancelable: a graceful shutdown lets them
 * finish (each is bounded by the deadline above).
 */

#pragma once

#include "ngx.hpp"
#include "push/wire.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>


namespace webpush::push {

class PushHosts;


/*
 * Failures that say the endpoint itself is unreachable, as opposed to the
 * network or the push service being in trouble for a while: the sender
 * expires a subscription after enough of them in a row.  Set with status
 * 0, from the last address tried.
 */
enum class PushFailure {
    none,
    name_not_found,        /* the resolver answered NXDOMAIN */
    connection_refused,    /* ECONNREFUSED */
};


/*
 * status 0: no HTTP answer (transport error, timeout, malformed status
 * line or headers); error says why.  A status with a non-empty error: the
 * push service answered but the body was cut short or malformed (the
 * status stands; the connection was not reused).
 */
struct PushResponse {
    ngx_uint_t    status = 0;
    std::string   error;
    std::string   retry_after;   /* raw Retry-After header */
    std::string   location;
    std::string   wns_status;    /* X-WNS-Status */
    std::string   wns_error;     /* X-WNS-Error-Description */
    std::string   body;          /* the first 1 KiB of the body, for logs */
    bool          reused = false;   /* sent on a kept-alive connection */
    bool          permanent = false;   /* status 0 that sending again
                                          cannot fix: the host's addresses
                                          are refused by policy */
    ngx_msec_t    elapsed = 0;      /* from post() to the answer */
    PushFailure   failure = PushFailure::none;
};


/*
 * Called exactly once per post(), always later from the event loop (a
 * posted event), never from inside post().  It may call post() again; it
 * must not destroy the HttpClient.  Exceptions it throws are logged and
 * dropped.
 */
using Callback = std::function<void(PushResponse &&)>;


struct HttpClientConfig {
    ngx_log_t       *log = nullptr;         /* nullptr: ngx_cycle->log */
    ngx_resolver_t  *resolver = nullptr;    /* http core's resolver */
    ngx_msec_t       resolver_timeout = 30000;
    ngx_ssl_t       *ssl = nullptr;         /* create_client_ssl(); nullptr:
                                               https targets fail */
    bool             verify = true;         /* webpush_ssl_verify */
    ngx_msec_t       timeout = 10000;       /* webpush_timeout */
    ngx_uint_t       keepalive = 16;        /* webpush_keepalive */
    ngx_msec_t       keepalive_timeout = 60000;  /* idle connection life */
    bool             http2 = true;          /* webpush_http2 */

    /*
     * Its IP-literal patterns may name addresses that are not globally
     * reachable (address_policy.hpp).  nullptr: only globally reachable
     * addresses.  Read when the client is made.
     */
    const PushHosts       *push_hosts = nullptr;
};


struct HttpClientStats {
    ngx_uint_t   in_flight;        /* posted, callback not yet run */
    ngx_uint_t   connections;      /* open, idle ones included */
    ngx_uint_t   idle;
    uint64_t     requests;         /* completed with an HTTP status */
    uint64_t     errors;           /* completed without one */
    uint64_t     connects;         /* new connections */
    uint64_t     reuses;           /* requests on kept-alive connections */
    uint64_t     retries;          /* resent after a stale connection */
    uint64_t     tls_resumed;      /* abbreviated TLS handshakes */
    ngx_uint_t   h2_connections;   /* open HTTP/2 connections */
    uint64_t     streams;          /* requests sent on HTTP/2 streams */
    uint64_t     refused;          /* streams refused, sent again */
};


class HttpClient {
public:
    explicit HttpClient(const HttpClientConfig &conf);

    /*
     * Aborts every request still in flight: their callbacks run before
     * the destructor returns, with the response of requests that had
     * already completed or status 0 and error "aborted".  A callback run
     * from here may call post(); that request is aborted too.  All
     * connections are closed.
     */
    ~HttpClient();

    HttpClient(const HttpClient &) = delete;
    HttpClient &operator=(const HttpClient &) = delete;

    /*
     * Takes the request; "done" gets the outcome.  Throws std::bad_alloc
     * only when the request could not be taken at all, and then "done"
     * is never called.
     */
    void post(PushRequest req, Callback done);

    /* requests whose callback has not started yet */
    size_t in_flight() const;

    /* idle kept-alive connections */
    size_t idle() const;

    /* closes all idle connections (e.g. on a configuration change) */
    void close_idle();

    HttpClientStats stats() const;

    class Impl;

private:
    std::unique_ptr<Impl>  impl_;
};


/*
 * The client TLS context, made at configuration time from the
 * webpush_ssl_* directives: TLSv1.2 and TLSv1.3, the CA file, or when
 * trusted_cert is empty or nullptr OpenSSL's default verify paths
 * (SSL_CTX_set_default_verify_paths: SSL_CERT_FILE and SSL_CERT_DIR from
 * the environment, else the system CAs of OpenSSL's OPENSSLDIR; loaded
 * only when verify is on), client session cache callbacks for session
 * reuse.  The context is freed with cf->pool.  Errors are logged at the
 * emerg level.
 */
ngx_int_t create_client_ssl(ngx_conf_t *cf, ngx_ssl_t *ssl,
    ngx_str_t *trusted_cert, bool verify) noexcept;

} // namespace webpush::push
