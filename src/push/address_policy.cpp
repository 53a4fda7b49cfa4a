#include "push/address_policy.hpp"

#include "push/push_hosts.hpp"

#include <arpa/inet.h>

#include <cstddef>

namespace webpush::push {

namespace {

// One registry entry: the first "bits" bits of "prefix".  reason nullptr
// marks a globally reachable exception inside a wider refused block; the
// tables are searched in order, so exceptions come first.
struct Block {
    std::array<std::uint8_t, 16> prefix;
    unsigned bits;
    const char* reason;
};

bool in_block(const std::uint8_t* bytes, const Block& b) noexcept
{
    unsigned whole = b.bits / 8;
    for (unsigned i = 0; i < whole; i++) {
        if (bytes[i] != b.prefix[i]) {
            return false;
        }
    }
    unsigned rest = b.bits % 8;
    if (rest == 0) {
        return true;
    }
    auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (bytes[whole] & mask) == (b.prefix[whole] & mask);
}

const Block ipv4_blocks[] = {
    {{192, 0, 0, 9}, 32, nullptr},     // PCP anycast: globally reachable
    {{192, 0, 0, 10}, 32, nullptr},    // TURN anycast: globally reachable
    {{0}, 8, "\"this network\" (0.0.0.0/8)"},
    {{10}, 8, "private-use (10.0.0.0/8)"},
    {{100, 64}, 10, "shared address space (100.64.0.0/10)"},
    {{127}, 8, "loopback (127.0.0.0/8)"},
    {{169, 254}, 16, "link-local (169.254.0.0/16)"},
    {{172, 16}, 12, "private-use (172.16.0.0/12)"},
    {{192, 0, 0}, 24, "IETF protocol assignments (192.0.0.0/24)"},
    {{192, 0, 2}, 24, "documentation (192.0.2.0/24)"},
    {{192, 88, 99}, 24, "6to4 relay anycast (192.88.99.0/24)"},
    {{192, 168}, 16, "private-use (192.168.0.0/16)"},
    {{198, 18}, 15, "benchmarking (198.18.0.0/15)"},
    {{198, 51, 100}, 24, "documentation (198.51.100.0/24)"},
    {{203, 0, 113}, 24, "documentation (203.0.113.0/24)"},
    {{224}, 4, "multicast (224.0.0.0/4)"},
    {{255, 255, 255, 255}, 32, "limited broadcast (255.255.255.255/32)"},
    {{240}, 4, "reserved (240.0.0.0/4)"},
};

const Block ipv6_blocks[] = {
    {{0x20, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01}, 128,
     nullptr},                         // 2001:1::1 PCP anycast
    {{0x20, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02}, 128,
     nullptr},                         // 2001:1::2 TURN anycast
    {{0x20, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03}, 128,
     nullptr},                         // 2001:1::3 DNS-SD SRP anycast
    {{0x20, 0x01, 0x00, 0x03}, 32, nullptr},            // AMT
    {{0x20, 0x01, 0x00, 0x04, 0x01, 0x12}, 48, nullptr},  // AS112-v6
    {{0x20, 0x01, 0x00, 0x20}, 28, nullptr},            // ORCHIDv2
    {{0x20, 0x01, 0x00, 0x30}, 28, nullptr},            // drone DETs
    {{0}, 128, "unspecified (::/128)"},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128,
     "loopback (::1/128)"},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96,
     "IPv4-mapped (::ffff:0:0/96)"},
    {{0}, 96, "IPv4-compatible (::/96)"},
    {{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48,
     "local-use IPv4/IPv6 translation (64:ff9b:1::/48)"},
    {{0x01, 0x00}, 64, "discard-only (100::/64)"},
    {{0x20, 0x01, 0x00, 0x00}, 32, "Teredo (2001::/32)"},
    {{0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48,
     "benchmarking (2001:2::/48)"},
    {{0x20, 0x01, 0x00, 0x10}, 28, "ORCHID (2001:10::/28)"},
    {{0x20, 0x01, 0x0d, 0xb8}, 32, "documentation (2001:db8::/32)"},
    {{0x20, 0x01}, 23, "IETF protocol assignments (2001::/23)"},
    {{0x3f, 0xff}, 20, "documentation (3fff::/20)"},
    {{0x5f, 0x00}, 16, "segment routing SIDs (5f00::/16)"},
    {{0xfc}, 7, "unique local (fc00::/7)"},
    {{0xfe, 0x80}, 10, "link-local (fe80::/10)"},
    {{0xfe, 0xc0}, 10, "site-local (fec0::/10)"},
    {{0xff}, 8, "multicast (ff00::/8)"},
};

const Block nat64 = {{0x00, 0x64, 0xff, 0x9b}, 96, nullptr};
const Block six_to_four = {{0x20, 0x02}, 16, nullptr};
const Block global_unicast = {{0x20}, 3, nullptr};

template <std::size_t N>
const Block* lookup(const Block (&table)[N], const std::uint8_t* bytes)
{
    for (const Block& b : table) {
        if (in_block(bytes, b)) {
            return &b;
        }
    }
    return nullptr;
}

const char* ipv4_special(const std::uint8_t* bytes) noexcept
{
    const Block* b = lookup(ipv4_blocks, bytes);
    return b == nullptr ? nullptr : b->reason;
}

}  // namespace

IpAddress IpAddress::v4(std::uint8_t a, std::uint8_t b, std::uint8_t c,
                        std::uint8_t d) noexcept
{
    IpAddress ip;
    ip.bytes[0] = a;
    ip.bytes[1] = b;
    ip.bytes[2] = c;
    ip.bytes[3] = d;
    return ip;
}

std::optional<IpAddress> parse_ip(std::string_view text)
{
    // inet_pton() wants a C string; 45 characters is the longest IPv6
    // text (with an embedded dotted quad).
    if (text.empty() || text.size() > 45) {
        return std::nullopt;
    }
    char buf[46];
    text.copy(buf, text.size());
    buf[text.size()] = '\0';

    IpAddress ip;
    if (text.find(':') == std::string_view::npos) {
        // glibc's inet_pton() takes exactly the canonical dotted quad
        // (no leading zeros, no short forms), as push_hosts.cpp does.
        if (inet_pton(AF_INET, buf, ip.bytes.data()) != 1) {
            return std::nullopt;
        }
        return ip;
    }
    if (inet_pton(AF_INET6, buf, ip.bytes.data()) != 1) {
        return std::nullopt;
    }
    ip.v6 = true;
    return ip;
}

std::string to_string(const IpAddress& a)
{
    char buf[INET6_ADDRSTRLEN];
    if (inet_ntop(a.v6 ? AF_INET6 : AF_INET, a.bytes.data(), buf,
                  sizeof(buf))
        == nullptr) {
        return "?";
    }
    return buf;
}

const char* special_purpose(const IpAddress& a) noexcept
{
    const std::uint8_t* bytes = a.bytes.data();

    if (!a.v6) {
        return ipv4_special(bytes);
    }

    if (in_block(bytes, nat64)) {
        // Globally reachable as a block (DNS64 answers point there), but
        // the gateway forwards to the IPv4 address in the last 32 bits.
        return ipv4_special(bytes + 12) == nullptr
                   ? nullptr
                   : "NAT64 (64:ff9b::/96) of a non-global IPv4 address";
    }

    const Block* b = lookup(ipv6_blocks, bytes);
    if (b != nullptr) {
        return b->reason;
    }

    if (in_block(bytes, six_to_four)) {
        // 2002:AABB:CCDD::/48 is routed to the IPv4 host AA.BB.CC.DD.
        return ipv4_special(bytes + 2) == nullptr
                   ? nullptr
                   : "6to4 (2002::/16) of a non-global IPv4 address";
    }

    if (!in_block(bytes, global_unicast)) {
        return "not global unicast (outside 2000::/3)";
    }

    return nullptr;
}

AddressPolicy::AddressPolicy(const push::PushHosts& hosts)
{
    for (const push::PushHostPattern& p : hosts.patterns()) {
        if (!p.ip_literal || p.wildcard) {
            continue;
        }
        std::optional<IpAddress> a = parse_ip(p.host);
        if (a) {
            grant(*a, p.port, p.allow_http);
        }
    }
}

void AddressPolicy::grant(const IpAddress& a, std::uint16_t port,
                          bool allow_http)
{
    grants_.push_back(Grant{a, port, allow_http});
}

const char* AddressPolicy::refusal(const IpAddress& a, bool tls,
                                   std::uint16_t port) const noexcept
{
    const char* why = special_purpose(a);
    if (why == nullptr) {
        return nullptr;
    }

    // The same rule as PushHosts::match() for an IP-literal endpoint: the
    // pattern's port (or the scheme's default) and its scheme.
    std::uint16_t default_port = tls ? 443 : 80;
    for (const Grant& g : grants_) {
        if (g.addr == a && port == (g.port != 0 ? g.port : default_port)
            && (tls || g.allow_http)) {
            return nullptr;
        }
    }
    return why;
}

}  // namespace webpush::push
