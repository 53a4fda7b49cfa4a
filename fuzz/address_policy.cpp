// The SSRF guard after DNS (push/address_policy.hpp).  Input: the first
// line is an address in text for parse_ip(); the other lines are
// webpush_push_hosts patterns for the AddressPolicy.  The first 16 bytes
// are also taken raw, as an IPv6 and (4 of them) an IPv4 address, to
// reach every block without valid text.

#include <string>
#include <vector>

#include "push/push_hosts.hpp"
#include "fuzz_common.hpp"
#include "push/address_policy.hpp"

using namespace webpush::push;

namespace {

IpAddress v6_with(const std::uint8_t* prefix, std::size_t n,
                  const std::uint8_t* v4, std::size_t at)
{
    IpAddress a;
    a.v6 = true;
    for (std::size_t i = 0; i < n; i++) {
        a.bytes[i] = prefix[i];
    }
    for (std::size_t i = 0; i < 4; i++) {
        a.bytes[at + i] = v4[i];
    }
    return a;
}

void check_address(const IpAddress& a, const AddressPolicy& policy)
{
    const char* why = special_purpose(a);

    // the text form parses back to the same address
    std::string text = to_string(a);
    auto again = parse_ip(text);
    FUZZ_CHECK(again.has_value() && *again == a, "to_string round trip");

    // a global address needs no grant; a refused one names its block
    for (bool tls : {true, false}) {
        for (std::uint16_t port : {80, 443, 8443}) {
            const char* r = policy.refusal(a, tls, port);
            FUZZ_CHECK(why != nullptr || r == nullptr, "global is allowed");
            FUZZ_CHECK(r == nullptr || r == why, "refusal is the block");
        }
    }

    if (a.v6) {
        return;
    }

    // IPv4 inside IPv6: mapped and compatible always refused, NAT64 and
    // 6to4 exactly when the IPv4 address is
    static const std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0,
                                            0, 0, 0xff, 0xff};
    static const std::uint8_t zero[12] = {};
    static const std::uint8_t nat64[4] = {0x00, 0x64, 0xff, 0x9b};
    static const std::uint8_t six_to_four[2] = {0x20, 0x02};
    const std::uint8_t* v4 = a.bytes.data();

    FUZZ_CHECK(special_purpose(v6_with(mapped, 12, v4, 12)) != nullptr,
               "IPv4-mapped refused");
    FUZZ_CHECK(special_purpose(v6_with(zero, 12, v4, 12)) != nullptr,
               "IPv4-compatible refused");
    FUZZ_CHECK((special_purpose(v6_with(nat64, 4, v4, 12)) == nullptr)
                   == (why == nullptr),
               "NAT64 judged by its IPv4 address");
    FUZZ_CHECK((special_purpose(v6_with(six_to_four, 2, v4, 2)) == nullptr)
                   == (why == nullptr),
               "6to4 judged by its IPv4 address");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size)
{
    std::string_view in = webpush_fuzz::as_view(data, size);
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    while (lines.size() < 17) {
        std::size_t nl = in.find('\n', start);
        lines.push_back(in.substr(start, nl == std::string_view::npos
                                             ? nl : nl - start));
        if (nl == std::string_view::npos) {
            break;
        }
        start = nl + 1;
    }

    webpush::push::PushHosts hosts;
    std::string reason;
    for (std::size_t i = 1; i < lines.size(); i++) {
        reason.clear();
        (void) hosts.add(lines[i], reason);
    }
    AddressPolicy policy(hosts);

    // every IP-literal pattern allows its own address, scheme and port
    for (const auto& p : hosts.patterns()) {
        if (!p.ip_literal) {
            continue;
        }
        // push_hosts checks bracketed IPv6 text lightly ("[::::]"); such
        // a literal grants nothing (the client cannot connect to it)
        auto a = parse_ip(p.host);
        if (!a) {
            continue;
        }
        std::uint16_t https = p.port != 0 ? p.port : 443;
        FUZZ_CHECK(policy.refusal(*a, true, https) == nullptr,
                   "a pattern's literal is allowed");
        if (p.allow_http) {
            std::uint16_t http = p.port != 0 ? p.port : 80;
            FUZZ_CHECK(policy.refusal(*a, false, http) == nullptr,
                       "a pattern's literal is allowed over http");
        }
    }

    if (auto a = parse_ip(lines[0])) {
        check_address(*a, policy);
    }

    if (size >= 16) {
        IpAddress raw6;
        raw6.v6 = true;
        for (std::size_t i = 0; i < 16; i++) {
            raw6.bytes[i] = data[i];
        }
        check_address(raw6, policy);
        check_address(IpAddress::v4(data[0], data[1], data[2], data[3]),
                      policy);
    }
    return 0;
}
