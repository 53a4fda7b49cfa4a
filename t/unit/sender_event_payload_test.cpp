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

// --- EventStamper: the sender's per-worker stamping -----------------------

namespace {

webpush::crypto::EventTokenKey stamper_key()
{
    std::array<uint8_t, 32> k{};
    k[0] = 7;
    return webpush::crypto::EventTokenKey::from_bytes(k);
}

}  // namespace

TEST(EventStamper, SameAsStampPayloadAndEachPayloadParsedOnce)
{
    auto key = stamper_key();
    webpush::sender::EventStamper stamper(key);
    std::string de = "{\"title\":\"Hallo\"}";
    std::string en = "{\"title\":\"Hello\",\"n\":[1]}";

    for (int64_t sub = 1; sub <= 50; sub++) {
        const std::string &p = sub % 2 ? de : en;   // localized payloads
        EXPECT_EQ(stamper.stamp(p, 9, sub),
                  webpush::sender::stamp_payload(key, p, 9, sub));
    }
    EXPECT_EQ(stamper.parsed(), 2u);

    // each delivery its own token
    EXPECT_NE(stamper.stamp(de, 9, 1), stamper.stamp(de, 9, 3));
    EXPECT_NE(stamper.stamp(de, 9, 1), stamper.stamp(de, 10, 1));
    EXPECT_EQ(stamper.parsed(), 3u);                // 10 is new
}

TEST(EventStamper, EveryShape)
{
    auto key = stamper_key();
    webpush::sender::EventStamper stamper(key);
    std::string t = key.make(3, 4);

    EXPECT_EQ(stamper.stamp("{}", 3, 4), "{\"webpushEvent\":\"" + t + "\"}");
    EXPECT_EQ(stamper.stamp("{\"a\":1}", 3, 4),
              "{\"a\":1,\"webpushEvent\":\"" + t + "\"}");
    EXPECT_EQ(stamper.stamp("{\"webpushEvent\":1,\"a\":1}", 3, 4),
              "{\"webpushEvent\":\"" + t + "\",\"a\":1}");
    EXPECT_FALSE(stamper.stamp("\"text\"", 3, 4));
    EXPECT_FALSE(stamper.stamp("text", 3, 4));

    // known now: the same answers without parsing
    uint64_t parsed = stamper.parsed();
    EXPECT_EQ(stamper.stamp("{\"webpushEvent\":1,\"a\":1}", 3, 4),
              "{\"webpushEvent\":\"" + t + "\",\"a\":1}");
    EXPECT_FALSE(stamper.stamp("text", 3, 4));
    EXPECT_EQ(stamper.parsed(), parsed);
}

TEST(EventStamper, ForgetsTheLeastRecentNotification)
{
    auto key = stamper_key();
    webpush::sender::EventStamper stamper(key, 2);

    stamper.stamp("{}", 1, 1);
    stamper.stamp("{}", 2, 1);
    stamper.stamp("{}", 1, 2);                      // 1 used: 2 is oldest
    stamper.stamp("{}", 3, 1);                      // evicts 2
    EXPECT_EQ(stamper.parsed(), 3u);
    stamper.stamp("{}", 1, 3);
    EXPECT_EQ(stamper.parsed(), 3u);
    stamper.stamp("{}", 2, 2);
    EXPECT_EQ(stamper.parsed(), 4u);

    // more payloads for one notification than it keeps: still right
    for (int i = 0; i < 10; i++) {
        std::string p = "{\"i\":" + std::to_string(i) + "}";
        EXPECT_EQ(stamper.stamp(p, 5, 1),
                  webpush::sender::stamp_payload(key, p, 5, 1));
    }
}
