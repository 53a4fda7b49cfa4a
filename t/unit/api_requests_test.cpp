#include <gtest/gtest.h>

#include <string>

#include "api/php_json.hpp"
#include "api/requests.hpp"

using namespace webpush::api;

namespace {

std::string wrap(std::string_view type, std::string_view attributes)
{
    return "{\"data\":{\"type\":\"" + std::string(type)
           + "\",\"attributes\":" + std::string(attributes) + "}}";
}

ProviderValidation provider(std::string_view attributes)
{
    std::string b = wrap(kTypeProviders, attributes);
    return parse_provider_request(b.data(), b.size());
}

const char kP256dh[] =
    "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazA"
    "kj7I99e8QcYP7DkM";
const char kAuth[] = "tBHItJI5svbpez7KI4CCXg";

std::string good_payload()
{
    return std::string("{\"endpoint\":\"https://fcm.googleapis.com/fcm/send/"
                       "abc\",\"expirationTime\":null,\"keys\":{\"p256dh\":\"")
           + kP256dh + "\",\"auth\":\"" + kAuth + "\"}}";
}

std::string sub_attrs(std::string_view payload,
                      std::string_view extra = "")
{
    return "{\"providerName\":\"web-push-php\",\"group\":{\"name\":"
           "\"warehouse\",\"identifier\":\"1\"},\"payload\":"
           + std::string(payload) + std::string(extra) + "}";
}

struct FakeKeys {
    int calls = 0;
    KeyCheck fn()
    {
        return [this](std::string_view p, std::string_view a,
                      std::string& reason) {
            calls++;
            if (p == "BAD") {
                reason = "p256dh is not on the P-256 curve";
                return false;
            }
            if (a.size() < 16) {
                reason = "auth is not 16 bytes";
                return false;
            }
            return true;
        };
    }
};

SubscriptionValidation subscription(std::string_view attributes,
                                    const SubscriptionRules& rules)
{
    std::string b = wrap(kTypeSubscriptions, attributes);
    return parse_subscription_request(b.data(), b.size(), rules);
}

SubscriptionValidation subscription(std::string_view attributes)
{
    return subscription(attributes, SubscriptionRules{});
}

NotificationValidation notification(std::string_view attributes,
                                    const NotificationRules& rules = {})
{
    std::string b = wrap(kTypeNotifications, attributes);
    return parse_notification_request(b.data(), b.size(), rules);
}

std::string notif_attrs(std::string_view extra,
                        std::string_view payload = "{\"title\":\"Hi\"}")
{
    return "{\"providerName\":\"web-push-php\",\"group\":{\"name\":"
           "\"warehouse\",\"identifier\":\"1\"},\"payload\":"
           + std::string(payload) + std::string(extra) + "}";
}

void expect_single(const ErrorList& errors, const char* code,
                   const char* message)
{
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].code, code);
    EXPECT_EQ(errors[0].message, message);
}

}  // namespace

// ---- providers -------------------------------------------------------------

TEST(ApiProviderRequest, Valid)
{
    ProviderValidation r = provider("{\"name\":\"Fulfillment App provider\","
                                    "\"uuid\":\"chosen-by-client\"}");
    ASSERT_TRUE(r.request);
    EXPECT_TRUE(r.errors.empty());
    EXPECT_EQ(r.request->name, "Fulfillment App provider");
}

TEST(ApiProviderRequest, NotTrimmedAndSqlPassedThrough)
{
    ProviderValidation r = provider("{\"name\":\" \"}");
    ASSERT_TRUE(r.request);
    EXPECT_EQ(r.request->name, " ");
    r = provider("{\"name\":\"x'); DROP TABLE spy_push_notification_provider;"
                 "--\"}");
    ASSERT_TRUE(r.request);
    EXPECT_EQ(r.request->name,
              "x'); DROP TABLE spy_push_notification_provider;--");
}

