#include "push/push_hosts.hpp"

#include <cstddef>

namespace webpush::push {

namespace {

const std::size_t kMaxUrl = 2048;

enum class HostKind { Invalid, Name, IPv4, IPv6 };

char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lowercase(std::string_view s)
{
    std::string out(s);
    for (char& c : out) {
        c = lower(c);
    }
    return out;
}

bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f');
}

bool all_digits(std::string_view s)
{
    if (s.empty()) {
        return false;
    }
    for (char c : s) {
        if (!is_digit(c)) {
            return false;
        }
    }
    return true;
}

// Canonical dotted quad only: four decimal parts 0..255 without leading
// zeros. Other numeric spellings resolve differently in different
// libraries, which is exactly what an allow-list must not depend on.
bool canonical_ipv4(std::string_view s)
{
    int parts = 0;
    std::size_t start = 0;
    while (true) {
        std::size_t dot = s.find('.', start);
        std::string_view part = s.substr(
            start, dot == std::string_view::npos ? dot : dot - start);
        if (!all_digits(part) || part.size() > 3
            || (part.size() > 1 && part[0] == '0')
            || std::stoi(std::string(part)) > 255) {
            return false;
        }
        parts++;
        if (dot == std::string_view::npos) {
            break;
        }
        start = dot + 1;
    }
    return parts == 4;
}

// host is lowercase and without brackets; bracketed says whether it was
// written "[...]".
HostKind classify_host(std::string_view host, bool bracketed,
                       std::string& reason)
{
    if (host.empty()) {
        reason = "empty host";
        return HostKind::Invalid;
    }
    if (bracketed) {
        // A light check: the host is compared as text with a pattern
        // written the same way, so full IPv6 parsing buys nothing.
        int colons = 0;
        for (char c : host) {
            if (c == ':') {
                colons++;
            } else if (!is_hex(c) && c != '.') {
                reason = "malformed IPv6 literal";
                return HostKind::Invalid;
            }
        }
        if (colons < 2 || host.size() > 45) {
            reason = "malformed IPv6 literal";
            return HostKind::Invalid;
        }
        return HostKind::IPv6;
    }
    if (host.size() > 253) {
        reason = "host name longer than 253 characters";
        return HostKind::Invalid;
    }
    std::size_t start = 0;
    std::string_view last;
    while (true) {
        std::size_t dot = host.find('.', start);
        std::string_view label = host.substr(
            start, dot == std::string_view::npos ? dot : dot - start);
        if (label.empty()) {
            reason = "empty label in host name";
            return HostKind::Invalid;
        }
        if (label.size() > 63) {
            reason = "host name label longer than 63 characters";
            return HostKind::Invalid;
        }
        for (char c : label) {
            if (!is_digit(c) && !(c >= 'a' && c <= 'z') && c != '-') {
                reason = "invalid character in host name";
                return HostKind::Invalid;
            }
        }
        if (label.front() == '-' || label.back() == '-') {
            reason = "host name label starts or ends with '-'";
            return HostKind::Invalid;
        }
        last = label;
        if (dot == std::string_view::npos) {
            break;
        }
        start = dot + 1;
    }
    // A name whose last label is numeric is an IP address to URL parsers
    // and resolvers ("127.1", "2130706433", "0x7f.1").
    if (all_digits(last) || last.substr(0, 2) == "0x") {
        if (canonical_ipv4(host)) {
            return HostKind::IPv4;
        }
        reason = "numeric host that is not a dotted-quad IPv4 address";
        return HostKind::Invalid;
    }
    return HostKind::Name;
}

bool parse_port(std::string_view s, std::uint16_t& port)
{
    if (!all_digits(s) || s.size() > 5) {
        return false;
    }
    long v = std::stol(std::string(s));
    if (v < 1 || v > 65535) {
        return false;
    }
    port = static_cast<std::uint16_t>(v);
    return true;
}

struct HostPort {
    std::string host;
    bool bracketed = false;
    bool has_port = false;
    std::uint16_t port = 0;
};

// authority is lowercase and has no user info.
bool split_host_port(std::string_view authority, HostPort& out,
                     std::string& reason)
{
    std::string_view rest;
    if (!authority.empty() && authority.front() == '[') {
        std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            reason = "unterminated IPv6 literal";
            return false;
        }
        out.host = std::string(authority.substr(1, close - 1));
        out.bracketed = true;
        rest = authority.substr(close + 1);
    } else {
        std::size_t colon = authority.find(':');
        out.host = std::string(authority.substr(0, colon));
        rest = colon == std::string_view::npos ? std::string_view()
                                               : authority.substr(colon);
    }
    if (!rest.empty()) {
        if (rest.front() != ':' || !parse_port(rest.substr(1), out.port)) {
            reason = "invalid port";
            return false;
        }
        out.has_port = true;
    }
    return true;
}

bool host_matches(const PushHostPattern& p, const std::string& host,
                  HostKind kind)
{
    if (!p.wildcard) {
        return host == p.host;
    }
    if (kind != HostKind::Name || host.size() <= p.host.size() + 1) {
        return false;
    }
    std::size_t at = host.size() - p.host.size();
    return host[at - 1] == '.' && host.compare(at, p.host.size(), p.host)
                                      == 0;
}

}  // namespace

PushHosts PushHosts::defaults()
{
    PushHosts h;
    std::string ignored;
    h.add("default", ignored);
    return h;
}

