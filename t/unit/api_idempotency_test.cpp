#include <gtest/gtest.h>

#include <string>

#include "api/errors.hpp"
#include "api/idempotency.hpp"
#include "api/requests.hpp"

using namespace webpush::api;

namespace {

NotificationRequest request(std::string_view attributes)
{
    std::string b = "{\"data\":{\"type\":\"push-notifications\","
                    "\"attributes\":" + std::string(attributes) + "}}";
    NotificationValidation v = parse_notification_request(b.data(), b.size(),
                                                          {});
    EXPECT_TRUE(v.usable && v.errors.empty()) << attributes;
    return std::move(v.request);
}

TEST(IdempotencyKey, Syntax)
{
    EXPECT_TRUE(idempotency_key_ok("a"));
    EXPECT_TRUE(idempotency_key_ok("order 42/retry~1"));
    EXPECT_TRUE(idempotency_key_ok(std::string(255, 'k')));
    EXPECT_FALSE(idempotency_key_ok(""));
    EXPECT_FALSE(idempotency_key_ok(std::string(256, 'k')));
    EXPECT_FALSE(idempotency_key_ok("tab\there"));
    EXPECT_FALSE(idempotency_key_ok("del\x7f"));
    EXPECT_FALSE(idempotency_key_ok("caf\xc3\xa9"));
    EXPECT_FALSE(idempotency_key_ok(std::string_view("nul\0x", 5)));
}

TEST(IdempotencyFingerprint, CanonicalForm)
{
    NotificationRequest n = request(
        "{\"providerName\":\"p\",\"group\":{\"name\":\"g\","
        "\"identifier\":\"7\"},\"payload\":{\"b\":1,\"a\":[true,null]},"
        "\"ttl\":60,\"urgency\":\"high\",\"topic\":\"t1\","
        "\"sendAt\":\"1970-01-01T00:00:01.5Z\"}");
    EXPECT_EQ(canonical_notification(n),
              "[\"p\",\"g\",\"7\",{\"a\":[true,null],\"b\":1},60,\"high\","
              "\"t1\",1500000]");

    NotificationRequest m = request(
        "{\"providerName\":\"p\",\"group\":{\"name\":\"g\"},"
        "\"payload\":{\"title\":\"caf\\u00e9\"}}");
    EXPECT_EQ(canonical_notification(m),
              "[\"p\",\"g\",null,{\"title\":\"caf\\u00E9\"},null,null,null,"
              "null]");
    EXPECT_EQ(notification_fingerprint(m).size(), 64u);
}

TEST(IdempotencyFingerprint, SameRequestOtherSpelling)
{
    NotificationRequest a = request(
        "{\"providerName\":\"p\",\"group\":{\"name\":\"g\"},"
        "\"payload\":{\"x\":1,\"y\":{\"b\":2,\"a\":3}},"
        "\"sendAt\":\"2026-05-01T14:00:00+02:00\"}");
    NotificationRequest b = request(
        "{ \"sendAt\" : \"2026-05-01T12:00:00Z\", \"payload\": "
        "{\"y\":{\"a\":3,\"b\":2},\"x\":1}, \"group\":{\"name\":\"g\","
        "\"identifier\":null},\"providerName\":\"p\",\"ttl\":null}");
    EXPECT_EQ(notification_fingerprint(a), notification_fingerprint(b));
}

TEST(IdempotencyFingerprint, OtherRequestOtherFingerprint)
{
    const char* base = "{\"providerName\":\"p\",\"group\":{\"name\":\"g\"},"
                       "\"payload\":{\"x\":1}";
    std::string plain = notification_fingerprint(
        request(std::string(base) + "}"));
    for (const char* extra : {",\"ttl\":0", ",\"urgency\":\"low\"",
                              ",\"topic\":\"abcd\"",
                              ",\"sendAt\":\"2026-05-01T12:00:00Z\""}) {
        EXPECT_NE(plain, notification_fingerprint(
                             request(std::string(base) + extra + "}")))
            << extra;
    }
    EXPECT_NE(plain, notification_fingerprint(request(
        "{\"providerName\":\"p\",\"group\":{\"name\":\"g\","
        "\"identifier\":\"\"},\"payload\":{\"x\":1}}")));
    EXPECT_NE(plain, notification_fingerprint(request(
        "{\"providerName\":\"p\",\"group\":{\"name\":\"g\"},"
        "\"payload\":{\"x\":\"1\"}}")));
}

TEST(IdempotencyFingerprint, RatePerMinute)
{
    const char* base = "{\"providerName\":\"p\",\"group\":{\"name\":\"g\"},"
                       "\"payload\":{\"x\":1}";

    // absent or null: the form of versions 5 and 6, unchanged
    EXPECT_EQ(canonical_notification(request(std::string(base) + "}")),
              "[\"p\",\"g\",null,{\"x\":1},null,null,null,null]");
    EXPECT_EQ(canonical_notification(request(std::string(base)
                                             + ",\"ratePerMinute\":null}")),
              "[\"p\",\"g\",null,{\"x\":1},null,null,null,null]");

    // present: after localizedPayloads (null when there are none)
    EXPECT_EQ(canonical_notification(request(std::string(base)
                                             + ",\"ratePerMinute\":600}")),
              "[\"p\",\"g\",null,{\"x\":1},null,null,null,null,null,600]");
    EXPECT_EQ(canonical_notification(request(
                  std::string(base) + ",\"ratePerMinute\":600,"
                  "\"localizedPayloads\":{\"de_DE\":{\"x\":2}}}")),
              "[\"p\",\"g\",null,{\"x\":1},null,null,null,null,"
              "{\"de_DE\":{\"x\":2}},600]");

    // another rate, or none, is another request
    std::string none = notification_fingerprint(
        request(std::string(base) + "}"));
    std::string r600 = notification_fingerprint(
        request(std::string(base) + ",\"ratePerMinute\":600}"));
    std::string r601 = notification_fingerprint(
        request(std::string(base) + ",\"ratePerMinute\":601}"));
    EXPECT_NE(none, r600);
    EXPECT_NE(r600, r601);
    EXPECT_EQ(r600, notification_fingerprint(request(
        "{\"ratePerMinute\":600, \"payload\":{\"x\":1},\"group\":"
        "{\"name\":\"g\"},\"providerName\":\"p\"}")));
}

TEST(NotificationSendAt, Validated)
{
    std::string b = "{\"data\":{\"type\":\"push-notifications\","
                    "\"attributes\":{\"providerName\":\"p\",\"group\":"
                    "{\"name\":\"g\"},\"payload\":{},\"sendAt\":"
                    "\"2026-05-01 12:00:00\"}}}";
    NotificationValidation v = parse_notification_request(b.data(), b.size(),
                                                          {});
    ASSERT_EQ(v.errors.size(), 1u);
    EXPECT_EQ(v.errors[0].code, "5400");
    EXPECT_NE(v.errors[0].detail.find("sendAt"), std::string::npos);

    b = "{\"data\":{\"type\":\"push-notifications\",\"attributes\":"
        "{\"providerName\":\"p\",\"group\":{\"name\":\"g\"},\"payload\":{},"
        "\"sendAt\":1777636800}}}";
    v = parse_notification_request(b.data(), b.size(), {});
    ASSERT_EQ(v.errors.size(), 1u);
    EXPECT_EQ(v.errors[0].code, "5400");
}

}  // namespace

namespace {

TEST(IdempotencyError, Table)
{
    webpush::api::Error e = make_error(ErrorCode::IdempotencyKeyReused);
    EXPECT_EQ(e.code, "5011");
    EXPECT_EQ(e.status, 409);
    EXPECT_EQ(e.message, "Idempotency key reused with a different request.");
}

}  // namespace