TEST(ApiProviderRequest, FalsyNames)
{
    for (const char* attrs :
         {"{}", "{\"name\":\"\"}", "{\"name\":\"0\"}", "{\"name\":null}",
          "{\"name\":false}", "{\"uuid\":\"x\"}"}) {
        ProviderValidation r = provider(attrs);
        EXPECT_FALSE(r.request) << attrs;
        expect_single(r.errors, "5400", "Wrong request body.");
        EXPECT_EQ(r.errors[0].status, 400);
    }
    // "00" and "0.0" are truthy strings in PHP.
    EXPECT_TRUE(provider("{\"name\":\"00\"}").request);
    EXPECT_TRUE(provider("{\"name\":\"0.0\"}").request);
}

TEST(ApiProviderRequest, NonStringNames)
{
    for (const char* attrs : {"{\"name\":1}", "{\"name\":0}",
                              "{\"name\":true}", "{\"name\":[\"a\"]}",
                              "{\"name\":{\"a\":1}}", "{\"name\":1.5}"}) {
        ProviderValidation r = provider(attrs);
        EXPECT_FALSE(r.request) << attrs;
        expect_single(r.errors, "5400", "Wrong request body.");
    }
}

TEST(ApiProviderRequest, LengthInCharacters)
{
    std::string ascii255(255, 'a');
    EXPECT_TRUE(provider("{\"name\":\"" + ascii255 + "\"}").request);
    ProviderValidation r = provider("{\"name\":\"" + ascii255 + "a\"}");
    EXPECT_FALSE(r.request);
    expect_single(r.errors, "5007",
                  "A push notification provider name must have length from "
                  "1 to 255 characters.");
    // 255 two-byte characters = 510 bytes: still fine.
    std::string e255;
    for (int i = 0; i < 255; i++) {
        e255 += "\xc3\xa9";
    }
    EXPECT_TRUE(provider("{\"name\":\"" + e255 + "\"}").request);
    EXPECT_FALSE(provider("{\"name\":\"" + e255 + "\xc3\xa9\"}").request);
    // 255 emoji (4 bytes each, one code point).
    std::string emoji;
    for (int i = 0; i < 255; i++) {
        emoji += "\xf0\x9f\x98\x80";
    }
    EXPECT_TRUE(provider("{\"name\":\"" + emoji + "\"}").request);
}

TEST(ApiProviderRequest, EnvelopeErrorsPassThrough)
{
    const char body[] = "[1,2]";
    ProviderValidation r = parse_provider_request(body, sizeof(body) - 1);
    EXPECT_FALSE(r.request);
    expect_single(r.errors, "5400", "Wrong request body.");
    std::string b = wrap(kTypeSubscriptions, "{\"name\":\"a\"}");
    r = parse_provider_request(b.data(), b.size());
    expect_single(r.errors, "5400", "Wrong request body.");
}

// ---- subscriptions ---------------------------------------------------------

TEST(ApiSubscriptionRequest, BrowserShape)
{
    FakeKeys keys;
    SubscriptionRules rules;
    rules.key_check = keys.fn();
    SubscriptionValidation r = subscription(
        sub_attrs(good_payload(), ",\"localeName\":\"en_US\""), rules);
    ASSERT_TRUE(r.errors.empty()) << r.errors[0].detail;
    EXPECT_TRUE(r.usable);
    EXPECT_EQ(keys.calls, 1);
    const SubscriptionRequest& q = r.request;
    EXPECT_EQ(q.provider_name, "web-push-php");
    EXPECT_EQ(q.group_name, "warehouse");
    EXPECT_EQ(q.group_identifier, "1");
    EXPECT_EQ(q.locale_name, "en_US");
    EXPECT_EQ(q.endpoint, "https://fcm.googleapis.com/fcm/send/abc");
    ASSERT_TRUE(q.push_endpoint);
    EXPECT_EQ(q.push_endpoint->origin, "https://fcm.googleapis.com");
    EXPECT_EQ(q.p256dh, kP256dh);
    EXPECT_EQ(q.auth, kAuth);
    EXPECT_EQ(q.content_encoding, ContentEncoding::Aes128gcm);
    std::string stored =
        std::string("{\"endpoint\":\"https:\\/\\/fcm.googleapis.com\\/fcm\\/"
                    "send\\/abc\",\"expirationTime\":null,\"keys\":{"
                    "\"p256dh\":\"")
        + kP256dh + "\",\"auth\":\"" + kAuth + "\"}}";
    EXPECT_EQ(q.payload_stored, stored);
    EXPECT_EQ(q.payload_checksum, md5_hex(stored));
    EXPECT_EQ(q.payload_checksum.size(), 32u);
    ASSERT_TRUE(q.payload);
    EXPECT_EQ(json_compact(q.payload.get()), good_payload());
}

