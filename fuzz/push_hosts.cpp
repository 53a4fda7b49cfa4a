// webpush_push_hosts patterns and endpoint URLs (the SSRF guard).
// Input: lines; every line but the last is a pattern for PushHosts::add,
// the last one is the URL for match(). With no pattern accepted the
// built-in default list is used.

#include <string>
#include <vector>

#include "push/push_hosts.hpp"
#include "fuzz_common.hpp"

using namespace webpush::push;

namespace {

bool host_allowed_by(const PushHostPattern& p, const std::string& host)
{
    if (!p.wildcard) {
        return host == p.host;
    }
    return host.size() > p.host.size() + 1
           && host.compare(host.size() - p.host.size(), p.host.size(),
                           p.host)
                  == 0
           && host[host.size() - p.host.size() - 1] == '.';
}

void check_endpoint(const PushHosts& hosts, const PushEndpoint& ep)
{
    FUZZ_CHECK(ep.scheme == "https" || ep.scheme == "http", "scheme");
    FUZZ_CHECK(!ep.host.empty(), "host");
    FUZZ_CHECK(ep.port != 0, "port");
    FUZZ_CHECK(!ep.path.empty() && ep.path[0] == '/', "path starts with /");
    for (char c : ep.path) {
        auto u = static_cast<unsigned char>(c);
        FUZZ_CHECK(u > 0x20 && u < 0x7f && c != '#', "request-line safe");
    }
    for (char c : ep.host) {
        FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                       || c == '-' || c == '.' || c == ':',
                   "host characters");
    }
    FUZZ_CHECK(ep.authority.find('@') == std::string::npos, "no userinfo");
    FUZZ_CHECK(ep.origin == ep.scheme + "://" + ep.authority, "origin");

    // Some pattern grants exactly this host, port and scheme.
    bool granted = false;
    for (const PushHostPattern& p : hosts.patterns()) {
        std::uint16_t def = ep.scheme == "https" ? 443 : 80;
        if (host_allowed_by(p, ep.host)
            && ep.port == (p.port != 0 ? p.port : def)
            && (ep.scheme == "https" || p.allow_http)
            && (!ep.ip_literal || (!p.wildcard && p.ip_literal))) {
            granted = true;
        }
    }
    FUZZ_CHECK(granted, "a pattern grants the endpoint");

    // The canonical form is accepted again and means the same.
    std::string reason;
    auto again = hosts.match(ep.origin + ep.path, reason);
    FUZZ_CHECK(again.has_value(), "canonical form re-matches");
    FUZZ_CHECK(again->host == ep.host && again->port == ep.port
                   && again->scheme == ep.scheme
                   && again->authority == ep.authority
                   && again->path == ep.path,
               "canonical form is a fixed point");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size)
{
    std::string_view in = webpush_fuzz::as_view(data, size);
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    while (true) {
        std::size_t nl = in.find('\n', start);
        if (nl == std::string_view::npos) {
            lines.push_back(in.substr(start));
            break;
        }
        lines.push_back(in.substr(start, nl - start));
        start = nl + 1;
    }

    PushHosts hosts;
    std::string reason;
    for (std::size_t i = 0; i + 1 < lines.size() && i < 16; i++) {
        std::size_t before = hosts.patterns().size();
        reason.clear();
        bool ok = hosts.add(lines[i], reason);
        FUZZ_CHECK(ok == (hosts.patterns().size() > before),
                   "add adds exactly when it succeeds");
        FUZZ_CHECK(ok || !reason.empty(), "a refusal has a reason");
        if (ok) {
            for (const PushHostPattern& p : hosts.patterns()) {
                FUZZ_CHECK(!p.host.empty(), "pattern host");
                FUZZ_CHECK(!p.wildcard || p.host.find('.')
                                              != std::string::npos,
                           "wildcard needs two labels");
            }
        }
    }
    if (hosts.empty()) {
        hosts = PushHosts::defaults();
    }

    reason.clear();
    auto ep = hosts.match(lines.back(), reason);
    if (ep) {
        check_endpoint(hosts, *ep);
    } else {
        FUZZ_CHECK(!reason.empty(), "a refusal has a reason");
    }
    return 0;
}
