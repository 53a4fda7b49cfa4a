// Which IP addresses the sender may connect to (the SSRF guard after DNS).
// Pure C++, no nginx headers.
//
// webpush_push_hosts checks host names; a name's DNS answer is chosen by
// whoever controls its zone (or rebinds it), so an allowed name could
// still lead the sender to 127.0.0.1, a cloud metadata service
// (169.254.169.254) or the private network.  Every address the HTTP
// client is about to connect to, resolved or cached, is therefore
// checked here: one that is not globally reachable is refused unless a
// webpush_push_hosts pattern names that IP literal for the same scheme
// and port (how a test or an on-premises push service is allowed on
// purpose).
//
// "Globally reachable" follows the IANA IPv4 and IPv6 Special-Purpose
// Address Registries (entries whose "Globally Reachable" is False), plus
// multicast, and for IPv6 everything outside global unicast 2000::/3:
//
//   IPv4  0/8 this network, 10/8, 172.16/12, 192.168/16 private-use,
//         100.64/10 shared (CGNAT), 127/8 loopback, 169.254/16
//         link-local, 192.0.0/24 IETF protocol assignments (except the
//         globally reachable 192.0.0.9 and 192.0.0.10), 192.0.2/24,
//         198.51.100/24, 203.0.113/24 documentation, 192.88.99/24
//         deprecated 6to4 relay anycast, 198.18/15 benchmarking,
//         224/4 multicast, 240/4 reserved, 255.255.255.255 broadcast.
//   IPv6  :: unspecified, ::1 loopback, ::ffff:0:0/96 IPv4-mapped,
//         ::/96 IPv4-compatible (and the rest of ::/8), 64:ff9b:1::/48
//         local-use translation, 100::/64 discard, 2001::/23 IETF
//         protocol assignments (Teredo 2001::/32, benchmarking
//         2001:2::/48, ORCHID 2001:10::/28, and so on; except the
//         globally reachable 2001:1::1-3, 2001:3::/32, 2001:4:112::/48,
//         2001:20::/28, 2001:30::/28), 2001:db8::/32 and 3fff::/20
//         documentation, 5f00::/16 SRv6, fc00::/7 unique local,
//         fe80::/10 link-local, fec0::/10 site-local, ff00::/8
//         multicast; anything else outside 2000::/3.
//   Embedded IPv4: NAT64 64:ff9b::/96 (globally reachable itself: DNS64
//         networks reach IPv4-only services through it) and 6to4
//         2002::/16 are judged by the IPv4 address they carry.

#ifndef WEBPUSH_SENDER_ADDRESS_POLICY_HPP
#define WEBPUSH_SENDER_ADDRESS_POLICY_HPP

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace webpush::push {

class PushHosts;

struct IpAddress {
    bool v6 = false;
    std::array<std::uint8_t, 16> bytes{};   // IPv4: the first 4, network
                                            // order; the rest zero

    static IpAddress v4(std::uint8_t a, std::uint8_t b, std::uint8_t c,
                        std::uint8_t d) noexcept;

    bool operator==(const IpAddress& o) const noexcept
    {
        return v6 == o.v6 && bytes == o.bytes;
    }
    bool operator!=(const IpAddress& o) const noexcept
    {
        return !(*this == o);
    }
};

// A dotted quad ("192.0.2.1", four decimal parts 0..255, no leading
// zeros) or IPv6 text without brackets ("2001:db8::1", "::ffff:1.2.3.4");
// nothing for anything else (names, "127.1", "[::1]", zone ids).
std::optional<IpAddress> parse_ip(std::string_view text);

// "192.0.2.1", "2001:db8::1" (RFC 5952 form).
std::string to_string(const IpAddress& a);

// nullptr when the address is globally reachable, else the special-
// purpose block it falls in, for logs: "loopback (127.0.0.0/8)".
const char* special_purpose(const IpAddress& a) noexcept;

class AddressPolicy {
public:
    // Refuses every address that is not globally reachable.
    AddressPolicy() = default;

    // ... except those that an IP-literal pattern of hosts names.
    explicit AddressPolicy(const push::PushHosts& hosts);

    // Allows a not globally reachable address for https on port (0: 443)
    // and, with allow_http, plain http on port (0: 80), as the pattern
    // "[http://]address[:port]" does.
    void grant(const IpAddress& a, std::uint16_t port, bool allow_http);

    // nullptr when the client may connect to a for a request with this
    // scheme and port; else why not (the special-purpose block).
    const char* refusal(const IpAddress& a, bool tls,
                        std::uint16_t port) const noexcept;

    std::size_t grants() const noexcept { return grants_.size(); }

private:
    struct Grant {
        IpAddress addr;
        std::uint16_t port = 0;
        bool allow_http = false;
    };

    std::vector<Grant> grants_;
};

}  // namespace webpush::push

#endif
