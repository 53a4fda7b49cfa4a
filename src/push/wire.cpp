/*
 * The HTTP/1.1 wire rules (see the header).  Moved unchanged from the
 * HTTP client; parse_length() is ngx_atoof()'s rule without nginx.
 */

#include "push/wire.hpp"

#include <limits>


namespace webpush::push {
namespace {

char
lower(char c) noexcept
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

} // namespace


bool
iequals(std::string_view a, std::string_view b) noexcept
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


bool
has_token(std::string_view value, std::string_view token) noexcept
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
valid_token(std::string_view s) noexcept
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
valid_value(std::string_view s) noexcept
{
    for (char ch : s) {
        if (ch == '\r' || ch == '\n' || ch == '\0') {
            return false;
        }
    }

    return true;
}


bool
valid_path(std::string_view s) noexcept
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
valid_name(std::string_view s) noexcept
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


std::string
host_name(std::string_view host)
{
    std::string name;
    name.reserve(host.size());

    for (char ch : host) {
        name += lower(ch);
    }

    if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
        name = name.substr(1, name.size() - 2);
    }

    return name;
}


std::string
authority_host(const std::string &name)
{
    return name.find(':') != std::string::npos ? "[" + name + "]" : name;
}


std::string
origin_key(bool tls, const std::string &name, in_port_t port)
{
    return (tls ? "https://" : "http://") + authority_host(name) + ":"
           + std::to_string(port);
}


namespace {

/* the client writes these itself: the caller's are skipped, unchecked */
bool
own_header(std::string_view name) noexcept
{
    return iequals(name, "host") || iequals(name, "content-length")
           || iequals(name, "connection")
           || iequals(name, "transfer-encoding");
}

} // namespace


std::string
write_request(const PushRequest &req, const std::string &name,
    bool keepalive, std::string &out)
{
    const PushTarget &t = req.target;

    std::string port = std::to_string(t.port);
    bool default_port = t.port == (t.tls ? 443 : 80);
    std::string host = authority_host(name);

    out.reserve(out.size() + 256 + t.path.size() + req.body.size());
    out += "POST ";
    out += t.path;
    out += " HTTP/1.1\r\nHost: ";
    out += host;

    if (!default_port) {
        out += ':';
        out += port;
    }

    out += "\r\n";

    for (const auto &h : req.headers) {
        if (own_header(h.first)) {
            continue;
        }

        if (!valid_token(h.first) || !valid_value(h.second)) {
            return "invalid request: bad header \"" + h.first + "\"";
        }

        out += h.first;
        out += ": ";
        out += h.second;
        out += "\r\n";
    }

    out += "Content-Length: ";
    out += std::to_string(req.body.size());
    out += "\r\n";

    if (!keepalive) {
        out += "Connection: close\r\n";
    }

    out += "\r\n";
    out += req.body;

    return std::string();
}


std::string
check_headers(const PushRequest &req)
{
    for (const auto &h : req.headers) {
        if (own_header(h.first)) {
            continue;
        }

        if (!valid_token(h.first) || !valid_value(h.second)) {
            return "invalid request: bad header \"" + h.first + "\"";
        }
    }

    return std::string();
}


std::string
request_fields(const PushRequest &req, const std::string &name,
    std::vector<Field> &out)
{
    const PushTarget &t = req.target;

    std::string authority = authority_host(name);

    if (t.port != (t.tls ? 443 : 80)) {
        authority += ':';
        authority += std::to_string(t.port);
    }

    out.reserve(out.size() + 5 + req.headers.size());
    out.emplace_back(":method", "POST");
    out.emplace_back(":scheme", t.tls ? "https" : "http");
    out.emplace_back(":authority", std::move(authority));
    out.emplace_back(":path", t.path);

    /* connection-specific: checked, then left out (RFC 9113 8.2.2) */
    static constexpr std::string_view  forbidden[] = {
        "keep-alive", "proxy-connection", "upgrade", "te",
    };

    auto named = [](const std::string &name, auto &list) {
        for (std::string_view s : list) {
            if (iequals(name, s)) {
                return true;
            }
        }

        return false;
    };

    for (const auto &h : req.headers) {
        if (own_header(h.first)) {
            continue;
        }

        if (!valid_token(h.first) || !valid_value(h.second)) {
            return "invalid request: bad header \"" + h.first + "\"";
        }

        if (named(h.first, forbidden)) {
            continue;
        }

        std::string lower(h.first);

        for (char &c : lower) {
            if (c >= 'A' && c <= 'Z') {
                c = static_cast<char>(c - 'A' + 'a');
            }
        }

        out.emplace_back(std::move(lower), h.second);
    }

    out.emplace_back("content-length", std::to_string(req.body.size()));

    return std::string();
}


int64_t
parse_length(std::string_view value) noexcept
{
    constexpr int64_t  max = std::numeric_limits<int64_t>::max();
    constexpr int64_t  cutoff = max / 10;
    constexpr int64_t  cutlim = max % 10;

    if (value.empty()) {
        return -1;
    }

    int64_t n = 0;

    for (char ch : value) {
        if (ch < '0' || ch > '9') {
            return -1;
        }

        int64_t d = ch - '0';

        if (n >= cutoff && (n > cutoff || d > cutlim)) {
            return -1;
        }

        n = n * 10 + d;
    }

    return n;
}


const char *
ResponseHead::add(std::string_view name, std::string_view value,
    Kept *kept) noexcept
{
    *kept = Kept::none;

    if (iequals(name, "content-length")) {
        int64_t n = parse_length(value);

        if (n == -1) {
            return "invalid Content-Length";
        }

        if (content_length != -1 && content_length != n) {
            return "conflicting Content-Length headers";
        }

        content_length = n;
        return nullptr;
    }

    if (iequals(name, "transfer-encoding")) {
        if (iequals(value, "chunked")) {
            te_chunked = true;

        } else {
            te_other = true;
        }

        return nullptr;
    }

    if (iequals(name, "connection")) {
        if (has_token(value, "close")) {
            conn_close = true;
        }

        if (has_token(value, "keep-alive")) {
            conn_keep_alive = true;
        }

        return nullptr;
    }

    if (iequals(name, "retry-after")) {
        *kept = Kept::retry_after;

    } else if (iequals(name, "location")) {
        *kept = Kept::location;

    } else if (iequals(name, "x-wns-status")) {
        *kept = Kept::wns_status;

    } else if (iequals(name, "x-wns-error-description")) {
        *kept = Kept::wns_error;
    }

    return nullptr;
}


bool
interim(unsigned status) noexcept
{
    return status >= 100 && status < 200 && status != 101;
}


Framing
decide_framing(unsigned status, unsigned http_version,
    const ResponseHead &head) noexcept
{
    Framing  f;

    f.reusable = http_version >= 1001
                 ? !head.conn_close
                 : head.conn_keep_alive && !head.conn_close;

    if (status < 200 || status == 204 || status == 304) {
        f.body = Body::none;

        if (status < 200) {
            f.reusable = false;
        }

    } else if (head.te_chunked) {
        f.body = Body::chunked;

        if (head.content_length != -1 || head.te_other) {
            f.reusable = false;
        }

    } else if (head.te_other || head.content_length == -1) {
        f.body = Body::until_close;
        f.reusable = false;

    } else {
        f.body = head.content_length ? Body::length : Body::none;
        f.length = head.content_length;
    }

    return f;
}

} // namespace webpush::push
