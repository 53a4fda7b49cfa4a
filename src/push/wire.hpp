/*
 * The wire rules of the push client, pure C++ (no nginx headers; built
 * into the unit tests and the push_wire fuzz target).
 *
 *   request    PushTarget + PushRequest -> the HTTP/1.1 request bytes
 *              (write_request) or the HTTP/2 header fields
 *              (request_fields, the same checks); HTTP/1.1: request
 *              line, Host, the caller's headers in order (Host,
 *              Content-Length, Connection and Transfer-Encoding are the
 *              client's own and skipped), Content-Length, "Connection:
 *              close" when keep-alive is off, the body.  A header name
 *              that is not an RFC 9110 token or a value with CR, LF or
 *              NUL fails the request ("invalid request: bad header ...").
 *   response   what nginx's parsers found, header by header
 *              (ResponseHead::add), then one framing decision
 *              (decide_framing): no body, Content-Length, chunked or
 *              until the connection closes, and whether the connection
 *              may carry another request afterwards.
 *   limits     the byte caps of one response (status line and headers,
 *              body, everything read) and of the kept header values.
 *
 * The status line, header lines and chunked syntax themselves are
 * parsed by nginx's own parsers (ngx_webpush_push_h1.cpp): the client is
 * exactly as strict and as lenient as nginx's proxy module.
 */

#pragma once

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


namespace webpush::push {

/* status line and headers, in one buffer (the parsers point into it) */
constexpr size_t   header_buffer_size = 16384;
/* of the body, kept for logs */
constexpr size_t   body_kept = 1024;
/* body bytes read at most; more fails the response */
constexpr int64_t  body_limit = 65536;
/* everything read for one response (interim responses, chunk sizes,
   extensions and trailers included) */
constexpr int64_t  response_limit = header_buffer_size + body_limit;
/* of Retry-After, Location and the X-WNS-* values */
constexpr size_t   header_value_limit = 1024;


struct PushTarget {
    bool          tls = true;
    std::string   host;        /* DNS name, IPv4 literal, or IPv6 literal
                                  with or without brackets */
    in_port_t     port = 443;  /* host byte order */
    std::string   path;        /* path and query, starts with "/" */
    std::string   origin;      /* scheme://authority, for logs */
};


struct PushRequest {
    PushTarget                                        target;

    /*
     * Sent as given, in order.  Host, Content-Length, Connection and
     * Transfer-Encoding are the client's own and skipped when present.
     */
    std::vector<std::pair<std::string, std::string>>  headers;
    std::string                                       body;
};


/* ASCII case-insensitive equality */
bool iequals(std::string_view a, std::string_view b) noexcept;

/* does a comma-separated header value hold this token? */
bool has_token(std::string_view value, std::string_view token) noexcept;

/* an RFC 9110 token (header names) */
bool valid_token(std::string_view s) noexcept;

/* no CR, LF or NUL (header values) */
bool valid_value(std::string_view s) noexcept;

/* starts with "/", no control characters, no spaces */
bool valid_path(std::string_view s) noexcept;

/* a lowercase DNS name: [a-z0-9._-], 1..253 characters */
bool valid_name(std::string_view s) noexcept;

/* the host lowercased, brackets of an IPv6 literal removed */
std::string host_name(std::string_view host);

/* the name as it appears in an authority: IPv6 literals bracketed */
std::string authority_host(const std::string &name);

/* "https://name:port": the keep-alive and TLS session key of an origin */
std::string origin_key(bool tls, const std::string &name, in_port_t port);

/*
 * Appends the request for req to out, name being host_name() of its
 * host; "" or the error ("invalid request: bad header \"X\"").  The
 * target's name and path are checked by the caller (in this order:
 * name, path), the headers here.
 */
std::string write_request(const PushRequest &req, const std::string &name,
                          bool keepalive, std::string &out);


/*
 * The caller's headers as write_request() and request_fields() check
 * them: "" or the same error.  Lets a request be refused before any
 * connection, whichever protocol it then goes over.
 */
std::string check_headers(const PushRequest &req);


/* one HTTP/2 header field: lowercase name, value */
using Field = std::pair<std::string, std::string>;

/*
 * The same request as HTTP/2 header fields (RFC 9113 8.3): :method POST,
 * :scheme, :authority (the port only when not the scheme's default),
 * :path, then the caller's headers in order with lowercase names, then
 * content-length.  The connection-specific fields HTTP/2 forbids (8.2.2:
 * Connection, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade,
 * TE) and Host and Content-Length (the client's own) are skipped.  ""
 * or the error, as write_request() (the same header checks).
 */
std::string request_fields(const PushRequest &req, const std::string &name,
                           std::vector<Field> &out);


/* a response header the client keeps for the caller */
enum class Kept {
    none,
    retry_after,
    location,
    wns_status,
    wns_error,
};


/* what the headers of one response said about its framing */
struct ResponseHead {
    int64_t  content_length = -1;
    bool     te_chunked = false;
    bool     te_other = false;
    bool     conn_close = false;
    bool     conn_keep_alive = false;

    /*
     * One header line, name and value as nginx's parser delimits them.
     * nullptr, or the error that makes the response malformed ("invalid
     * Content-Length", "conflicting Content-Length headers").  *kept
     * says whether the caller keeps the value (and where).
     */
    const char *add(std::string_view name, std::string_view value,
                    Kept *kept) noexcept;
};


enum class Body {
    none,
    length,
    chunked,
    until_close,
};


struct Framing {
    Body     body = Body::none;
    int64_t  length = 0;         /* Body::length: bytes to read */
    bool     reusable = false;   /* the connection may carry another
                                    request once the body is read */
};


/* 1xx but 101: an interim response, the final one follows */
bool interim(unsigned status) noexcept;

/*
 * The body of a final response and whether the connection stays open:
 * HTTP/1.1 (http_version 1001 and up, as nginx counts) unless "Connection:
 * close", HTTP/1.0 only with "Connection: keep-alive"; never after a
 * 1xx, a body delimited by the close, or a chunked body that also has
 * Content-Length or another transfer coding (RFC 9112 6.3: a request
 * smuggling sign).
 */
Framing decide_framing(unsigned status, unsigned http_version,
                       const ResponseHead &head) noexcept;

/* Content-Length's value: digits only, no overflow; -1 if not */
int64_t parse_length(std::string_view value) noexcept;

} // namespace webpush::push
