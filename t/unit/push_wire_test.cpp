#include <gtest/gtest.h>

#include "push/wire.hpp"

#include <string>

using namespace webpush::push;

namespace {

PushRequest
request(const std::string &host, in_port_t port, bool tls)
{
    PushRequest  r;

    r.target.tls = tls;
    r.target.host = host;
    r.target.port = port;
    r.target.path = "/push/abc?x=1";
    r.body = "BODY";

    return r;
}

} // namespace


TEST(PushWire, WritesRequestLineHostAndLength)
{
    PushRequest r = request("Push.Example.COM", 443, true);
    r.headers = {{"TTL", "60"}, {"Urgency", "high"}};

    std::string name = host_name(r.target.host);
    EXPECT_EQ(name, "push.example.com");

    std::string out;
    EXPECT_EQ(write_request(r, name, true, out), "");
    EXPECT_EQ(out, "POST /push/abc?x=1 HTTP/1.1\r\n"
                   "Host: push.example.com\r\n"
                   "TTL: 60\r\nUrgency: high\r\n"
                   "Content-Length: 4\r\n\r\nBODY");
}


TEST(PushWire, PortAndIpv6InHost)
{
    PushRequest r = request("[2001:DB8::1]", 8443, true);
    std::string name = host_name(r.target.host);
    EXPECT_EQ(name, "2001:db8::1");
    EXPECT_EQ(origin_key(true, name, 8443), "https://[2001:db8::1]:8443");
    EXPECT_EQ(origin_key(false, "a.example", 80), "http://a.example:80");

    std::string out;
    EXPECT_EQ(write_request(r, name, false, out), "");
    EXPECT_NE(out.find("Host: [2001:db8::1]:8443\r\n"), std::string::npos);
    EXPECT_NE(out.find("Connection: close\r\n\r\nBODY"), std::string::npos);

    PushRequest h = request("a.example", 80, false);
    out.clear();
    EXPECT_EQ(write_request(h, "a.example", true, out), "");
    EXPECT_NE(out.find("Host: a.example\r\n"), std::string::npos);
}


TEST(PushWire, OwnHeadersSkippedBadOnesRefused)
{
    PushRequest r = request("a.example", 443, true);
    r.headers = {{"host", "evil"}, {"Content-Length", "9"},
                 {"CONNECTION", "keep-alive"},
                 {"Transfer-Encoding", "chunked"}};

    std::string out;
    EXPECT_EQ(write_request(r, "a.example", true, out), "");
    EXPECT_EQ(out.find("evil"), std::string::npos);
    EXPECT_EQ(out.find("chunked"), std::string::npos);
    EXPECT_EQ(out.find("Content-Length: 9"), std::string::npos);

    r.headers = {{"X-A", "ok\r\nInjected: 1"}};
    out.clear();
    EXPECT_EQ(write_request(r, "a.example", true, out),
              "invalid request: bad header \"X-A\"");

    r.headers = {{"Bad Name", "v"}};
    out.clear();
    EXPECT_EQ(write_request(r, "a.example", true, out),
              "invalid request: bad header \"Bad Name\"");
}


TEST(PushWire, Validators)
{
    EXPECT_TRUE(valid_name("fcm.googleapis.com"));
    EXPECT_FALSE(valid_name("FCM.example"));
    EXPECT_FALSE(valid_name(""));
    EXPECT_FALSE(valid_name(std::string(254, 'a')));
    EXPECT_TRUE(valid_path("/a?b=c"));
    EXPECT_FALSE(valid_path("a"));
    EXPECT_FALSE(valid_path("/a b"));
    EXPECT_FALSE(valid_path(std::string("/a\x7f", 3)));
    EXPECT_TRUE(valid_token("X-WNS-Type"));
    EXPECT_FALSE(valid_token("a:b"));
    EXPECT_FALSE(valid_value(std::string("a\0b", 3)));
    EXPECT_TRUE(has_token("keep-alive, Close", "close"));
    EXPECT_TRUE(has_token(" close ", "close"));
    EXPECT_FALSE(has_token("closed", "close"));
}


TEST(PushWire, ContentLength)
{
    EXPECT_EQ(parse_length("0"), 0);
    EXPECT_EQ(parse_length("123"), 123);
    EXPECT_EQ(parse_length("9223372036854775807"), INT64_MAX);
    EXPECT_EQ(parse_length("9223372036854775808"), -1);
    EXPECT_EQ(parse_length(""), -1);
    EXPECT_EQ(parse_length("-1"), -1);
    EXPECT_EQ(parse_length("1 "), -1);

    ResponseHead  h;
    Kept          k;

    EXPECT_EQ(h.add("Content-Length", "5", &k), nullptr);
    EXPECT_EQ(h.add("content-length", "5", &k), nullptr);
    EXPECT_STREQ(h.add("Content-Length", "6", &k),
                 "conflicting Content-Length headers");
    EXPECT_STREQ(h.add("Content-Length", "x", &k), "invalid Content-Length");
}


TEST(PushWire, KeptHeaders)
{
    ResponseHead  h;
    Kept          k;

    h.add("Retry-After", "10", &k);
    EXPECT_EQ(k, Kept::retry_after);
    h.add("LOCATION", "/x", &k);
    EXPECT_EQ(k, Kept::location);
    h.add("X-WNS-Status", "dropped", &k);
    EXPECT_EQ(k, Kept::wns_status);
    h.add("X-WNS-Error-Description", "e", &k);
    EXPECT_EQ(k, Kept::wns_error);
    h.add("Server", "x", &k);
    EXPECT_EQ(k, Kept::none);
}


