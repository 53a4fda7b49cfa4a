#include <gtest/gtest.h>

#include "push/push_hosts.hpp"
#include "push/address_policy.hpp"

using namespace webpush::push;

namespace {

IpAddress ip(const char* text)
{
    auto a = parse_ip(text);
    EXPECT_TRUE(a.has_value()) << text;
    return a.value_or(IpAddress{});
}

bool global(const char* text)
{
    return special_purpose(ip(text)) == nullptr;
}

std::string block(const char* text)
{
    const char* why = special_purpose(ip(text));
    return why == nullptr ? std::string("global") : std::string(why);
}

}  // namespace

TEST(AddressPolicy, ParsesOnlyCanonicalLiterals)
{
    EXPECT_EQ(ip("192.0.2.1"), IpAddress::v4(192, 0, 2, 1));
    EXPECT_FALSE(ip("192.0.2.1").v6);
    EXPECT_TRUE(ip("::1").v6);
    EXPECT_EQ(to_string(ip("2001:DB8:0:0::1")), "2001:db8::1");
    EXPECT_EQ(to_string(ip("::ffff:127.0.0.1")), "::ffff:127.0.0.1");
    EXPECT_EQ(to_string(ip("8.8.4.4")), "8.8.4.4");

    for (const char* bad : {"", "127.1", "2130706433", "0x7f.0.0.1",
                            "127.000.0.1", "256.0.0.1", "1.2.3.4.5",
                            "[::1]", "fe80::1%eth0", "localhost",
                            "1.2.3.", ":::", "1:2:3:4:5:6:7:8:9",
                            "0000000000000000000000000000000000000000000001"}) {
        EXPECT_FALSE(parse_ip(bad).has_value()) << bad;
    }
}

TEST(AddressPolicy, IPv4Ranges)
{
    // every refused block, with its first and last address
    struct Case {
        const char* first;
        const char* last;
        const char* block;
    };
    const Case cases[] = {
        {"0.0.0.0", "0.255.255.255", "\"this network\" (0.0.0.0/8)"},
        {"10.0.0.0", "10.255.255.255", "private-use (10.0.0.0/8)"},
        {"100.64.0.0", "100.127.255.255",
         "shared address space (100.64.0.0/10)"},
        {"127.0.0.0", "127.255.255.255", "loopback (127.0.0.0/8)"},
        {"169.254.0.0", "169.254.255.255", "link-local (169.254.0.0/16)"},
        {"172.16.0.0", "172.31.255.255", "private-use (172.16.0.0/12)"},
        {"192.0.0.0", "192.0.0.255",
         "IETF protocol assignments (192.0.0.0/24)"},
        {"192.0.2.0", "192.0.2.255", "documentation (192.0.2.0/24)"},
        {"192.88.99.0", "192.88.99.255",
         "6to4 relay anycast (192.88.99.0/24)"},
        {"192.168.0.0", "192.168.255.255", "private-use (192.168.0.0/16)"},
        {"198.18.0.0", "198.19.255.255", "benchmarking (198.18.0.0/15)"},
        {"198.51.100.0", "198.51.100.255",
         "documentation (198.51.100.0/24)"},
        {"203.0.113.0", "203.0.113.255", "documentation (203.0.113.0/24)"},
        {"224.0.0.0", "239.255.255.255", "multicast (224.0.0.0/4)"},
        {"240.0.0.0", "255.255.255.254", "reserved (240.0.0.0/4)"},
        {"255.255.255.255", "255.255.255.255",
         "limited broadcast (255.255.255.255/32)"},
    };
    for (const Case& c : cases) {
        EXPECT_EQ(block(c.first), c.block) << c.first;
        EXPECT_EQ(block(c.last), c.block) << c.last;
    }

    // the addresses just outside them
    for (const char* g : {"1.0.0.0", "9.255.255.255", "11.0.0.0",
                          "100.63.255.255", "100.128.0.0", "126.255.255.255",
                          "128.0.0.0", "169.253.255.255", "169.255.0.0",
                          "172.15.255.255", "172.32.0.0", "191.255.255.255",
                          "192.0.1.0", "192.0.3.0", "192.88.98.255",
                          "192.88.100.0", "192.167.255.255", "192.169.0.0",
                          "198.17.255.255", "198.20.0.0", "198.51.99.255",
                          "198.51.101.0", "203.0.112.255", "203.0.114.0",
                          "223.255.255.255", "8.8.8.8", "142.250.74.106",
                          // globally reachable exceptions in 192.0.0.0/24
                          "192.0.0.9", "192.0.0.10",
                          // AS112 and AMT are globally reachable
                          "192.31.196.1", "192.52.193.1", "192.175.48.1"}) {
        EXPECT_TRUE(global(g)) << g << ": " << block(g);
    }
    EXPECT_FALSE(global("192.0.0.8"));
    EXPECT_FALSE(global("192.0.0.11"));
    EXPECT_FALSE(global("169.254.169.254"));
}