TEST(ApiSubscriptionRequest, TokenIsReadNotRequired)
{
    FakeKeys keys;
    SubscriptionRules rules;
    rules.key_check = keys.fn();
    SubscriptionValidation r = subscription(
        sub_attrs(good_payload(), ",\"token\":\"1.abc\""), rules);
    ASSERT_TRUE(r.errors.empty());
    EXPECT_EQ(r.request.token, "1.abc");

    r = subscription(sub_attrs(good_payload(), ",\"token\":null"), rules);
    ASSERT_TRUE(r.errors.empty());
    EXPECT_FALSE(r.request.token.has_value());

    r = subscription(sub_attrs(good_payload()), rules);
    ASSERT_TRUE(r.errors.empty());
    EXPECT_FALSE(r.request.token.has_value());
}

TEST(ApiSubscriptionRequest, PublicKeyAuthTokenShapeAndAesgcm)
{
    std::string payload = std::string("{\"endpoint\":\"https://web.push.apple"
                                      ".com/x\",\"publicKey\":\"")
                          + kP256dh + "\",\"authToken\":\"" + kAuth
                          + "\",\"contentEncoding\":\"aesgcm\"}";
    SubscriptionValidation r = subscription(sub_attrs(payload));
    ASSERT_TRUE(r.errors.empty()) << r.errors[0].detail;
    EXPECT_EQ(r.request.p256dh, kP256dh);
    EXPECT_EQ(r.request.content_encoding, ContentEncoding::Aesgcm);
    EXPECT_FALSE(r.request.locale_name);
}

TEST(ApiSubscriptionRequest, NullIdentifierAndLocale)
{
    SubscriptionValidation r = subscription(
        "{\"providerName\":\"p\",\"group\":{\"name\":\"g\",\"identifier\":"
        "null},\"localeName\":null,\"payload\":" + good_payload() + "}");
    ASSERT_TRUE(r.errors.empty());
    EXPECT_FALSE(r.request.group_identifier);
    EXPECT_FALSE(r.request.locale_name);
    r = subscription("{\"providerName\":\"p\",\"group\":{\"name\":\"g\"},"
                     "\"payload\":" + good_payload() + "}");
    ASSERT_TRUE(r.errors.empty());
    EXPECT_FALSE(r.request.group_identifier);
}

TEST(ApiSubscriptionRequest, MissingFieldsAre400Not500)
{
    const std::string p = good_payload();
    for (std::string attrs :
         {"{\"group\":{\"name\":\"g\"},\"payload\":" + p + "}",
          "{\"providerName\":\"p\",\"payload\":" + p + "}",
          "{\"providerName\":\"p\",\"group\":{},\"payload\":" + p + "}",
          "{\"providerName\":\"p\",\"group\":\"g\",\"payload\":" + p + "}",
          "{\"providerName\":1,\"group\":{\"name\":\"g\"},\"payload\":" + p
              + "}",
          "{\"providerName\":\"p\",\"group\":{\"name\":2},\"payload\":" + p
              + "}",
          "{\"providerName\":\"p\",\"group\":{\"name\":\"g\",\"identifier\":"
          "7},\"payload\":" + p + "}",
          "{\"providerName\":\"p\",\"group\":{\"name\":\"g\"},"
          "\"localeName\":[],\"payload\":" + p + "}",
          "{\"providerName\":\"p\",\"group\":{\"name\":\"g\"},"
          "\"token\":123,\"payload\":" + p + "}",
          std::string("{}")}) {
        SubscriptionValidation r = subscription(attrs);
        EXPECT_FALSE(r.usable) << attrs;
        expect_single(r.errors, "5400", "Wrong request body.");
        EXPECT_EQ(r.errors[0].status, 400);
    }
    // Several problems: one error, every reason in the detail.
    SubscriptionValidation r = subscription("{\"payload\":" + p + "}");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].detail.find("providerName"), std::string::npos);
    EXPECT_NE(r.errors[0].detail.find("group"), std::string::npos);
}

