#include <gtest/gtest.h>

#include <string>

#include "api/jsonapi.hpp"

using namespace webpush::api;

namespace {

DocumentResult read(std::string_view body,
                    std::string_view type = kTypeProviders,
                    const ReadLimits& limits = {})
{
    return read_document(body.data(), body.size(), type, limits);
}

// The single 5400 "Wrong request body." a bad envelope gives; its detail.
std::string rejected(std::string_view body,
                     std::string_view type = kTypeProviders,
                     const ReadLimits& limits = {})
{
    DocumentResult r = read(body, type, limits);
    EXPECT_FALSE(r.document) << body.substr(0, 80);
    if (r.errors.size() != 1) {
        ADD_FAILURE() << "expected one error";
        return {};
    }
    EXPECT_EQ(r.errors[0].code, "5400");
    EXPECT_EQ(r.errors[0].status, 400);
    EXPECT_EQ(r.errors[0].message, "Wrong request body.");
    return r.errors[0].detail;
}

std::string nested(std::size_t depth)
{
    // {"data":{"type":"push-notification-providers","attributes":{"x":
    // [[[...]]]}}} with the given total depth.
    std::string s = "{\"data\":{\"type\":\"push-notification-providers\","
                    "\"attributes\":{\"x\":";
    s += std::string(depth - 3, '[') + std::string(depth - 3, ']');
    s += "}}}";
    return s;
}

}  // namespace

TEST(ApiJsonApiRead, Valid)
{
    DocumentResult r = read(
        "{\"data\":{\"type\":\"push-notification-providers\",\"id\":\"x\","
        "\"attributes\":{\"name\":\"a\",\"uuid\":\"ignored\"}},"
        "\"meta\":{}}");
    ASSERT_TRUE(r.document);
    EXPECT_TRUE(r.errors.empty());
    ASSERT_TRUE(json_is_object(r.document->attributes));
    EXPECT_STREQ(json_string_value(
                     json_object_get(r.document->attributes, "name")),
                 "a");
}

TEST(ApiJsonApiRead, NotJson)
{
    EXPECT_NE(rejected("").find("empty"), std::string::npos);
    EXPECT_NE(rejected("name=foo").find("invalid JSON"), std::string::npos);
    EXPECT_NE(rejected("{\"data\":").find("invalid JSON"),
              std::string::npos);
    EXPECT_NE(rejected("{} {}").find("invalid JSON"), std::string::npos);
    EXPECT_NE(rejected("{\"a\":NaN}").find("invalid JSON"),
              std::string::npos);
    EXPECT_NE(rejected("\xef\xbb\xbf{}").find("invalid JSON"),
              std::string::npos);
    DocumentResult r = read_document(nullptr, 0, kTypeProviders);
    EXPECT_FALSE(r.document);
}

TEST(ApiJsonApiRead, WrongShapes)
{
    EXPECT_EQ(rejected("[]"), "the document is not a JSON object");
    EXPECT_EQ(rejected("[{\"data\":{}}]"),
              "the document is not a JSON object");
    EXPECT_NE(rejected("\"str\"").find("invalid JSON"), std::string::npos);
    EXPECT_NE(rejected("42").find("invalid JSON"), std::string::npos);
    EXPECT_NE(rejected("null").find("invalid JSON"), std::string::npos);
    EXPECT_EQ(rejected("{}"), "\"data\" must be an object");
    EXPECT_EQ(rejected("{\"data\":[]}"), "\"data\" must be an object");
    EXPECT_EQ(rejected("{\"data\":\"x\"}"), "\"data\" must be an object");
    EXPECT_EQ(rejected("{\"data\":{\"attributes\":{}}}"),
              "\"data.type\" must be \"push-notification-providers\"");
    EXPECT_EQ(rejected("{\"data\":{\"type\":\"push-notificatoin-providers\","
                       "\"attributes\":{}}}"),
              "\"data.type\" must be \"push-notification-providers\"");
    EXPECT_EQ(rejected("{\"data\":{\"type\":1,\"attributes\":{}}}"),
              "\"data.type\" must be \"push-notification-providers\"");
    EXPECT_EQ(rejected("{\"data\":{\"type\":\"push-notification-providers\"}"
                       "}"),
              "\"data.attributes\" must be an object");
    EXPECT_EQ(rejected("{\"data\":{\"type\":\"push-notification-providers\","
                       "\"attributes\":[]}}"),
              "\"data.attributes\" must be an object");
    EXPECT_EQ(rejected("{\"data\":{\"type\":\"push-notification-providers\","
                       "\"attributes\":null}}"),
              "\"data.attributes\" must be an object");
    // The type of another resource.
    EXPECT_EQ(rejected("{\"data\":{\"type\":\"push-notification-providers\","
                       "\"attributes\":{}}}",
                       kTypeSubscriptions),
              "\"data.type\" must be \"push-notification-subscriptions\"");
}

