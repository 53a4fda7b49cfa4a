#include <gtest/gtest.h>

#include "push/push_hosts.hpp"

using namespace webpush::push;

namespace {

PushHosts hosts(std::initializer_list<const char*> patterns)
{
    PushHosts h;
    for (const char* p : patterns) {
        std::string reason;
        EXPECT_TRUE(h.add(p, reason)) << p << ": " << reason;
    }
    return h;
}

bool ok(const PushHosts& h, std::string_view url)
{
    std::string reason;
    return h.match(url, reason).has_value();
}

std::string why(const PushHosts& h, std::string_view url)
{
    std::string reason;
    EXPECT_FALSE(h.match(url, reason)) << url;
    return reason;
}

std::string bad_pattern(const char* p)
{
    PushHosts h;
    std::string reason;
    EXPECT_FALSE(h.add(p, reason)) << p;
    EXPECT_TRUE(h.empty());
    return reason;
}

}  // namespace

TEST(ApiPushHosts, DefaultExpands)
{
    PushHosts h = PushHosts::defaults();
    ASSERT_EQ(h.patterns().size(), 4u);
    EXPECT_EQ(h.patterns()[0].host, "fcm.googleapis.com");
    EXPECT_FALSE(h.patterns()[0].wildcard);
    EXPECT_EQ(h.patterns()[1].host, "push.services.mozilla.com");
    EXPECT_TRUE(h.patterns()[1].wildcard);
    EXPECT_TRUE(ok(h, "https://fcm.googleapis.com/fcm/send/abc:def"));
    EXPECT_TRUE(ok(h, "https://updates.push.services.mozilla.com/wpush/v2/x"));
    EXPECT_TRUE(ok(h, "https://web.push.apple.com/QGq"));
    EXPECT_TRUE(ok(h, "https://wns2-par02p.notify.windows.com/w/?token=a"));
    EXPECT_TRUE(ok(h, "HTTPS://FCM.GoogleAPIs.com/fcm/send/x"));
    EXPECT_TRUE(ok(h, "https://fcm.googleapis.com:443/x"));
}

TEST(ApiPushHosts, DefaultIsCaseInsensitiveAndCombinable)
{
    PushHosts h = hosts({"DEFAULT", "http://127.0.0.1:8081"});
    EXPECT_EQ(h.patterns().size(), 5u);
    EXPECT_TRUE(ok(h, "http://127.0.0.1:8081/push"));
}

TEST(ApiPushHosts, EndpointParts)
{
    PushHosts h = hosts({"push.example.com", "http://localhost:8081"});
    std::string reason;
    auto e = h.match("https://Push.Example.com/a/b?c=d", reason);
    ASSERT_TRUE(e) << reason;
    EXPECT_EQ(e->scheme, "https");
    EXPECT_EQ(e->host, "push.example.com");
    EXPECT_EQ(e->port, 443);
    EXPECT_EQ(e->authority, "push.example.com");
    EXPECT_EQ(e->origin, "https://push.example.com");
    EXPECT_EQ(e->path, "/a/b?c=d");
    EXPECT_FALSE(e->ip_literal);

    e = h.match("http://localhost:8081", reason);
    ASSERT_TRUE(e) << reason;
    EXPECT_EQ(e->origin, "http://localhost:8081");
    EXPECT_EQ(e->port, 8081);
    EXPECT_EQ(e->path, "/");

    e = h.match("https://push.example.com?x", reason);
    ASSERT_TRUE(e) << reason;
    EXPECT_EQ(e->path, "/?x");
}

TEST(ApiPushHosts, WildcardMatchesSubdomainsOnly)
{
    PushHosts h = hosts({"*.push.apple.com"});
    EXPECT_TRUE(ok(h, "https://web.push.apple.com/x"));
    EXPECT_TRUE(ok(h, "https://a.b.push.apple.com/x"));
    EXPECT_FALSE(ok(h, "https://push.apple.com/x"));
    EXPECT_FALSE(ok(h, "https://xpush.apple.com/x"));
    EXPECT_FALSE(ok(h, "https://web.push.apple.com.evil.com/x"));
    EXPECT_FALSE(ok(h, "https://web.push.apple.co/x"));
}

TEST(ApiPushHosts, ExactHostIsExact)
{
    PushHosts h = hosts({"fcm.googleapis.com"});
    EXPECT_FALSE(ok(h, "https://fcm.googleapis.com.evil.com/x"));
    EXPECT_FALSE(ok(h, "https://evilfcm.googleapis.com/x"));
    EXPECT_FALSE(ok(h, "https://x.fcm.googleapis.com/x"));
    EXPECT_EQ(why(h, "https://fcm.googleapis.com./x"),
              "endpoint: empty label in host name");
}

