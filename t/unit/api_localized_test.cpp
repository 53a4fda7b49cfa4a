// localizedPayloads of POST /push-notifications: parsing, validation, the
// stored and echoed forms, and the idempotency fingerprint.

#include <gtest/gtest.h>

#include <string>

#include "api/errors.hpp"
#include "api/idempotency.hpp"
#include "api/requests.hpp"

using namespace webpush::api;

namespace {

NotificationValidation notification(std::string_view localized,
                                    const NotificationRules& rules = {})
{
    std::string b = "{\"data\":{\"type\":\"push-notifications\","
                    "\"attributes\":{\"providerName\":\"p\",\"group\":"
                    "{\"name\":\"g\"},\"payload\":{\"title\":\"Hi\"},"
                    "\"localizedPayloads\":" + std::string(localized)
                    + "}}}";
    return parse_notification_request(b.data(), b.size(), rules);
}

void expect_single(const ErrorList& errors, const char* message,
                   const char* detail_part)
{
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].code, "5400");
    EXPECT_EQ(errors[0].status, 400);
    EXPECT_EQ(errors[0].message, message);
    EXPECT_NE(errors[0].detail.find(detail_part), std::string::npos)
        << errors[0].detail;
}

const char* kDeclarative =
    "{\"web_push\":8030,\"notification\":{\"title\":\"Hallo\","
    "\"navigate\":\"https://shop.example/de\"}}";

}  // namespace

TEST(ApiLocalizedPayloads, ParsedSortedAndCompact)
{
    NotificationValidation r = notification(
        "{\"fr_FR\": {\"title\" : \"Salut\"}, \"de_DE\":{\"title\":"
        "\"Gr\\u00fc\\u00dfe\",\"n\":[1, 2]}}");
    ASSERT_TRUE(r.errors.empty());
    ASSERT_EQ(r.request.localized_payloads.size(), 2u);
    EXPECT_EQ(r.request.localized_payloads[0].locale, "de_DE");
    EXPECT_EQ(r.request.localized_payloads[0].payload_json,
              "{\"title\":\"Gr\xc3\xbc\xc3\x9f" "e\",\"n\":[1,2]}");
    EXPECT_EQ(r.request.localized_payloads[1].locale, "fr_FR");
    EXPECT_EQ(r.request.localized_payloads[1].payload_json,
              "{\"title\":\"Salut\"}");

    EXPECT_EQ(localized_echo_json(r.request.localized_payloads),
              "{\"de_DE\":{\"title\":\"Gr\xc3\xbc\xc3\x9f" "e\",\"n\":[1,2]},"
              "\"fr_FR\":{\"title\":\"Salut\"}}");
    EXPECT_EQ(localized_storage_json(r.request.localized_payloads),
              "{\"de_DE\":\"{\\\"title\\\":\\\"Gr\xc3\xbc\xc3\x9f" "e\\\","
              "\\\"n\\\":[1,2]}\",\"fr_FR\":\"{\\\"title\\\":"
              "\\\"Salut\\\"}\"}");
}

TEST(ApiLocalizedPayloads, NullAndEmptyAreAbsent)
{
    for (const char* l : {"null", "{}"}) {
        NotificationValidation r = notification(l);
        EXPECT_TRUE(r.errors.empty()) << l;
        EXPECT_TRUE(r.request.localized_payloads.empty()) << l;
        EXPECT_EQ(localized_echo_json(r.request.localized_payloads), "");
        EXPECT_EQ(localized_storage_json(r.request.localized_payloads), "");
    }
}

TEST(ApiLocalizedPayloads, NotAnObject)
{
    for (const char* l : {"[]", "\"de_DE\"", "1", "true"}) {
        NotificationValidation r = notification(l);
        EXPECT_TRUE(r.usable);
        expect_single(r.errors, "Wrong request body.",
                      "\"localizedPayloads\" must be an object");
    }
}

TEST(ApiLocalizedPayloads, ValueNotAnObject)
{
    for (const char* v : {"null", "[]", "\"x\"", "3"}) {
        NotificationValidation r = notification(
            std::string("{\"de_DE\":") + v + "}");
        expect_single(r.errors, "Wrong request body.",
                      "\"localizedPayloads.de_DE\" must be an object");
    }
}