TEST(AddressPolicy, IPv6Ranges)
{
    EXPECT_EQ(block("::"), "unspecified (::/128)");
    EXPECT_EQ(block("::1"), "loopback (::1/128)");
    EXPECT_EQ(block("fe80::1"), "link-local (fe80::/10)");
    EXPECT_EQ(block("febf:ffff::1"), "link-local (fe80::/10)");
    EXPECT_EQ(block("fec0::1"), "site-local (fec0::/10)");
    EXPECT_EQ(block("fc00::"), "unique local (fc00::/7)");
    EXPECT_EQ(block("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
              "unique local (fc00::/7)");
    EXPECT_EQ(block("ff02::1"), "multicast (ff00::/8)");
    EXPECT_EQ(block("ff0e::1"), "multicast (ff00::/8)");
    EXPECT_EQ(block("2001:db8::1"), "documentation (2001:db8::/32)");
    EXPECT_EQ(block("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"),
              "documentation (2001:db8::/32)");
    EXPECT_EQ(block("3fff::1"), "documentation (3fff::/20)");
    EXPECT_EQ(block("3fff:0fff:ffff::1"), "documentation (3fff::/20)");
    EXPECT_EQ(block("2001::1"), "Teredo (2001::/32)");
    EXPECT_EQ(block("2001:2::1"), "benchmarking (2001:2::/48)");
    EXPECT_EQ(block("2001:10::1"), "ORCHID (2001:10::/28)");
    EXPECT_EQ(block("2001:1ff::1"),
              "IETF protocol assignments (2001::/23)");
    EXPECT_EQ(block("100::1"), "discard-only (100::/64)");
    EXPECT_EQ(block("5f00::1"), "segment routing SIDs (5f00::/16)");
    EXPECT_EQ(block("64:ff9b:1::1"),
              "local-use IPv4/IPv6 translation (64:ff9b:1::/48)");
    EXPECT_EQ(block("4000::1"), "not global unicast (outside 2000::/3)");
    EXPECT_EQ(block("1fff:ffff::1"),
              "not global unicast (outside 2000::/3)");

    for (const char* g : {"2a00:1450:4001:80b::200a", "2600::1",
                          "2001:200::1", "3ffe::1", "3fff:1000::1",
                          "2001:4860:4860::8888",
                          // the globally reachable exceptions in 2001::/23
                          "2001:1::1", "2001:1::2", "2001:1::3",
                          "2001:3::1", "2001:4:112::1", "2001:20::1",
                          "2001:2f:ffff::1", "2001:30::1",
                          "2620:4f:8000::1"}) {
        EXPECT_TRUE(global(g)) << g << ": " << block(g);
    }
    EXPECT_FALSE(global("2001:1::4"));
    EXPECT_FALSE(global("2001:4:113::1"));
}

TEST(AddressPolicy, EmbeddedIPv4)
{
    // mapped and compatible forms are refused whatever they carry
    EXPECT_EQ(block("::ffff:127.0.0.1"), "IPv4-mapped (::ffff:0:0/96)");
    EXPECT_EQ(block("::ffff:8.8.8.8"), "IPv4-mapped (::ffff:0:0/96)");
    EXPECT_EQ(block("::ffff:0:0"), "IPv4-mapped (::ffff:0:0/96)");
    EXPECT_EQ(block("::127.0.0.1"), "IPv4-compatible (::/96)");
    EXPECT_EQ(block("::8.8.8.8"), "IPv4-compatible (::/96)");
    EXPECT_EQ(block("::2"), "IPv4-compatible (::/96)");
    // IPv4-translated (SIIT) and the rest of ::/8
    EXPECT_EQ(block("::ffff:0:127.0.0.1"),
              "not global unicast (outside 2000::/3)");

    // NAT64 and 6to4: judged by the IPv4 address inside
    EXPECT_TRUE(global("64:ff9b::8.8.8.8"));
    EXPECT_TRUE(global("64:ff9b::808:808"));
    for (const char* bad : {"64:ff9b::127.0.0.1", "64:ff9b::a9fe:a9fe",
                            "64:ff9b::10.0.0.1", "64:ff9b::",
                            "64:ff9b::ffff:ffff", "64:ff9b::c0a8:1"}) {
        EXPECT_EQ(block(bad),
                  "NAT64 (64:ff9b::/96) of a non-global IPv4 address")
            << bad;
    }
    // outside the /96: not NAT64, and outside 2000::/3
    EXPECT_EQ(block("64:ff9b:0:0:1::7f00:1"),
              "not global unicast (outside 2000::/3)");

    EXPECT_TRUE(global("2002:808:808::1"));
    for (const char* bad : {"2002:7f00:1::1", "2002:a00:1::",
                            "2002:a9fe:a9fe::1", "2002:c0a8:101::1",
                            "2002:6440:1::1", "2002::1",
                            "2002:ffff:ffff::1", "2002:e000:1::1"}) {
        EXPECT_EQ(block(bad),
                  "6to4 (2002::/16) of a non-global IPv4 address")
            << bad;
    }
}

TEST(AddressPolicy, RefusesUnlessAPatternNamesTheLiteral)
{
    AddressPolicy none;
    EXPECT_EQ(none.refusal(ip("8.8.8.8"), true, 443), nullptr);
    EXPECT_NE(none.refusal(ip("127.0.0.1"), true, 443), nullptr);
    EXPECT_STREQ(none.refusal(ip("10.1.2.3"), false, 80),
                 "private-use (10.0.0.0/8)");

    webpush::push::PushHosts hosts;
    std::string reason;
    for (const char* p : {"http://127.0.0.1:8080", "10.0.0.7",
                          "[fd00::7]:8443", "*.rebind.test",
                          "http://push.test:9000", "[::ffff:127.0.0.2]"}) {
        ASSERT_TRUE(hosts.add(p, reason)) << p << ": " << reason;
    }
    AddressPolicy policy(hosts);
    EXPECT_EQ(policy.grants(), 4u);

    // the pattern's address, port and scheme
    EXPECT_EQ(policy.refusal(ip("127.0.0.1"), false, 8080), nullptr);
    EXPECT_EQ(policy.refusal(ip("127.0.0.1"), true, 8080), nullptr);
    EXPECT_NE(policy.refusal(ip("127.0.0.1"), false, 8081), nullptr);
    EXPECT_NE(policy.refusal(ip("127.0.0.2"), false, 8080), nullptr);
    EXPECT_NE(policy.refusal(ip("::1"), false, 8080), nullptr);

    // no port: the scheme's default; no http:// : https only
    EXPECT_EQ(policy.refusal(ip("10.0.0.7"), true, 443), nullptr);
    EXPECT_NE(policy.refusal(ip("10.0.0.7"), false, 80), nullptr);
    EXPECT_NE(policy.refusal(ip("10.0.0.7"), true, 8443), nullptr);

    EXPECT_EQ(policy.refusal(ip("fd00::7"), true, 8443), nullptr);
    EXPECT_NE(policy.refusal(ip("fd00::8"), true, 8443), nullptr);
    EXPECT_EQ(policy.refusal(ip("::ffff:127.0.0.2"), true, 443), nullptr);
    // the same host in the other family is another address
    EXPECT_NE(policy.refusal(ip("127.0.0.2"), true, 443), nullptr);

    // global addresses need no grant
    EXPECT_EQ(policy.refusal(ip("2a00:1450::1"), false, 1), nullptr);
}