TEST(ApiPushHosts, UserInfoRefused)
{
    PushHosts h = PushHosts::defaults();
    EXPECT_EQ(why(h, "https://fcm.googleapis.com@evil.com/"),
              "endpoint contains user info");
    EXPECT_EQ(why(h, "https://user:pw@fcm.googleapis.com/"),
              "endpoint contains user info");
    EXPECT_EQ(why(h, "https://evil.com\\@fcm.googleapis.com/"),
              "endpoint contains a backslash");
}

TEST(ApiPushHosts, SchemeRules)
{
    PushHosts h = hosts({"push.example.com", "http://dev.example.com"});
    EXPECT_EQ(why(h, "http://push.example.com/x"),
              "plain http is not allowed for this endpoint host");
    // No port in the pattern: the default port of the URL's scheme.
    EXPECT_EQ(why(h, "http://push.example.com:443/x"),
              "endpoint host is not in webpush_push_hosts");
    EXPECT_TRUE(ok(h, "http://dev.example.com/x"));
    EXPECT_TRUE(ok(h, "https://dev.example.com/x"));
    EXPECT_FALSE(ok(h, "ftp://push.example.com/x"));
    EXPECT_FALSE(ok(h, "javascript:alert(1)"));
    EXPECT_FALSE(ok(h, "//push.example.com/x"));
    EXPECT_FALSE(ok(h, "https:/push.example.com/x"));
    EXPECT_FALSE(ok(h, "push.example.com/x"));
}

TEST(ApiPushHosts, Ports)
{
    PushHosts h = hosts({"push.example.com", "pinned.example.com:8443",
                         "http://dev.example.com:8080"});
    EXPECT_FALSE(ok(h, "https://push.example.com:8443/x"));
    EXPECT_TRUE(ok(h, "https://pinned.example.com:8443/x"));
    EXPECT_FALSE(ok(h, "https://pinned.example.com/x"));
    EXPECT_TRUE(ok(h, "http://dev.example.com:8080/x"));
    EXPECT_TRUE(ok(h, "https://dev.example.com:8080/x"));
    EXPECT_FALSE(ok(h, "http://dev.example.com/x"));
    EXPECT_FALSE(ok(h, "https://push.example.com:0/x"));
    EXPECT_FALSE(ok(h, "https://push.example.com:65536/x"));
    EXPECT_FALSE(ok(h, "https://push.example.com:/x"));
    EXPECT_FALSE(ok(h, "https://push.example.com:44a/x"));
    EXPECT_FALSE(ok(h, "https://push.example.com:-1/x"));

    std::string reason;
    auto e = h.match("https://pinned.example.com:8443/x", reason);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->origin, "https://pinned.example.com:8443");
    EXPECT_EQ(e->authority, "pinned.example.com:8443");
}

TEST(ApiPushHosts, IpLiterals)
{
    PushHosts h = hosts({"*.example.com", "http://127.0.0.1:9000",
                         "[::1]:9443"});
    EXPECT_TRUE(ok(h, "http://127.0.0.1:9000/x"));
    EXPECT_FALSE(ok(h, "http://127.0.0.2:9000/x"));
    EXPECT_FALSE(ok(h, "http://169.254.169.254/latest/meta-data"));
    EXPECT_TRUE(ok(h, "https://[::1]:9443/x"));
    EXPECT_FALSE(ok(h, "https://[::2]:9443/x"));
    // Other spellings of 127.0.0.1 are not canonical and refused.
    EXPECT_FALSE(ok(h, "http://2130706433:9000/x"));
    EXPECT_FALSE(ok(h, "http://0x7f.0.0.1:9000/x"));
    EXPECT_FALSE(ok(h, "http://127.1:9000/x"));
    EXPECT_FALSE(ok(h, "http://0127.0.0.1:9000/x"));
    EXPECT_FALSE(ok(h, "https://1.2.3.4.example.com.1/x"));
    EXPECT_EQ(bad_pattern("*.0.0.1"),
              "numeric host that is not a dotted-quad IPv4 address");

    std::string reason;
    auto e = h.match("https://[::1]:9443/p", reason);
    ASSERT_TRUE(e) << reason;
    EXPECT_EQ(e->host, "::1");
    EXPECT_TRUE(e->ip_literal);
    EXPECT_EQ(e->authority, "[::1]:9443");
    EXPECT_EQ(e->origin, "https://[::1]:9443");
}

