// webpush_push_hosts: the allow-list of push-service hosts a subscription
// endpoint may point at, the module's guard against server-side request
// forgery (a subscriber choosing the URL our server then POSTs to).
//
// Patterns (ASCII case-insensitive):
//   default           fcm.googleapis.com, *.push.services.mozilla.com,
//                     *.push.apple.com, *.notify.windows.com
//   host              that host, https, port 443
//   host:port         that host, https, that port
//   *.domain          any subdomain of domain at any depth, NOT domain
//                     itself (the push services above use subdomains, and
//                     a bare-domain match would be a wider grant than the
//                     pattern reads); domain needs two labels at least,
//                     so "*.com" is refused
//   http://host[:port]  as above and also plain http (port 80 when none
//                     is given); "https://" in front is accepted and means
//                     the same as no scheme
// An IPv4 literal (dotted quad) or a bracketed IPv6 literal is allowed as
// a host; a URL with an IP literal host matches only a pattern with that
// same literal, never a wildcard.
//
// An endpoint URL is refused when: longer than 2048 bytes; any space,
// control, non-ASCII or backslash byte anywhere; a fragment; a scheme
// other than https (or http where the matching pattern allows it);
// user info ("https://fcm.googleapis.com@evil/"); a percent sign in the
// host; an empty host, an empty label or a trailing dot; a numeric host
// that is not a canonical dotted quad ("2130706433", "0x7f.1",
// "127.1"); a port outside 1..65535; or no pattern matches.

#ifndef WEBPUSH_PUSH_PUSH_HOSTS_HPP
#define WEBPUSH_PUSH_PUSH_HOSTS_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace webpush::push {

struct PushHostPattern {
    std::string host;        // lowercase; the domain part for "*.domain";
                             // an IPv6 literal without brackets
    bool wildcard = false;   // "*.domain"
    bool ip_literal = false;
    std::uint16_t port = 0;  // 0: the URL scheme's default port only
    bool allow_http = false; // written "http://..."
};

// What the sender needs from an accepted endpoint.
struct PushEndpoint {
    std::string scheme;      // "https" or "http"
    std::string host;        // lowercase, IPv6 without brackets
    bool ip_literal = false;
    std::uint16_t port = 0;  // effective port, 443/80 when not written
    std::string authority;   // Host header: host[:port], IPv6 bracketed,
                             // port omitted when it is the default
    std::string origin;      // scheme://authority (the VAPID "aud")
    std::string path;        // path and query, at least "/"
};

class PushHosts {
public:
    // Matches nothing; call add() or use defaults().
    PushHosts() = default;

    // The list that "default" expands to.
    static PushHosts defaults();

    // Adds one directive argument. false and a reason (for the [emerg]
    // line) when the pattern is malformed; nothing is added then.
    bool add(std::string_view pattern, std::string& reason);

    bool empty() const noexcept { return patterns_.empty(); }
    const std::vector<PushHostPattern>& patterns() const noexcept
    {
        return patterns_;
    }

    // The parsed endpoint when url is acceptable, else nullopt and a
    // reason fit for an error detail.
    std::optional<PushEndpoint> match(std::string_view url,
                                      std::string& reason) const;

private:
    std::vector<PushHostPattern> patterns_;
};

}  // namespace webpush::push

#endif
