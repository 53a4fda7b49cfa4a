// The token inside a delivered payload (src/sender/event_payload.hpp).

#include <gtest/gtest.h>

#include <jansson.h>

#include "api/requests.hpp"
#include "crypto/ece.hpp"
#include "crypto/event_token.hpp"
#include "sender/event_payload.hpp"
#include "util/json.hpp"

using webpush::sender::add_event_member;

namespace {

const std::string token = "AQAAAAAAAAABAAAAAAAAAAKK4wDJbe5H14OwXqnuwFz3";
constexpr size_t max = webpush::crypto::aes128gcm_max_plaintext;

std::optional<std::string> add(std::string_view payload)
{
    return add_event_member(payload, token, max);
}

}  // namespace

TEST(EventPayload, EmptyObject)
{
    EXPECT_EQ(add("{}"), "{\"webpushEvent\":\"" + token + "\"}");
}

TEST(EventPayload, CompactObjectGetsTheMemberLast)
{
    EXPECT_EQ(add("{\"title\":\"Hi\",\"n\":[1,{\"a\":{}}]}"),
              "{\"title\":\"Hi\",\"n\":[1,{\"a\":{}}],\"webpushEvent\":\""
                  + token + "\"}");
}

TEST(EventPayload, AnySpellingIsKept)
{
    EXPECT_EQ(add(" { \"a\" : 1.50 ,\n \"b\":\"}\" }\n"),
              " { \"a\" : 1.50 ,\n \"b\":\"}\" ,\"webpushEvent\":\"" + token
                  + "\"}\n");
    EXPECT_EQ(add("{ }"), "{ \"webpushEvent\":\"" + token + "\"}");
    EXPECT_EQ(add("{\"t\":\"Gr\\u00fc\\u00dfe \xe2\x82\xac\"}"),
              "{\"t\":\"Gr\\u00fc\\u00dfe \xe2\x82\xac\",\"webpushEvent\":\""
                  + token + "\"}");
}

TEST(EventPayload, TheResultParsesToTheObjectPlusTheToken)
{
    std::string payload =
        "{\"web_push\":8030,\"notification\":{\"title\":\"T\","
        "\"navigate\":\"https://x.example/\"},\"app_badge\":2}";
    auto out = add(payload);
    ASSERT_TRUE(out);

    json_error_t e;
    webpush::util::JsonPtr got(json_loadb(out->data(), out->size(),
                                          JSON_REJECT_DUPLICATES, &e));
    ASSERT_TRUE(got) << e.text;
    json_t *t = json_object_get(got.get(), "webpushEvent");
    ASSERT_TRUE(json_is_string(t));
    EXPECT_EQ(json_string_value(t), token);

    json_object_del(got.get(), "webpushEvent");
    webpush::util::JsonPtr want(json_loads(payload.c_str(), 0, &e));
    EXPECT_TRUE(json_equal(got.get(), want.get()));
}

TEST(EventPayload, AnExistingMemberIsReplacedNotRepeated)
{
    EXPECT_EQ(add("{\"a\":1,\"webpushEvent\":\"forged\",\"b\":2}"),
              "{\"a\":1,\"webpushEvent\":\"" + token + "\",\"b\":2}");
    EXPECT_EQ(add("{\"webpushEvent\":{\"x\":1}}"),
              "{\"webpushEvent\":\"" + token + "\"}");
}

TEST(EventPayload, NotAnObjectIsSentUnchanged)
{
    for (const char *p : {"", " ", "\"text\"", "[1,2]", "[]", "42", "null",
                          "true", "plain text", "{", "{\"a\":1", "{}}",
                          "{\"a\":1} {\"b\":2}", "[{}]"}) {
        EXPECT_FALSE(add(p)) << p;
    }
}

TEST(EventPayload, AnUnusableTokenLeavesThePayloadAlone)
{
    EXPECT_FALSE(add_event_member("{}", "", max));
    EXPECT_FALSE(add_event_member("{}", "a\"b", max));
    EXPECT_FALSE(add_event_member("{}", "a\\b", max));
    EXPECT_FALSE(add_event_member("{}", "a+b/c=", max));
}

TEST(EventPayload, TooLargeIsSentUnchanged)
{
    std::string member_size = ",\"webpushEvent\":\"" + token + "\"";
    EXPECT_EQ(member_size.size(),
              webpush::sender::kEventMemberOverhead + token.size());

    std::string payload = "{\"a\":\"" + std::string(100, 'x') + "\"}";
    size_t exact = payload.size() + member_size.size();

    EXPECT_TRUE(add_event_member(payload, token, exact));
    EXPECT_FALSE(add_event_member(payload, token, exact - 1));
}

// The largest payload the API accepts, with a token, fits one aes128gcm
// record (and so aesgcm's larger limit too).
TEST(EventPayload, TheLargestPostedPayloadStillFits)
{
    constexpr size_t limit = webpush::api::kMaxNotificationPayload;
    std::string payload = "{\"a\":\"" + std::string(limit - 8, 'x') + "\"}";
    ASSERT_EQ(payload.size(), limit);

    auto out = add(payload);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->size(), limit + webpush::sender::kEventMemberOverhead
                               + webpush::crypto::kEventTokenLength);
    EXPECT_EQ(out->size(), 3114u);
    EXPECT_LE(out->size(), webpush::crypto::aes128gcm_max_plaintext);
    EXPECT_LE(out->size(), webpush::crypto::aesgcm_max_plaintext);
    static_assert(webpush::api::kMaxNotificationPayload
                      + webpush::sender::kEventMemberOverhead
                      + webpush::crypto::kEventTokenLength
                  <= webpush::crypto::aes128gcm_max_plaintext);
}