TEST(ApiSubscriptionRequest, GroupFieldsBoundedByColumnSize)
{
    std::string longname(256, 'g');
    SubscriptionValidation r = subscription(
        "{\"providerName\":\"p\",\"group\":{\"name\":\"" + longname
        + "\"},\"payload\":" + good_payload() + "}");
    EXPECT_FALSE(r.usable);
    expect_single(r.errors, "5400", "Wrong request body.");
    r = subscription("{\"providerName\":\"p\",\"group\":{\"name\":\"g\","
                     "\"identifier\":\"" + longname + "\"},\"payload\":"
                     + good_payload() + "}");
    EXPECT_FALSE(r.usable);
    r = subscription("{\"providerName\":\"p\",\"group\":{\"name\":\""
                     + std::string(255, 'g') + "\"},\"payload\":"
                     + good_payload() + "}");
    EXPECT_TRUE(r.errors.empty());
}

TEST(ApiSubscriptionRequest, PayloadStructure)
{
    const char* bad[] = {
        "null",
        "[]",
        "\"https://fcm.googleapis.com/x\"",
        "{}",
        "{\"endpoint\":\"https://fcm.googleapis.com/x\"}",
        "{\"endpoint\":\"\",\"keys\":{\"p256dh\":\"a\",\"auth\":\"b\"}}",
        "{\"endpoint\":5,\"keys\":{\"p256dh\":\"a\",\"auth\":\"b\"}}",
        "{\"endpoint\":\"https://fcm.googleapis.com/x\",\"keys\":{}}",
        "{\"endpoint\":\"https://fcm.googleapis.com/x\",\"keys\":[]}",
        "{\"endpoint\":\"https://fcm.googleapis.com/x\",\"keys\":{\"p256dh\":"
        "\"a\"}}",
        "{\"endpoint\":\"https://fcm.googleapis.com/x\",\"keys\":{\"p256dh\":"
        "\"a\",\"auth\":\"\"}}",
        "{\"endpoint\":\"https://fcm.googleapis.com/x\",\"keys\":{\"p256dh\":"
        "1,\"auth\":2}}",
        "{\"endpoint\":\"https://fcm.googleapis.com/x\",\"publicKey\":\"a\"}",
        "{\"endpoint\":\"https://fcm.googleapis.com/x\",\"keys\":{\"p256dh\":"
        "\"a\",\"auth\":\"b\"},\"contentEncoding\":\"aes256\"}",
        "{\"endpoint\":\"https://fcm.googleapis.com/x\",\"keys\":{\"p256dh\":"
        "\"a\",\"auth\":\"b\"},\"contentEncoding\":1}",
    };
    for (const char* payload : bad) {
        SubscriptionValidation r = subscription(sub_attrs(payload));
        EXPECT_TRUE(r.usable) << payload;
        expect_single(r.errors, "5400", "Invalid payload structure.");
        EXPECT_FALSE(r.errors[0].detail.empty());
    }
    // payload missing entirely: like the reference ({} → 5400).
    SubscriptionValidation r = subscription(
        "{\"providerName\":\"p\",\"group\":{\"name\":\"g\"}}");
    expect_single(r.errors, "5400", "Invalid payload structure.");
}

