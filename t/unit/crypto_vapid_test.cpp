// VAPID JWT signing, verification and the per-origin cache
// (src/crypto/vapid.hpp).

#include <gtest/gtest.h>
#include <jansson.h>

#include "crypto/base64.hpp"
#include "crypto/vapid.hpp"

using namespace webpush::crypto;

namespace {

const char key_pem[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIDDBjJYXsp843Uyl4REOqPO8IFwDPVKjwShG7lW2BbhMoAoGCCqGSM49\n"
    "AwEHoUQDQgAEmUez+PKKE9a8cc1VnzfeVUcMlNt+PH0Gua6+5fCfNA/O9K1+bdP/\n"
    "ise9WT6oBezH7Pe9Qa+hGp5Ionwyo59yxQ==\n"
    "-----END EC PRIVATE KEY-----\n";

const char other_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgryZulMR33iz/KI0d\n"
    "9ck1FAU7gJD8CurZoiZD3lOQ5qahRANCAARRRzFfyjQs8S8WSuTtH1bpj18oChfc\n"
    "2iDffpE3B17fiXkZ+OS1rsMkdSw/a53a2SFgCXdXMn1nBdN1PmTKfjeN\n"
    "-----END PRIVATE KEY-----\n";

// RFC 8292 §2.4.
const char rfc_jwt[] =
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJhdWQiOiJodHRwczovL3B1c2guZXhh"
    "bXBsZS5uZXQiLCJleHAiOjE0NTM1MjM3NjgsInN1YiI6Im1haWx0bzpwdXNoQGV4YW1wbG"
    "UuY29tIn0.i3CYb7t4xfxCDquptFOepC9GAu_HLGkMlMuCGSK2rpiUfnK9ojFwDXb1JrEr"
    "tmysazNjjvW2L9OkSSHzvoD1oA";
const char rfc_k[] = "BA1Hxzyi1RUM1b5wjxsn7nGxAszw2u61m164i3MrAIxHF6YK5h4SDY"
                     "ic-dRuU_RCPCfA5aq9ojSwk5Y2EmClBPs";

VapidKey
load(const char *pem)
{
    std::string reason;
    auto key = VapidKey::load_pem(pem, reason);
    EXPECT_TRUE(key.has_value()) << reason;
    return *key;
}

P256Point
point(std::string_view b64)
{
    auto b = base64_decode(b64);
    P256Point p{};
    EXPECT_TRUE(b && b->size() == 65);
    std::copy(b->begin(), b->end(), p.begin());
    return p;
}

std::vector<std::string>
split(const std::string &jwt)
{
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        size_t dot = jwt.find('.', start);
        parts.push_back(jwt.substr(start, dot - start));
        if (dot == std::string::npos) {
            return parts;
        }
        start = dot + 1;
    }
}

std::string
decode(const std::string &part)
{
    // JWS parts are unpadded base64url: no standard-alphabet characters.
    EXPECT_EQ(part.find_first_of("+/="), std::string::npos) << part;
    auto b = base64_decode(part);
    EXPECT_TRUE(b.has_value());
    return b ? std::string(b->begin(), b->end()) : std::string();
}

struct Claims {
    std::string aud;
    json_int_t exp = 0;
    std::string sub;
    size_t count = 0;
};

Claims
parse_claims(const std::string &jwt)
{
    Claims c;
    auto parts = split(jwt);
    EXPECT_EQ(parts.size(), 3u);
    if (parts.size() != 3) {
        return c;
    }

    std::string header = decode(parts[0]);
    EXPECT_EQ(header, "{\"typ\":\"JWT\",\"alg\":\"ES256\"}");

    std::string payload = decode(parts[1]);
    json_error_t err;
    json_t *json = json_loadb(payload.data(), payload.size(), 0, &err);
    EXPECT_NE(json, nullptr) << err.text;
    if (json == nullptr) {
        return c;
    }

    const char *aud = nullptr;
    const char *sub = nullptr;
    EXPECT_EQ(json_unpack_ex(json, &err, JSON_STRICT, "{s:s, s:I, s:s}",
                             "aud", &aud, "exp", &c.exp, "sub", &sub),
              0)
        << err.text << ": " << payload;
    c.aud = aud ? aud : "";
    c.sub = sub ? sub : "";
    c.count = json_object_size(json);
    json_decref(json);

    EXPECT_EQ(decode(parts[2]).size(), 64u);
    return c;
}

}  // namespace