TEST(ApiJsonApiRead, InvalidUtf8AndNul)
{
    std::string body = "{\"data\":{\"type\":\"push-notification-providers\","
                       "\"attributes\":{\"name\":\"\xc3\x28\"}}}";
    EXPECT_NE(rejected(body).find("invalid JSON"), std::string::npos);
    body = "{\"data\":{\"type\":\"push-notification-providers\","
           "\"attributes\":{\"name\":\"\xed\xa0\x80\"}}}";  // surrogate
    EXPECT_NE(rejected(body).find("invalid JSON"), std::string::npos);
    body = "{\"data\":{\"type\":\"push-notification-providers\","
           "\"attributes\":{\"name\":\"\\ud800\"}}}";  // lone escape
    EXPECT_NE(rejected(body).find("invalid JSON"), std::string::npos);
    body = "{\"data\":{\"type\":\"push-notification-providers\","
           "\"attributes\":{\"name\":\"a\\u0000b\"}}}";
    EXPECT_NE(rejected(body).find("invalid JSON"), std::string::npos);
    const char raw[] = "{\"data\":{\"type\":\"push-notification-providers\","
                       "\"attributes\":{\"name\":\"a\0b\"}}}";
    std::string raw_nul(raw, sizeof(raw) - 1);
    EXPECT_NE(rejected(raw_nul).find("invalid JSON"), std::string::npos);
}

TEST(ApiJsonApiRead, DuplicateKeys)
{
    EXPECT_NE(rejected("{\"data\":{\"type\":\"push-notification-providers\","
                       "\"attributes\":{\"name\":\"a\",\"name\":\"b\"}}}")
                  .find("duplicate"),
              std::string::npos);
}

TEST(ApiJsonApiRead, Depth)
{
    EXPECT_TRUE(read(nested(32)).document);
    EXPECT_EQ(rejected(nested(33)), "JSON nested deeper than 32 levels");
    EXPECT_EQ(rejected(std::string(100000, '[')),
              "JSON nested deeper than 32 levels");
    // Brackets inside strings do not count; escaped quotes do not end them.
    std::string s = "{\"data\":{\"type\":\"push-notification-providers\","
                    "\"attributes\":{\"x\":\"\\\"" + std::string(100, '[')
                    + "\"}}}";
    EXPECT_TRUE(read(s).document);
}

TEST(ApiJsonApiRead, SizeLimits)
{
    std::string head = "{\"data\":{\"type\":\"push-notification-providers\","
                       "\"attributes\":{\"name\":\"";
    std::string tail = "\"}}}";
    EXPECT_TRUE(read(head + std::string(8192, 'a') + tail).document);
    EXPECT_EQ(rejected(head + std::string(8193, 'a') + tail),
              "a string is longer than 8192 bytes");
    // Keys count too.
    std::string key_body = "{\"data\":{\"type\":\"push-notification-"
                           "providers\",\"attributes\":{\""
                           + std::string(9000, 'k') + "\":1}}}";
    EXPECT_EQ(rejected(key_body), "a string is longer than 8192 bytes");

    ReadLimits small;
    small.max_bytes = 64;
    EXPECT_EQ(rejected(head + "x" + tail, kTypeProviders, small),
              "request body larger than 64 bytes");

    std::string many = head + "x\",\"list\":[";
    for (int i = 0; i < 10001; i++) {
        many += i ? ",1" : "1";
    }
    many += "]}}}";
    EXPECT_EQ(rejected(many), "more than 10000 JSON values");
}