TEST(ApiSubscriptionRequest, EndpointAllowList)
{
    auto endpoint = [](const std::string& url) {
        return std::string("{\"endpoint\":\"") + url
               + "\",\"keys\":{\"p256dh\":\"a\",\"auth\":\"b\"}}";
    };
    for (const char* url :
         {"http://fcm.googleapis.com/x", "https://evil.example/x",
          "https://fcm.googleapis.com@evil.example/x",
          "https://169.254.169.254/latest", "file:///etc/passwd",
          "https://push.apple.com/x", "not a url"}) {
        SubscriptionValidation r = subscription(sub_attrs(endpoint(url)));
        expect_single(r.errors, "5400", "Invalid payload structure.");
    }
    SubscriptionRules rules;
    rules.push_hosts = webpush::push::PushHosts();
    std::string reason;
    ASSERT_TRUE(rules.push_hosts.add("http://127.0.0.1:9999", reason));
    SubscriptionValidation r = subscription(
        sub_attrs(endpoint("http://127.0.0.1:9999/push/1")), rules);
    EXPECT_TRUE(r.errors.empty());
    r = subscription(sub_attrs(endpoint("https://fcm.googleapis.com/x")),
                     rules);
    expect_single(r.errors, "5400", "Invalid payload structure.");
    EXPECT_EQ(r.errors[0].detail,
              "endpoint host is not in webpush_push_hosts");
}

TEST(ApiSubscriptionRequest, KeyCheckCallback)
{
    FakeKeys keys;
    SubscriptionRules rules;
    rules.key_check = keys.fn();
    SubscriptionValidation r = subscription(
        sub_attrs("{\"endpoint\":\"https://fcm.googleapis.com/x\",\"keys\":"
                  "{\"p256dh\":\"BAD\",\"auth\":\"0123456789abcdefghij\"}}"),
        rules);
    expect_single(r.errors, "5400", "Invalid payload structure.");
    EXPECT_EQ(r.errors[0].detail, "p256dh is not on the P-256 curve");
    EXPECT_EQ(keys.calls, 1);
    // Not called when the keys are missing anyway.
    r = subscription(sub_attrs("{\"endpoint\":\"https://fcm.googleapis.com/"
                               "x\"}"),
                     rules);
    EXPECT_EQ(keys.calls, 1);
    // A throwing callback is contained.
    rules.key_check = [](std::string_view, std::string_view,
                         std::string&) -> bool {
        throw std::runtime_error("boom");
    };
    r = subscription(sub_attrs(good_payload()), rules);
    expect_single(r.errors, "5400", "Invalid payload structure.");
}

TEST(ApiSubscriptionRequest, AllPayloadProblemsInOneDetail)
{
    FakeKeys keys;
    SubscriptionRules rules;
    rules.key_check = keys.fn();
    SubscriptionValidation r = subscription(
        sub_attrs("{\"endpoint\":\"https://evil.example/x\",\"keys\":{"
                  "\"p256dh\":\"BAD\",\"auth\":\"0123456789abcdefghij\"},"
                  "\"contentEncoding\":\"x\"}"),
        rules);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].detail,
              "endpoint host is not in webpush_push_hosts; "
              "\"payload.contentEncoding\" must be \"aes128gcm\" or "
              "\"aesgcm\"; p256dh is not on the P-256 curve");
}

TEST(ApiSubscriptionRequest, GroupAndLocaleAllowLists)
{
    SubscriptionRules rules;
    rules.groups = {"warehouse", "user"};
    rules.locales = {"en_US", "de_DE"};
    SubscriptionValidation r = subscription(
        sub_attrs(good_payload(), ",\"localeName\":\"de_DE\""), rules);
    EXPECT_TRUE(r.errors.empty());

    r = subscription("{\"providerName\":\"p\",\"group\":{\"name\":\"other\"},"
                     "\"localeName\":\"fr_FR\",\"payload\":{}}",
                     rules);
    EXPECT_TRUE(r.usable);
    ASSERT_EQ(r.errors.size(), 3u);
    EXPECT_EQ(r.errors[0].code, "5002");
    EXPECT_EQ(r.errors[0].message, "Wrong group name.");
    EXPECT_EQ(r.errors[1].code, "5009");
    EXPECT_EQ(r.errors[1].message, "Provided locale not found.");
    EXPECT_EQ(r.errors[2].code, "5400");
    // The handler adds its database findings and renders 207.
    insert_in_code_order(r.errors, make_error(ErrorCode::SubscriptionExists));
    insert_in_code_order(r.errors, make_error(ErrorCode::ProviderNotFound));
    ErrorReply reply = render_errors(r.errors);
    EXPECT_EQ(reply.status, 207);
    EXPECT_LT(reply.body.find("5001"), reply.body.find("5002"));
    EXPECT_LT(reply.body.find("5002"), reply.body.find("5003"));
    EXPECT_LT(reply.body.find("5003"), reply.body.find("5009"));
    EXPECT_LT(reply.body.find("5009"), reply.body.find("5400"));

    // Only the group is wrong: one error, 400.
    r = subscription("{\"providerName\":\"p\",\"group\":{\"name\":\"x\"},"
                     "\"payload\":" + good_payload() + "}",
                     rules);
    expect_single(r.errors, "5002", "Wrong group name.");
    EXPECT_EQ(render_errors(r.errors).status, 400);
}