TEST(CryptoVapid, VerifiesRfc8292Example)
{
    std::string reason;
    EXPECT_TRUE(vapid_verify(rfc_jwt, point(rfc_k), reason)) << reason;

    Claims c = parse_claims(rfc_jwt);
    EXPECT_EQ(c.aud, "https://push.example.net");
    EXPECT_EQ(c.exp, 1453523768);
    EXPECT_EQ(c.sub, "mailto:push@example.com");

    // Any change to the signed part or the signature breaks it.
    std::string bad = rfc_jwt;
    bad[40] = bad[40] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(vapid_verify(bad, point(rfc_k), reason));
    EXPECT_EQ(reason, "bad signature");

    bad = rfc_jwt;
    bad[bad.size() - 5] = bad[bad.size() - 5] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(vapid_verify(bad, point(rfc_k), reason));

    EXPECT_FALSE(vapid_verify(rfc_jwt, load(key_pem).public_key(), reason));
    EXPECT_EQ(reason, "bad signature");

    EXPECT_FALSE(vapid_verify("abc", point(rfc_k), reason));
    EXPECT_EQ(reason, "not a compact JWS (header.claims.signature)");
    EXPECT_FALSE(vapid_verify("a.b.c", point(rfc_k), reason));
    EXPECT_EQ(reason, "signature is not 64 bytes of base64url");
}

TEST(CryptoVapid, SignsParsableVerifiableJwt)
{
    VapidKey key = load(key_pem);
    std::string reason;

    auto jwt = vapid_sign(key, "https://push.example.net",
                          "mailto:push@example.com", 1453523768, reason);
    ASSERT_TRUE(jwt.has_value()) << reason;

    // Byte-for-byte the RFC's header and claims; only the (randomised)
    // signature differs.
    std::string rfc = rfc_jwt;
    EXPECT_EQ(jwt->substr(0, jwt->rfind('.')), rfc.substr(0, rfc.rfind('.')));

    Claims c = parse_claims(*jwt);
    EXPECT_EQ(c.count, 3u);
    EXPECT_EQ(c.aud, "https://push.example.net");
    EXPECT_EQ(c.exp, 1453523768);
    EXPECT_EQ(c.sub, "mailto:push@example.com");

    EXPECT_TRUE(vapid_verify(*jwt, key.public_key(), reason)) << reason;
    EXPECT_FALSE(vapid_verify(*jwt, load(other_pem).public_key(), reason));

    // ECDSA is randomised: two signatures differ, both verify.
    auto again = vapid_sign(key, "https://push.example.net",
                            "mailto:push@example.com", 1453523768, reason);
    ASSERT_TRUE(again.has_value());
    EXPECT_NE(*again, *jwt);
    EXPECT_TRUE(vapid_verify(*again, key.public_key(), reason));

    // Signatures whose r or s has leading zero bytes still encode to 64
    // bytes; enough runs make that case (1 in 128 per signature) likely.
    for (int i = 0; i < 300; i++) {
        auto t = vapid_sign(key, "https://a.example", "https://example.com",
                            i, reason);
        ASSERT_TRUE(t.has_value());
        ASSERT_EQ(decode(split(*t)[2]).size(), 64u);
        ASSERT_TRUE(vapid_verify(*t, key.public_key(), reason)) << *t;
    }
}

TEST(CryptoVapid, ClaimsAreJsonEscaped)
{
    VapidKey key = load(key_pem);
    std::string reason;

    auto jwt = vapid_sign(key, "https://x\"y", "mailto:a\\b@example.com", 1,
                          reason);
    ASSERT_TRUE(jwt.has_value()) << reason;
    Claims c = parse_claims(*jwt);
    EXPECT_EQ(c.aud, "https://x\"y");
    EXPECT_EQ(c.sub, "mailto:a\\b@example.com");

    EXPECT_FALSE(vapid_sign(key, "https://\xff", "mailto:a@example.com", 1,
                            reason));
    EXPECT_EQ(reason, "VAPID claims are not valid UTF-8");
}