TEST(ApiJsonApiRead, HugeIntegerRefused)
{
    EXPECT_NE(rejected("{\"data\":{\"type\":\"push-notification-providers\","
                       "\"attributes\":{\"n\":123456789012345678901234}}}")
                  .find("invalid JSON"),
              std::string::npos);
}

TEST(ApiJsonApiWrite, Provider)
{
    EXPECT_EQ(write_provider({"2a30", "web-push-php"}, "http://h:8080"),
              "{\"data\":{\"type\":\"push-notification-providers\",\"id\":"
              "\"2a30\",\"attributes\":{\"uuid\":\"2a30\",\"name\":"
              "\"web-push-php\"},\"links\":{\"self\":\"http://h:8080/"
              "push-notification-providers/2a30\"}}}");
}

TEST(ApiJsonApiWrite, RelativeBaseAndTrailingSlash)
{
    std::string a = write_provider({"u", "n"}, "");
    EXPECT_NE(a.find("\"self\":\"/push-notification-providers/u\""),
              std::string::npos);
    std::string b = write_provider({"u", "n"}, "http://h/api/");
    EXPECT_NE(b.find("\"self\":\"http://h/api/push-notification-providers/u"
                     "\""),
              std::string::npos);
}

TEST(ApiJsonApiWrite, ProviderCollection)
{
    EXPECT_EQ(write_providers({}, "http://h", ""),
              "{\"data\":[],\"links\":{\"self\":\"http://h/"
              "push-notification-providers\"}}");
    std::string s = write_providers({{"a", "x"}, {"b", "y"}}, "http://h",
                                    "page[offset]=0&page[limit]=2");
    EXPECT_EQ(s.substr(0, 46),
              "{\"data\":[{\"type\":\"push-notification-providers\"");
    EXPECT_LT(s.find("\"id\":\"a\""), s.find("\"id\":\"b\""));
    EXPECT_NE(s.find("\"links\":{\"self\":\"http://h/push-notification-"
                     "providers?page[offset]=0&page[limit]=2\"}}"),
              std::string::npos);
}

TEST(ApiJsonApiWrite, OddStringsAreEscapedNotFatal)
{
    std::string s = write_provider({"u", "a\"b\\c\x01\xff'; DROP TABLE x;--"},
                                   "");
    EXPECT_NE(s.find("\"name\":\"a\\\"b\\\\c\\u0001\xef\xbf\xbd'; DROP "
                     "TABLE x;--\""),
              std::string::npos);
    json_error_t err;
    JsonPtr back(json_loads(s.c_str(), 0, &err));
    EXPECT_TRUE(back) << err.text;
}

TEST(ApiJsonApiWrite, Subscription)
{
    SubscriptionResource r;
    r.uuid = "9655";
    r.provider_name = "web-push-php";
    r.payload_json = "{\"endpoint\":\"https:\\/\\/x\\/y\",\"keys\":{}}";
    r.group_name = "warehouse";
    r.group_identifier = "1";
    r.expired_at = "2024-05-08T12:00:00Z";
    EXPECT_EQ(write_subscription(r, "http://h"),
              "{\"data\":{\"type\":\"push-notification-subscriptions\","
              "\"id\":\"9655\",\"attributes\":{\"providerName\":"
              "\"web-push-php\",\"payload\":{\"endpoint\":\"https://x/y\","
              "\"keys\":{}},\"localeName\":null,\"group\":{\"name\":"
              "\"warehouse\",\"identifier\":\"1\"},\"expiredAt\":"
              "\"2024-05-08T12:00:00Z\"},\"links\":{\"self\":\"http://h/"
              "push-notification-subscriptions/9655\"}}}");
    r.locale_name = "en_US";
    r.group_identifier.reset();
    r.payload_json = "not json";
    std::string s = write_subscription(r, "");
    EXPECT_NE(s.find("\"payload\":null"), std::string::npos);
    EXPECT_NE(s.find("\"localeName\":\"en_US\""), std::string::npos);
    EXPECT_NE(s.find("\"identifier\":null"), std::string::npos);
}