TEST(ApiSubscriptionRequest, ChecksumFollowsCanonicalForm)
{
    // Same value, different spelling → same stored text and checksum.
    SubscriptionValidation a = subscription(sub_attrs(good_payload()));
    std::string escaped = good_payload();
    escaped.replace(escaped.find("https://"), 8, "https:\\/\\/");
    SubscriptionValidation b = subscription(sub_attrs(escaped));
    ASSERT_TRUE(a.errors.empty());
    ASSERT_TRUE(b.errors.empty());
    EXPECT_EQ(a.request.payload_checksum, b.request.payload_checksum);
    // Key order matters, as in the reference.
    std::string reordered =
        std::string("{\"keys\":{\"p256dh\":\"") + kP256dh + "\",\"auth\":\""
        + kAuth + "\"},\"endpoint\":\"https://fcm.googleapis.com/fcm/send/"
        "abc\",\"expirationTime\":null}";
    SubscriptionValidation c = subscription(sub_attrs(reordered));
    ASSERT_TRUE(c.errors.empty());
    EXPECT_NE(a.request.payload_checksum, c.request.payload_checksum);
}

TEST(ApiSubscriptionRequest, SqlLookingValuesUntouched)
{
    SubscriptionValidation r = subscription(
        "{\"providerName\":\"web-push-php'; DELETE FROM x; --\",\"group\":{"
        "\"name\":\"g\\\" OR 1=1\",\"identifier\":\"1); DROP TABLE y;\"},"
        "\"payload\":" + good_payload() + "}");
    ASSERT_TRUE(r.errors.empty());
    EXPECT_EQ(r.request.provider_name, "web-push-php'; DELETE FROM x; --");
    EXPECT_EQ(r.request.group_name, "g\" OR 1=1");
    EXPECT_EQ(r.request.group_identifier, "1); DROP TABLE y;");
}

TEST(ApiSubscriptionRequest, WrongTypeAndGarbage)
{
    std::string b = wrap(kTypeProviders, sub_attrs(good_payload()));
    SubscriptionValidation r =
        parse_subscription_request(b.data(), b.size(), SubscriptionRules{});
    EXPECT_FALSE(r.usable);
    expect_single(r.errors, "5400", "Wrong request body.");
    const char garbage[] = "\x00\x01\x02\xff";
    r = parse_subscription_request(garbage, sizeof(garbage) - 1,
                                   SubscriptionRules{});
    EXPECT_FALSE(r.usable);
    expect_single(r.errors, "5400", "Wrong request body.");
}

// ---- notifications ---------------------------------------------------------

TEST(ApiNotificationRequest, Valid)
{
    NotificationValidation r = notification(notif_attrs(
        ",\"ttl\":3600,\"urgency\":\"high\",\"topic\":\"order-42\""));
    ASSERT_TRUE(r.errors.empty()) << r.errors[0].detail;
    EXPECT_TRUE(r.usable);
    const NotificationRequest& q = r.request;
    EXPECT_EQ(q.provider_name, "web-push-php");
    EXPECT_EQ(q.group_name, "warehouse");
    EXPECT_EQ(q.group_identifier, "1");
    EXPECT_EQ(q.payload_json, "{\"title\":\"Hi\"}");
    EXPECT_EQ(q.ttl, 3600);
    ASSERT_TRUE(q.urgency);
    EXPECT_STREQ(urgency_name(*q.urgency), "high");
    EXPECT_EQ(q.topic, "order-42");
}