TEST(PushWire, Framing)
{
    ResponseHead  h;
    Kept          k;

    h.add("Content-Length", "7", &k);
    Framing f = decide_framing(201, 1001, h);
    EXPECT_EQ(f.body, Body::length);
    EXPECT_EQ(f.length, 7);
    EXPECT_TRUE(f.reusable);

    /* HTTP/1.0 keeps the connection only when asked to */
    EXPECT_FALSE(decide_framing(201, 1000, h).reusable);
    h.add("Connection", "keep-alive", &k);
    EXPECT_TRUE(decide_framing(201, 1000, h).reusable);
    h.add("Connection", "close", &k);
    EXPECT_FALSE(decide_framing(201, 1001, h).reusable);

    ResponseHead z;
    z.add("Content-Length", "0", &k);
    EXPECT_EQ(decide_framing(201, 1001, z).body, Body::none);
    EXPECT_TRUE(decide_framing(201, 1001, z).reusable);

    ResponseHead none;
    f = decide_framing(201, 1001, none);
    EXPECT_EQ(f.body, Body::until_close);
    EXPECT_FALSE(f.reusable);
    EXPECT_EQ(decide_framing(204, 1001, none).body, Body::none);
    EXPECT_TRUE(decide_framing(204, 1001, none).reusable);
    EXPECT_TRUE(decide_framing(304, 1001, none).reusable);
    EXPECT_FALSE(decide_framing(101, 1001, none).reusable);

    ResponseHead c;
    c.add("Transfer-Encoding", "Chunked", &k);
    f = decide_framing(200, 1001, c);
    EXPECT_EQ(f.body, Body::chunked);
    EXPECT_TRUE(f.reusable);
    c.add("Content-Length", "3", &k);
    EXPECT_FALSE(decide_framing(200, 1001, c).reusable);

    ResponseHead g;
    g.add("Transfer-Encoding", "gzip", &k);
    EXPECT_EQ(decide_framing(200, 1001, g).body, Body::until_close);
    g.add("Transfer-Encoding", "chunked", &k);
    f = decide_framing(200, 1001, g);
    EXPECT_EQ(f.body, Body::chunked);
    EXPECT_FALSE(f.reusable);

    EXPECT_TRUE(interim(100));
    EXPECT_TRUE(interim(103));
    EXPECT_FALSE(interim(101));
    EXPECT_FALSE(interim(200));
}


TEST(PushWire, Http2FieldsPseudoHeadersFirst)
{
    PushRequest r = request("[2001:DB8::1]", 8443, true);
    r.headers = {{"TTL", "60"}, {"Content-Encoding", "aes128gcm"},
                 {"Authorization", "vapid t=x, k=y"}};

    std::vector<Field> f;
    EXPECT_EQ(request_fields(r, host_name(r.target.host), f), "");

    std::vector<Field> want = {
        {":method", "POST"}, {":scheme", "https"},
        {":authority", "[2001:db8::1]:8443"}, {":path", "/push/abc?x=1"},
        {"ttl", "60"}, {"content-encoding", "aes128gcm"},
        {"authorization", "vapid t=x, k=y"}, {"content-length", "4"},
    };
    EXPECT_EQ(f, want);

    /* the default port is left out of :authority */
    f.clear();
    r.target.port = 443;
    r.target.host = "fcm.googleapis.com";
    EXPECT_EQ(request_fields(r, host_name(r.target.host), f), "");
    EXPECT_EQ(f[2].second, "fcm.googleapis.com");
}


TEST(PushWire, Http2FieldsSkipConnectionSpecificRefuseBad)
{
    PushRequest r = request("push.example.com", 443, true);
    r.headers = {{"Connection", "keep-alive"}, {"Keep-Alive", "1"},
                 {"Transfer-Encoding", "chunked"}, {"Upgrade", "h2c"},
                 {"TE", "trailers"}, {"Proxy-Connection", "x"},
                 {"Host", "evil"}, {"Content-Length", "99"},
                 {"Urgency", "low"}};

    std::vector<Field> f;
    EXPECT_EQ(request_fields(r, "push.example.com", f), "");
    ASSERT_EQ(f.size(), 6u);
    EXPECT_EQ(f[4], Field("urgency", "low"));
    EXPECT_EQ(f[5], Field("content-length", "4"));

    r.headers = {{"Bad Name", "x"}};
    f.clear();
    EXPECT_EQ(request_fields(r, "push.example.com", f),
              "invalid request: bad header \"Bad Name\"");

    r.headers = {{"TTL", "1\r\nX: y"}};
    f.clear();
    EXPECT_EQ(request_fields(r, "push.example.com", f),
              "invalid request: bad header \"TTL\"");
}


TEST(PushWire, CheckHeadersAsTheWritersDo)
{
    PushRequest r = request("push.example.com", 443, true);

    r.headers = {{"Host", "bad\r\nvalue"}, {"TTL", "60"}};
    EXPECT_EQ(check_headers(r), "");       /* Host is the client's own */

    r.headers = {{"TTL", "60"}, {"X Bad", "1"}};
    std::string out;
    std::vector<Field> f;
    EXPECT_EQ(check_headers(r), "invalid request: bad header \"X Bad\"");
    EXPECT_EQ(write_request(r, "push.example.com", true, out),
              check_headers(r));
    EXPECT_EQ(request_fields(r, "push.example.com", f), check_headers(r));
}