TEST(ApiLocalizedPayloads, SizeLimitAsForPayload)
{
    // {"t":"..."} is 8 bytes plus the string.
    std::string fits = "{\"t\":\"" + std::string(3052 - 8, 'x') + "\"}";
    NotificationValidation r = notification("{\"de_DE\":" + fits + "}");
    ASSERT_TRUE(r.errors.empty());
    EXPECT_EQ(r.request.localized_payloads[0].payload_json.size(), 3052u);

    std::string over = "{\"t\":\"" + std::string(3052 - 7, 'x') + "\"}";
    r = notification("{\"de_DE\":" + over + ",\"fr_FR\":{}}");
    expect_single(r.errors, "The maximum payload length exceeded.",
                  "\"localizedPayloads.de_DE\" is 3053 bytes");
}

TEST(ApiLocalizedPayloads, LocaleNames)
{
    NotificationValidation r = notification("{\"\":{}}");
    expect_single(r.errors, "Wrong request body.", "locale names");

    r = notification("{\"" + std::string(256, 'l') + "\":{}}");
    expect_single(r.errors, "Wrong request body.", "locale names");

    // the JSON reader refuses a NUL in a key already
    r = notification("{\"de\\u0000DE\":{}}");
    expect_single(r.errors, "Wrong request body.", "NUL byte");

    NotificationRules rules;
    rules.locales = {"de_DE", "en_US"};
    r = notification("{\"de_DE\":{},\"en_US\":{}}", rules);
    EXPECT_TRUE(r.errors.empty());
    r = notification("{\"de_DE\":{},\"xx_XX\":{}}", rules);
    expect_single(r.errors, "Wrong request body.",
                  "\"localizedPayloads.xx_XX\": the locale is not one of "
                  "webpush_locales");
}

TEST(ApiLocalizedPayloads, DeclarativeCheck)
{
    NotificationValidation r = notification(
        std::string("{\"de_DE\":") + kDeclarative + "}");
    EXPECT_TRUE(r.errors.empty());

    r = notification("{\"de_DE\":{\"web_push\":8030,\"notification\":"
                     "{\"title\":\"\",\"navigate\":\"http://x\"}}}");
    expect_single(r.errors, "Wrong request body.",
                  "\"localizedPayloads.de_DE.notification.title\"");
    EXPECT_NE(r.errors[0].detail.find(
                  "\"localizedPayloads.de_DE.notification.navigate\""),
              std::string::npos)
        << r.errors[0].detail;
}

TEST(ApiLocalizedPayloads, SeveralProblemsInOneDetail)
{
    NotificationValidation r = notification(
        "{\"de_DE\":1,\"fr_FR\":[],\"en_US\":{}}");
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_NE(r.errors[0].detail.find("de_DE"), std::string::npos);
    EXPECT_NE(r.errors[0].detail.find("fr_FR"), std::string::npos);
    EXPECT_EQ(r.errors[0].detail.find("en_US"), std::string::npos);
}

TEST(ApiLocalizedPayloads, Fingerprint)
{
    NotificationValidation plain = notification("null");
    NotificationValidation a = notification(
        "{\"de_DE\":{\"t\":\"Hallo\",\"u\":1},\"fr_FR\":{\"t\":\"Salut\"}}");
    NotificationValidation b = notification(
        "{ \"fr_FR\" : {\"t\":\"Salut\"}, \"de_DE\":{\"u\":1,\"t\":"
        "\"Hallo\"}}");
    NotificationValidation c = notification(
        "{\"de_DE\":{\"t\":\"Hallo!\",\"u\":1},\"fr_FR\":{\"t\":\"Salut\"}}");
    ASSERT_TRUE(a.errors.empty() && b.errors.empty() && c.errors.empty());

    // without localizedPayloads: the canonical form of version 5
    EXPECT_EQ(canonical_notification(plain.request),
              "[\"p\",\"g\",null,{\"title\":\"Hi\"},null,null,null,null]");
    EXPECT_EQ(canonical_notification(a.request),
              "[\"p\",\"g\",null,{\"title\":\"Hi\"},null,null,null,null,"
              "{\"de_DE\":{\"t\":\"Hallo\",\"u\":1},"
              "\"fr_FR\":{\"t\":\"Salut\"}}]");
    EXPECT_EQ(notification_fingerprint(a.request),
              notification_fingerprint(b.request));
    EXPECT_NE(notification_fingerprint(a.request),
              notification_fingerprint(c.request));
    EXPECT_NE(notification_fingerprint(a.request),
              notification_fingerprint(plain.request));
}