TEST(ApiNotificationRequest, OptionalsAbsentOrNull)
{
    NotificationValidation r = notification(notif_attrs(""));
    ASSERT_TRUE(r.errors.empty());
    EXPECT_FALSE(r.request.ttl);
    EXPECT_FALSE(r.request.urgency);
    EXPECT_FALSE(r.request.topic);
    r = notification(
        notif_attrs(",\"ttl\":null,\"urgency\":null,\"topic\":null"));
    ASSERT_TRUE(r.errors.empty());
    EXPECT_FALSE(r.request.ttl);
}

TEST(ApiNotificationRequest, Urgencies)
{
    for (const char* u : {"very-low", "low", "normal", "high"}) {
        NotificationValidation r = notification(
            notif_attrs(std::string(",\"urgency\":\"") + u + "\""));
        ASSERT_TRUE(r.errors.empty()) << u;
        EXPECT_STREQ(urgency_name(*r.request.urgency), u);
    }
    for (const char* u : {"\"HIGH\"", "\"urgent\"", "\"\"", "1", "[]"}) {
        NotificationValidation r = notification(
            notif_attrs(std::string(",\"urgency\":") + u));
        expect_single(r.errors, "5400", "Wrong request body.");
    }
}

TEST(ApiNotificationRequest, Ttl)
{
    EXPECT_EQ(notification(notif_attrs(",\"ttl\":0")).request.ttl, 0);
    EXPECT_EQ(notification(notif_attrs(",\"ttl\":2147483647")).request.ttl,
              2147483647);
    for (const char* t : {"-1", "2147483648", "3600.0", "\"3600\"", "true",
                          "9223372036854775807"}) {
        NotificationValidation r = notification(
            notif_attrs(std::string(",\"ttl\":") + t));
        expect_single(r.errors, "5400", "Wrong request body.");
    }
}

TEST(ApiNotificationRequest, RatePerMinute)
{
    EXPECT_FALSE(notification(notif_attrs("")).request.rate_per_minute);
    NotificationValidation r =
        notification(notif_attrs(",\"ratePerMinute\":null"));
    ASSERT_TRUE(r.errors.empty());
    EXPECT_FALSE(r.request.rate_per_minute);

    for (std::int64_t v : {1, 600, 1000000}) {
        r = notification(notif_attrs(",\"ratePerMinute\":"
                                     + std::to_string(v)));
        ASSERT_TRUE(r.errors.empty()) << v;
        EXPECT_EQ(r.request.rate_per_minute, v);
    }

    // 0, negative, too large, fractions and reals (jansson keeps 60.0 and
    // 1e3 as reals, as JSON:API clients mean them), strings, booleans
    for (const char* v : {"0", "-1", "-600", "1000001", "2147483648",
                          "9223372036854775807", "1.5", "60.0", "1e3",
                          "0.5", "\"600\"", "\"\"", "true", "false", "[]",
                          "{}"}) {
        r = notification(notif_attrs(std::string(",\"ratePerMinute\":")
                                     + v));
        expect_single(r.errors, "5400", "Wrong request body.");
        ASSERT_FALSE(r.errors.empty());
        EXPECT_EQ(r.errors[0].detail,
                  "\"ratePerMinute\" must be an integer from 1 to 1000000")
            << v;
        EXPECT_TRUE(r.usable) << v;  // the handler still checks the provider
        EXPECT_FALSE(r.request.rate_per_minute) << v;
    }

    // with other problems: one 5400 listing them all
    r = notification(notif_attrs(",\"ttl\":-1,\"ratePerMinute\":0"));
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].detail.find("ttl"), std::string::npos);
    EXPECT_NE(r.errors[0].detail.find("ratePerMinute"), std::string::npos);
}