TEST(ApiJsonApiWrite, Notification)
{
    NotificationResource n;
    n.uuid = "n1";
    n.provider_name = "p";
    n.group_name = "g";
    n.group_identifier = "7";
    n.payload_json = "{\"title\":\"Hi\"}";
    n.ttl = 3600;
    n.urgency = "high";
    EXPECT_EQ(write_notification(n, ""),
              "{\"data\":{\"type\":\"push-notifications\",\"id\":\"n1\","
              "\"attributes\":{\"providerName\":\"p\",\"group\":{\"name\":"
              "\"g\",\"identifier\":\"7\"},\"payload\":{\"title\":\"Hi\"},"
              "\"ttl\":3600,\"urgency\":\"high\",\"topic\":null},\"links\":"
              "{\"self\":\"/push-notifications/n1\"}}}");
    n.delivery = DeliveryCounts{10, 6, 2, 1, 1, 0};
    std::string s = write_notification(n, "");
    EXPECT_NE(s.find("\"delivery\":{\"targeted\":10,\"sent\":6,\"pending\":2,"
                     "\"failed\":1,\"gone\":1,\"cancelled\":0}"),
              std::string::npos);
    EXPECT_EQ(s.find("\"state\""), std::string::npos);
    EXPECT_EQ(s.find("\"sendAt\""), std::string::npos);
    n.state = "cancelled";
    n.send_at = 1777636800LL * 1000000;
    s = write_notification(n, "");
    EXPECT_NE(s.find("\"topic\":null,\"sendAt\":\"2026-05-01T12:00:00Z\","),
              std::string::npos);
    EXPECT_NE(s.find("\"cancelled\":0},\"state\":\"cancelled\"}"),
              std::string::npos);
    EXPECT_EQ(s.find("\"ratePerMinute\""), std::string::npos);
    n.rate_per_minute = 600;
    s = write_notification(n, "");
    EXPECT_NE(s.find("\"sendAt\":\"2026-05-01T12:00:00Z\","
                     "\"ratePerMinute\":600,\"delivery\""),
              std::string::npos);
    EXPECT_EQ(s.find("\"engagement\""), std::string::npos);
    n.engagement = EngagementCounts{5, 2, 1};
    s = write_notification(n, "");
    EXPECT_NE(s.find("\"state\":\"cancelled\",\"engagement\":{\"shown\":5,"
                     "\"clicked\":2,\"closed\":1}}"),
              std::string::npos);
}

TEST(ApiJsonApiWrite, Rfc3339)
{
    EXPECT_EQ(rfc3339_utc(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(rfc3339_utc(1715169600), "2024-05-08T12:00:00Z");
}

TEST(ApiJsonApiPath, ResourcePath)
{
    auto p = parse_resource_path("/push-notification-providers",
                                 kTypeProviders);
    EXPECT_EQ(p.kind, ResourcePath::Collection);
    p = parse_resource_path("/api/push-notification-providers/",
                            kTypeProviders);
    EXPECT_EQ(p.kind, ResourcePath::Collection);
    p = parse_resource_path("/api/push-notification-providers/abc",
                            kTypeProviders);
    EXPECT_EQ(p.kind, ResourcePath::Item);
    EXPECT_EQ(p.id, "abc");
    p = parse_resource_path("/push-notification-providers/abc/",
                            kTypeProviders);
    EXPECT_EQ(p.kind, ResourcePath::Item);
    EXPECT_EQ(p.id, "abc");
    EXPECT_EQ(parse_resource_path("/push-notification-providers/abc/def",
                                  kTypeProviders)
                  .kind,
              ResourcePath::NotFound);
    EXPECT_EQ(parse_resource_path("/push-notification-providers//",
                                  kTypeProviders)
                  .kind,
              ResourcePath::NotFound);
    EXPECT_EQ(parse_resource_path("/push-notification-providersx/abc",
                                  kTypeProviders)
                  .kind,
              ResourcePath::NotFound);
    EXPECT_EQ(parse_resource_path("/other", kTypeProviders).kind,
              ResourcePath::NotFound);
    EXPECT_EQ(parse_resource_path("", kTypeProviders).kind,
              ResourcePath::NotFound);
    // "push-notifications" is not a prefix match of the other types.
    EXPECT_EQ(parse_resource_path("/push-notification-subscriptions/x",
                                  kTypeNotifications)
                  .kind,
              ResourcePath::NotFound);
}
