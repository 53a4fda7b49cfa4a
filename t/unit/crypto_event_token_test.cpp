// Engagement tokens (src/crypto/event_token.hpp): the key derived from
// the VAPID key, tokens made and checked, and every tampering refused.
// The expected values come from other tools: the HKDF output from
// `openssl kdf ... HKDF`, the tokens from Python's hmac module.

#include <gtest/gtest.h>

#include "crypto/base64.hpp"
#include "crypto/event_token.hpp"
#include "crypto/keys.hpp"

using namespace webpush::crypto;

namespace {

// the key of crypto_keys_test.cpp; private scalar
// 30c18c9617b29f38dd4ca5e1110ea8f3bc205c033d52a3c12846ee55b605b84c
const char pem[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIDDBjJYXsp843Uyl4REOqPO8IFwDPVKjwShG7lW2BbhMoAoGCCqGSM49\n"
    "AwEHoUQDQgAEmUez+PKKE9a8cc1VnzfeVUcMlNt+PH0Gua6+5fCfNA/O9K1+bdP/\n"
    "ise9WT6oBezH7Pe9Qa+hGp5Ionwyo59yxQ==\n"
    "-----END EC PRIVATE KEY-----\n";

// openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt hexkey:30c1...
//     -kdfopt "info:ngx_http_webpush_module engagement token v1" HKDF
const char derived_hex[] =
    "e8addbb62271f31bb2db83a3055b660ae8ee8a29e07cfc59bed1e60d4cf5c9c6";

std::string hex(const std::array<uint8_t, 32> &b)
{
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (uint8_t c : b) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

EventTokenKey test_key()
{
    std::string reason;
    auto vapid = VapidKey::load_pem(pem, reason);
    EXPECT_TRUE(vapid) << reason;
    auto key = EventTokenKey::derive(*vapid, reason);
    EXPECT_TRUE(key) << reason;
    return *key;
}

EventTokenStatus check(const EventTokenKey &key, std::string_view token,
                       EventIds *ids = nullptr)
{
    EventIds got;
    EventTokenStatus s = key.check(token, got);
    if (ids != nullptr) {
        *ids = got;
    }
    return s;
}

// the token with its raw bytes changed by f
template <typename F>
std::string tamper(const std::string &token, F f)
{
    auto raw = base64_decode(token);
    EXPECT_TRUE(raw);
    f(*raw);
    return base64url_encode(*raw);
}

}  // namespace

TEST(EventToken, KeyIsHkdfOfTheVapidPrivateKey)
{
    EXPECT_EQ(hex(test_key().bytes()), derived_hex);
}

TEST(EventToken, KnownTokens)
{
    EventTokenKey key = test_key();

    // Python: base64url(b'\x01' + pack('>qq', n, s)
    //                   + hmac(k, that, sha256)[:16])
    EXPECT_EQ(key.make(1, 2), "AQAAAAAAAAABAAAAAAAAAAKK4wDJbe5H14OwXqnuwFz3");
    EXPECT_EQ(key.make(42, 7), "AQAAAAAAAAAqAAAAAAAAAAeyAfP7F2hoYRpvvxloSUU7");
    EXPECT_EQ(key.make(2147483647, 1),
              "AQAAAAB_____AAAAAAAAAAHXhhtfqP3XgzrJNrQ8U83v");
}

TEST(EventToken, RoundTrip)
{
    EventTokenKey key = test_key();

    for (auto [n, s] : {std::pair<int64_t, int64_t>{1, 1}, {1, 2}, {2, 1},
                        {123456, 7890123}, {INT64_MAX, INT64_MAX}}) {
        std::string token = key.make(n, s);
        ASSERT_EQ(token.size(), kEventTokenLength);

        EventIds ids;
        ASSERT_EQ(check(key, token, &ids), EventTokenStatus::Valid) << token;
        EXPECT_EQ(ids.notification, n);
        EXPECT_EQ(ids.subscription, s);
    }

    EXPECT_NE(key.make(1, 2), key.make(2, 1));
}

TEST(EventToken, EveryFlippedBitIsRefused)
{
    EventTokenKey key = test_key();
    std::string token = key.make(17, 4);

    for (size_t byte = 0; byte < 33; byte++) {
        for (int bit = 0; bit < 8; bit++) {
            std::string t = tamper(token, [&](Bytes &b) {
                b[byte] ^= static_cast<uint8_t>(1 << bit);
            });
            EXPECT_NE(check(key, t), EventTokenStatus::Valid)
                << "byte " << byte << " bit " << bit;
        }
    }
}

TEST(EventToken, OtherIdsWithTheSameMacAreRefused)
{
    EventTokenKey key = test_key();
    std::string token = key.make(17, 4);

    auto set_ids = [&](int64_t n, int64_t s) {
        return tamper(token, [&](Bytes &b) {
            for (int i = 0; i < 8; i++) {
                b[1 + i] = static_cast<uint8_t>(n >> (56 - 8 * i));
                b[9 + i] = static_cast<uint8_t>(s >> (56 - 8 * i));
            }
        });
    };

    EXPECT_EQ(check(key, set_ids(17, 4)), EventTokenStatus::Valid);
    EXPECT_EQ(check(key, set_ids(18, 4)), EventTokenStatus::BadSignature);
    EXPECT_EQ(check(key, set_ids(17, 5)), EventTokenStatus::BadSignature);
    EXPECT_EQ(check(key, set_ids(4, 17)), EventTokenStatus::BadSignature);

    // another delivery's genuine MAC under these ids
    std::string other = key.make(18, 4);
    std::string spliced = token.substr(0, 23) + other.substr(23);
    EXPECT_NE(check(key, spliced), EventTokenStatus::Valid);
}

TEST(EventToken, AnotherKeyIsRefused)
{
    std::array<uint8_t, 32> bytes = test_key().bytes();
    bytes[0] ^= 1;
    EventTokenKey other = EventTokenKey::from_bytes(bytes);

    EXPECT_EQ(check(test_key(), other.make(1, 2)),
              EventTokenStatus::BadSignature);
}

TEST(EventToken, MalformedTokens)
{
    EventTokenKey key = test_key();
    std::string token = key.make(1, 2);

    EXPECT_EQ(check(key, ""), EventTokenStatus::Malformed);
    EXPECT_EQ(check(key, token.substr(0, 43)), EventTokenStatus::Malformed);
    EXPECT_EQ(check(key, token.substr(0, 40)), EventTokenStatus::Malformed);
    EXPECT_EQ(check(key, token + "A"), EventTokenStatus::Malformed);
    EXPECT_EQ(check(key, token + "="), EventTokenStatus::Malformed);
    EXPECT_EQ(check(key, token + token), EventTokenStatus::Malformed);

    // the standard alphabet, padding, spaces, a NUL: not base64url
    for (char c : {'+', '/', '=', ' ', '.', '\0', '\n'}) {
        std::string t = token;
        t[10] = c;
        EXPECT_EQ(check(key, t), EventTokenStatus::Malformed)
            << static_cast<int>(c);
    }

    // another version byte
    std::string v2 = tamper(token, [](Bytes &b) { b[0] = 2; });
    EXPECT_EQ(check(key, v2), EventTokenStatus::Malformed);

    // 33 other bytes: well-formed, not signed
    EXPECT_EQ(check(key, "AQAAAAAAAAABAAAAAAAAAAIAAAAAAAAAAAAAAAAAAAAA"),
              EventTokenStatus::BadSignature);
}