TEST(CryptoVapid, CacheReusesThenResigns)
{
    VapidKey key = load(key_pem);
    VapidCache cache(key, "mailto:push@example.com");
    const int64_t t0 = 1700000000;
    const std::string origin = "https://fcm.googleapis.com";
    std::string reason;

    const VapidToken *t = cache.get(origin, t0, reason);
    ASSERT_NE(t, nullptr) << reason;
    std::string first = t->jwt;
    EXPECT_EQ(t->exp, t0 + 12 * 3600);

    Claims c = parse_claims(first);
    EXPECT_EQ(c.aud, origin);
    EXPECT_EQ(c.exp, t0 + 12 * 3600);
    EXPECT_EQ(c.sub, "mailto:push@example.com");
    EXPECT_TRUE(vapid_verify(first, key.public_key(), reason));

    EXPECT_EQ(t->authorization,
              "vapid t=" + first + ", k=" + key.public_key_b64u());
    EXPECT_EQ(t->webpush_authorization, "WebPush " + first);
    EXPECT_EQ(t->crypto_key, "p256ecdsa=" + key.public_key_b64u());

    // Reused while at least half of the 12 h is left.
    for (int64_t now : {t0, t0 + 1, t0 + 3600, t0 + 6 * 3600}) {
        t = cache.get(origin, now, reason);
        ASSERT_NE(t, nullptr);
        EXPECT_EQ(t->jwt, first) << now - t0;
    }

    // Then signed anew, for another 12 h from now.
    t = cache.get(origin, t0 + 6 * 3600 + 1, reason);
    ASSERT_NE(t, nullptr);
    EXPECT_NE(t->jwt, first);
    EXPECT_EQ(t->exp, t0 + 18 * 3600 + 1);
    EXPECT_EQ(parse_claims(t->jwt).exp, t0 + 18 * 3600 + 1);
    std::string second = t->jwt;

    // Each origin gets its own token (aud differs).
    t = cache.get("https://updates.push.services.mozilla.com",
                  t0 + 6 * 3600 + 2, reason);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(parse_claims(t->jwt).aud,
              "https://updates.push.services.mozilla.com");
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_EQ(cache.get(origin, t0 + 6 * 3600 + 3, reason)->jwt, second);

    // A clock that went back must not leave exp more than 12 h ahead.
    t = cache.get(origin, t0, reason);
    ASSERT_NE(t, nullptr);
    EXPECT_NE(t->jwt, second);
    EXPECT_EQ(t->exp, t0 + 12 * 3600);
}

TEST(CryptoVapid, CacheLifetimeAndBound)
{
    VapidKey key = load(key_pem);
    std::string reason;

    // Lifetimes over 24 h or not positive fall back to 12 h.
    for (int64_t lifetime : {int64_t(0), int64_t(-5), int64_t(25 * 3600)}) {
        VapidCache cache(key, "mailto:push@example.com", lifetime);
        EXPECT_EQ(cache.get("https://a.example", 100, reason)->exp,
                  100 + 12 * 3600);
    }

    VapidCache cache(key, "mailto:push@example.com", 600);
    EXPECT_EQ(cache.get("https://a.example", 100, reason)->exp, 700);

    for (size_t i = 0; i < VapidCache::max_origins + 5; i++) {
        ASSERT_NE(cache.get("https://h" + std::to_string(i) + ".example",
                            100, reason),
                  nullptr);
        ASSERT_LE(cache.size(), VapidCache::max_origins);
    }
}

// Distinct origins beyond the bound (random subdomains under a wildcard
// pattern) evict the least recently used tokens, not the one in use.
TEST(CryptoVapid, CacheKeepsAHotOriginThroughAFlood)
{
    VapidKey key = load(key_pem);
    VapidCache cache(key, "mailto:push@example.com");
    const std::string hot = "https://fcm.googleapis.com";
    std::string reason;

    const VapidToken *t = cache.get(hot, 100, reason);
    ASSERT_NE(t, nullptr) << reason;
    const std::string jwt = t->jwt;

    for (size_t i = 0; i < 3 * VapidCache::max_origins; i++) {
        ASSERT_NE(cache.get("https://x" + std::to_string(i)
                                + ".push.apple.com",
                            100, reason),
                  nullptr);
        ASSERT_LE(cache.size(), VapidCache::max_origins);
        if (i % 500 == 0) {
            EXPECT_EQ(cache.get(hot, 100, reason)->jwt, jwt) << i;
        }
    }
    EXPECT_EQ(cache.get(hot, 100, reason)->jwt, jwt);
    EXPECT_EQ(cache.size(), VapidCache::max_origins);
}