bool PushHosts::add(std::string_view pattern, std::string& reason)
{
    try {
        std::string p = lowercase(pattern);
        if (p == "default") {
            for (const char* d : {"fcm.googleapis.com",
                                  "*.push.services.mozilla.com",
                                  "*.push.apple.com",
                                  "*.notify.windows.com"}) {
                if (!add(d, reason)) {
                    return false;
                }
            }
            return true;
        }
        PushHostPattern out;
        std::string_view v = p;
        std::size_t scheme_end = v.find("://");
        if (scheme_end != std::string_view::npos) {
            std::string_view scheme = v.substr(0, scheme_end);
            if (scheme == "http") {
                out.allow_http = true;
            } else if (scheme != "https") {
                reason = "only http:// may prefix a pattern";
                return false;
            }
            v.remove_prefix(scheme_end + 3);
        }
        for (char c : v) {
            auto u = static_cast<unsigned char>(c);
            if (u <= 0x20 || u >= 0x7f || c == '/' || c == '@' || c == '?'
                || c == '#' || c == '%' || c == '\\') {
                reason = "a pattern is host, *.domain or host:port, "
                         "without path, user or special characters";
                return false;
            }
        }
        if (v.substr(0, 2) == "*.") {
            out.wildcard = true;
            v.remove_prefix(2);
        }
        HostPort hp;
        if (!split_host_port(v, hp, reason)) {
            return false;
        }
        if (hp.host.find('*') != std::string::npos) {
            reason = "'*' is only allowed as a leading \"*.\"";
            return false;
        }
        HostKind kind = classify_host(hp.host, hp.bracketed, reason);
        if (kind == HostKind::Invalid) {
            return false;
        }
        if (out.wildcard
            && (kind != HostKind::Name
                || hp.host.find('.') == std::string::npos)) {
            reason = "\"*.domain\" needs a domain name of two labels or "
                     "more";
            return false;
        }
        out.host = hp.host;
        out.ip_literal = kind != HostKind::Name;
        out.port = hp.has_port ? hp.port : 0;
        patterns_.push_back(std::move(out));
        return true;
    } catch (...) {
        reason = "out of memory";
        return false;
    }
}

std::optional<PushEndpoint> PushHosts::match(std::string_view url,
                                             std::string& reason) const
{
    try {
        if (url.size() > kMaxUrl) {
            reason = "endpoint longer than 2048 bytes";
            return std::nullopt;
        }
        for (char c : url) {
            auto u = static_cast<unsigned char>(c);
            if (u <= 0x20 || u == 0x7f) {
                reason = "endpoint contains a space or control character";
                return std::nullopt;
            }
            if (u >= 0x80) {
                reason = "endpoint contains non-ASCII characters";
                return std::nullopt;
            }
            if (c == '\\') {
                reason = "endpoint contains a backslash";
                return std::nullopt;
            }
            if (c == '#') {
                reason = "endpoint contains a fragment";
                return std::nullopt;
            }
        }
        std::size_t scheme_end = url.find("://");
        if (scheme_end == std::string_view::npos) {
            reason = "endpoint is not an absolute https URL";
            return std::nullopt;
        }
        PushEndpoint ep;
        ep.scheme = lowercase(url.substr(0, scheme_end));
        if (ep.scheme != "https" && ep.scheme != "http") {
            reason = "endpoint scheme is not https";
            return std::nullopt;
        }
        std::string_view rest = url.substr(scheme_end + 3);
        std::size_t auth_end = rest.find_first_of("/?");
        std::string authority = lowercase(rest.substr(0, auth_end));
        std::string_view tail = auth_end == std::string_view::npos
                                    ? std::string_view()
                                    : rest.substr(auth_end);
        if (authority.find('@') != std::string::npos) {
            reason = "endpoint contains user info";
            return std::nullopt;
        }
        if (authority.find('%') != std::string::npos) {
            reason = "endpoint host is percent-encoded";
            return std::nullopt;
        }
        HostPort hp;
        if (!split_host_port(authority, hp, reason)) {
            reason = "endpoint: " + reason;
            return std::nullopt;
        }
        HostKind kind = classify_host(hp.host, hp.bracketed, reason);
        if (kind == HostKind::Invalid) {
            reason = "endpoint: " + reason;
            return std::nullopt;
        }
        std::uint16_t default_port = ep.scheme == "https" ? 443 : 80;
        ep.host = hp.host;
        ep.ip_literal = kind != HostKind::Name;
        ep.port = hp.has_port ? hp.port : default_port;

        bool host_port_allowed = false;
        bool allowed = false;
        for (const PushHostPattern& p : patterns_) {
            if (!host_matches(p, ep.host, kind)) {
                continue;
            }
            if (ep.port != (p.port != 0 ? p.port : default_port)) {
                continue;
            }
            host_port_allowed = true;
            if (ep.scheme == "https" || p.allow_http) {
                allowed = true;
                break;
            }
        }
        if (!allowed) {
            reason = host_port_allowed
                         ? "plain http is not allowed for this endpoint host"
                         : "endpoint host is not in webpush_push_hosts";
            return std::nullopt;
        }
        ep.authority = hp.bracketed ? "[" + ep.host + "]" : ep.host;
        if (ep.port != default_port) {
            ep.authority += ":" + std::to_string(ep.port);
        }
        ep.origin = ep.scheme + "://" + ep.authority;
        if (tail.empty()) {
            ep.path = "/";
        } else if (tail.front() == '?') {
            ep.path = "/" + std::string(tail);
        } else {
            ep.path = std::string(tail);
        }
        return ep;
    } catch (...) {
        reason = "out of memory";
        return std::nullopt;
    }
}

}  // namespace webpush::push