TEST(ApiNotificationRequest, Topic)
{
    for (const char* t : {"a1", "abc", "abcd", "A-_z",
                          "0123456789abcdefghijklmnopqrstuv"}) {
        NotificationValidation r = notification(
            notif_attrs(std::string(",\"topic\":\"") + t + "\""));
        EXPECT_TRUE(r.errors.empty()) << t;
    }
    for (const char* t : {"\"\"", "\"a\"", "\"abcde\"",
                          "\"0123456789abcdefghijklmnopqrstuvw\"",
                          "\"order 42\"", "\"ab==\"", "\"a/b+\"", "42",
                          "\"\xc3\xa9\xc3\xa9\""}) {
        NotificationValidation r = notification(
            notif_attrs(std::string(",\"topic\":") + t));
        expect_single(r.errors, "5400", "Wrong request body.");
    }
}

TEST(ApiNotificationRequest, PayloadSize)
{
    // {"t":"..."} is 8 bytes plus the string.
    std::string fits = "{\"t\":\"" + std::string(3052 - 8, 'x') + "\"}";
    NotificationValidation r = notification(notif_attrs("", fits));
    ASSERT_TRUE(r.errors.empty());
    EXPECT_EQ(r.request.payload_json.size(), 3052u);

    std::string over = "{\"t\":\"" + std::string(3052 - 7, 'x') + "\"}";
    r = notification(notif_attrs("", over));
    expect_single(r.errors, "5400", "The maximum payload length exceeded.");

    // Whitespace in the request does not count: compact form is measured.
    std::string spaced = "{ \"t\" : \"" + std::string(3052 - 8, 'x')
                         + "\" }";
    EXPECT_TRUE(notification(notif_attrs("", spaced)).errors.empty());

    // Non-ASCII counts in UTF-8 bytes: 1523 × "é" = 3046 bytes + 8 > 3052.
    std::string e;
    for (int i = 0; i < 1523; i++) {
        e += "\xc3\xa9";
    }
    r = notification(notif_attrs("", "{\"t\":\"" + e + "\"}"));
    expect_single(r.errors, "5400", "The maximum payload length exceeded.");
}

TEST(ApiNotificationRequest, PayloadMustBeObject)
{
    for (const char* p : {"null", "[]", "\"x\"", "1"}) {
        NotificationValidation r = notification(notif_attrs("", p));
        expect_single(r.errors, "5400", "Wrong request body.");
        EXPECT_TRUE(r.usable);
    }
    NotificationValidation r = notification(
        "{\"providerName\":\"p\",\"group\":{\"name\":\"g\"}}");
    expect_single(r.errors, "5400", "Wrong request body.");
    // Any object goes, nested and with odd content.
    r = notification(notif_attrs("", "{\"a\":[1,{\"b\":null}],\"c\":"
                                     "\"<script>\"}"));
    EXPECT_TRUE(r.errors.empty());
    EXPECT_EQ(r.request.payload_json,
              "{\"a\":[1,{\"b\":null}],\"c\":\"<script>\"}");
}

TEST(ApiNotificationRequest, StructuralErrors)
{
    for (const char* attrs :
         {"{}", "{\"providerName\":\"p\",\"payload\":{}}",
          "{\"providerName\":\"p\",\"group\":{\"identifier\":\"1\"},"
          "\"payload\":{}}",
          "{\"providerName\":null,\"group\":{\"name\":\"g\"},"
          "\"payload\":{}}"}) {
        NotificationValidation r = notification(attrs);
        EXPECT_FALSE(r.usable) << attrs;
        expect_single(r.errors, "5400", "Wrong request body.");
    }
}

TEST(ApiNotificationRequest, SeveralProblems)
{
    NotificationRules rules;
    rules.groups = {"user"};
    std::string over = "{\"t\":\"" + std::string(4000, 'x') + "\"}";
    NotificationValidation r = notification(
        notif_attrs(",\"ttl\":-1,\"urgency\":\"now\"", over), rules);
    ASSERT_EQ(r.errors.size(), 3u);
    EXPECT_EQ(r.errors[0].code, "5002");
    EXPECT_EQ(r.errors[1].message, "Wrong request body.");
    EXPECT_NE(r.errors[1].detail.find("ttl"), std::string::npos);
    EXPECT_NE(r.errors[1].detail.find("urgency"), std::string::npos);
    EXPECT_EQ(r.errors[2].message, "The maximum payload length exceeded.");
    EXPECT_EQ(render_errors(r.errors).status, 207);
}