TEST(ApiPushHosts, HostileHosts)
{
    PushHosts h = PushHosts::defaults();
    EXPECT_EQ(why(h, "https://fcm%2egoogleapis.com/x"),
              "endpoint host is percent-encoded");
    EXPECT_EQ(why(h, "https://fcm.googleapis.com%00.evil.com/x"),
              "endpoint host is percent-encoded");
    EXPECT_EQ(why(h, "https://f\xc3\xa7m.googleapis.com/x"),
              "endpoint contains non-ASCII characters");
    EXPECT_EQ(why(h, "https:///x"), "endpoint: empty host");
    EXPECT_EQ(why(h, "https://"), "endpoint: empty host");
    EXPECT_EQ(why(h, "https://:443/x"), "endpoint: empty host");
    EXPECT_EQ(why(h, "https://fcm.googleapis.com /x"),
              "endpoint contains a space or control character");
    EXPECT_EQ(why(h, "https://fcm.googleapis.com/x\r\nHost: evil"),
              "endpoint contains a space or control character");
    EXPECT_EQ(why(h, std::string_view("https://fcm.googleapis.com\0.e/", 30)),
              "endpoint contains a space or control character");
    EXPECT_EQ(why(h, "https://fcm.googleapis.com\t/x"),
              "endpoint contains a space or control character");
    EXPECT_EQ(why(h, "https://fcm.googleapis.com/x#frag"),
              "endpoint contains a fragment");
    EXPECT_FALSE(ok(h, "https://fcm_googleapis.com/x"));
    EXPECT_FALSE(ok(h, "https://-fcm.googleapis.com/x"));
    EXPECT_FALSE(ok(h, "https://fcm..googleapis.com/x"));
    EXPECT_FALSE(ok(h, "https://[fcm.googleapis.com]/x"));
    EXPECT_FALSE(ok(h, "https://[::1/x"));
    EXPECT_FALSE(ok(h, ""));
}

TEST(ApiPushHosts, LengthLimit)
{
    PushHosts h = PushHosts::defaults();
    std::string base = "https://fcm.googleapis.com/";
    std::string url = base + std::string(2048 - base.size(), 'a');
    EXPECT_TRUE(ok(h, url));
    EXPECT_EQ(why(h, url + "a"), "endpoint longer than 2048 bytes");
}

TEST(ApiPushHosts, EmptyListMatchesNothing)
{
    PushHosts h;
    EXPECT_FALSE(ok(h, "https://fcm.googleapis.com/x"));
}

TEST(ApiPushHosts, PatternParsing)
{
    PushHosts h = hosts({"Push.Example.COM:8443", "http://dev.local:80",
                         "https://secure.example.com", "*.example.org"});
    ASSERT_EQ(h.patterns().size(), 4u);
    EXPECT_EQ(h.patterns()[0].host, "push.example.com");
    EXPECT_EQ(h.patterns()[0].port, 8443);
    EXPECT_FALSE(h.patterns()[0].allow_http);
    EXPECT_TRUE(h.patterns()[1].allow_http);
    EXPECT_EQ(h.patterns()[1].port, 80);
    EXPECT_FALSE(h.patterns()[2].allow_http);
    EXPECT_EQ(h.patterns()[2].port, 0);
    EXPECT_TRUE(h.patterns()[3].wildcard);
    EXPECT_EQ(h.patterns()[3].host, "example.org");
}

TEST(ApiPushHosts, BadPatterns)
{
    EXPECT_EQ(bad_pattern("*.com"),
              "\"*.domain\" needs a domain name of two labels or more");
    EXPECT_EQ(bad_pattern("*"), "'*' is only allowed as a leading \"*.\"");
    EXPECT_EQ(bad_pattern("*.*.example.com"),
              "'*' is only allowed as a leading \"*.\"");
    EXPECT_EQ(bad_pattern("a*.example.com"),
              "'*' is only allowed as a leading \"*.\"");
    EXPECT_EQ(bad_pattern("ftp://example.com"),
              "only http:// may prefix a pattern");
    EXPECT_EQ(bad_pattern("example.com:0"), "invalid port");
    EXPECT_EQ(bad_pattern("example.com:99999"), "invalid port");
    EXPECT_EQ(bad_pattern("example.com:"), "invalid port");
    EXPECT_EQ(bad_pattern("example.com:80:80"), "invalid port");
    EXPECT_FALSE(bad_pattern("example.com/path").empty());
    EXPECT_FALSE(bad_pattern("user@example.com").empty());
    EXPECT_FALSE(bad_pattern("exa mple.com").empty());
    EXPECT_FALSE(bad_pattern("ex%41mple.com").empty());
    EXPECT_EQ(bad_pattern(""), "empty host");
    EXPECT_EQ(bad_pattern("http://"), "empty host");
    EXPECT_EQ(bad_pattern("exa_mple.com"), "invalid character in host name");
    EXPECT_EQ(bad_pattern("2130706433"),
              "numeric host that is not a dotted-quad IPv4 address");
    EXPECT_EQ(bad_pattern("*.127.0.0.1"),
              "\"*.domain\" needs a domain name of two labels or more");
    EXPECT_EQ(bad_pattern("[zz::1]"), "malformed IPv6 literal");
    EXPECT_EQ(bad_pattern(std::string(254, 'a').c_str()),
              "host name longer than 253 characters");
}
