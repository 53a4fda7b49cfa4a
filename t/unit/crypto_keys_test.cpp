// VAPID key loading, subject validation and subscription key import
// (src/crypto/keys.hpp).

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "crypto/base64.hpp"
#include "crypto/keys.hpp"

using namespace webpush::crypto;

namespace {

// `openssl ecparam -name prime256v1 -genkey`: an EC PARAMETERS block
// before the key, as that command writes without -noout.
const char sec1_with_params[] =
    "-----BEGIN EC PARAMETERS-----\n"
    "BggqhkjOPQMBBw==\n"
    "-----END EC PARAMETERS-----\n"
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIDDBjJYXsp843Uyl4REOqPO8IFwDPVKjwShG7lW2BbhMoAoGCCqGSM49\n"
    "AwEHoUQDQgAEmUez+PKKE9a8cc1VnzfeVUcMlNt+PH0Gua6+5fCfNA/O9K1+bdP/\n"
    "ise9WT6oBezH7Pe9Qa+hGp5Ionwyo59yxQ==\n"
    "-----END EC PRIVATE KEY-----\n";

// The same key as PKCS#8, as SEC1 with a compressed public key, and as
// SEC1 without the optional public key.
const char pkcs8[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgMMGMlheynzjdTKXh\n"
    "EQ6o87wgXAM9UqPBKEbuVbYFuEyhRANCAASZR7P48ooT1rxxzVWfN95VRwyU2348\n"
    "fQa5rr7l8J80D870rX5t0/+Kx71ZPqgF7Mfs971Br6EankiifDKjn3LF\n"
    "-----END PRIVATE KEY-----\n";

const char sec1_compressed[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MFcCAQEEIDDBjJYXsp843Uyl4REOqPO8IFwDPVKjwShG7lW2BbhMoAoGCCqGSM49\n"
    "AwEHoSQDIgADmUez+PKKE9a8cc1VnzfeVUcMlNt+PH0Gua6+5fCfNA8=\n"
    "-----END EC PRIVATE KEY-----\n";

const char sec1_no_public[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MDECAQEEIDDBjJYXsp843Uyl4REOqPO8IFwDPVKjwShG7lW2BbhMoAoGCCqGSM49\n"
    "AwEH\n"
    "-----END EC PRIVATE KEY-----\n";

// `openssl ec -pubout` of that key, as base64url of the 65-byte point.
const char key_public[] = "BJlHs_jyihPWvHHNVZ833lVHDJTbfjx9BrmuvuXwnzQPzvS"
                          "tfm3T_4rHvVk-qAXsx-z3vUGvoRqeSKJ8MqOfcsU";

std::string
pem_of(EVP_PKEY *pkey, bool traditional)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int ok = traditional
                 ? PEM_write_bio_PrivateKey_traditional(bio, pkey, nullptr,
                                                        nullptr, 0, nullptr,
                                                        nullptr)
                 : PEM_write_bio_PrivateKey(bio, pkey, nullptr, nullptr, 0,
                                            nullptr, nullptr);
    char *data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string out = ok == 1 ? std::string(data, len) : std::string();
    BIO_free(bio);
    return out;
}

std::string
generated_pem(const char *type, const char *arg, bool traditional)
{
    EVP_PKEY *pkey = std::string(type) == "RSA"
                         ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA",
                                             static_cast<size_t>(1024))
                         : EVP_PKEY_Q_keygen(nullptr, nullptr, type, arg);
    std::string pem = pem_of(pkey, traditional);
    EVP_PKEY_free(pkey);
    return pem;
}

std::string
load_reason(const std::string &pem)
{
    std::string reason;
    auto key = VapidKey::load_pem(pem, reason);
    EXPECT_FALSE(key.has_value());
    return reason;
}

}  // namespace

TEST(CryptoVapidKey, LoadsEveryP256Form)
{
    for (const char *pem :
         {sec1_with_params, pkcs8, sec1_compressed, sec1_no_public})
    {
        std::string reason;
        auto key = VapidKey::load_pem(pem, reason);
        ASSERT_TRUE(key.has_value()) << reason << "\n" << pem;
        EXPECT_EQ(key->public_key_b64u(), key_public);
        EXPECT_EQ(key->public_key()[0], 0x04);
        EXPECT_EQ(base64url_encode(key->public_key().data(), 65),
                  key_public);
        EXPECT_NE(key->pkey(), nullptr);
    }
}

TEST(CryptoVapidKey, LoadsGeneratedKeys)
{
    for (bool traditional : {true, false}) {
        std::string reason;
        std::string pem = generated_pem("EC", "P-256", traditional);
        auto key = VapidKey::load_pem(pem, reason);
        ASSERT_TRUE(key.has_value()) << reason;
        EXPECT_EQ(key->public_key_b64u().size(), 87u);
    }
}

TEST(CryptoVapidKey, LoadsFromFile)
{
    std::string path = testing::TempDir() + "crypto_keys_test.pem";
    {
        std::ofstream f(path);
        f << sec1_with_params;
    }

    std::string reason;
    auto key = VapidKey::load_file(path, reason);
    std::remove(path.c_str());
    ASSERT_TRUE(key.has_value()) << reason;
    EXPECT_EQ(key->public_key_b64u(), key_public);

    // Copies share the key.
    VapidKey copy = *key;
    EXPECT_EQ(copy.pkey(), key->pkey());
}

TEST(CryptoVapidKey, RejectsWithReasons)
{
    std::string reason;
    EXPECT_FALSE(VapidKey::load_file("/nonexistent/vapid.pem", reason));
    EXPECT_EQ(reason,
              "cannot read \"/nonexistent/vapid.pem\": "
              "No such file or directory");

    EXPECT_EQ(load_reason(""), "not a PEM private key");
    EXPECT_EQ(load_reason("hello"), "not a PEM private key");
    EXPECT_EQ(load_reason("-----BEGIN EC PARAMETERS-----\n"
                          "BggqhkjOPQMBBw==\n"
                          "-----END EC PARAMETERS-----\n"),
              "not a PEM private key");
    EXPECT_EQ(load_reason("-----BEGIN PUBLIC KEY-----\n"
                          "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmUez+PKKE9a8"
                          "cc1VnzfeVUcMlNt+\nPH0Gua6+5fCfNA/O9K1+bdP/ise9WT"
                          "6oBezH7Pe9Qa+hGp5Ionwyo59yxQ==\n"
                          "-----END PUBLIC KEY-----\n"),
              "not a PEM private key");

    EXPECT_EQ(load_reason(generated_pem("EC", "P-384", true)),
              "not a P-256 key (curve secp384r1)");
    EXPECT_EQ(load_reason(generated_pem("EC", "P-384", false)),
              "not a P-256 key (curve secp384r1)");
    EXPECT_EQ(load_reason(generated_pem("RSA", nullptr, false)),
              "not a P-256 key (RSA key)");
    EXPECT_EQ(load_reason(generated_pem("ED25519", nullptr, false)),
              "not a P-256 key (ED25519 key)");

    EXPECT_EQ(load_reason("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
                          "MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAhZ\n"
                          "-----END ENCRYPTED PRIVATE KEY-----\n"),
              "encrypted private keys are not supported");
}

TEST(CryptoSubject, AcceptsContactUris)
{
    for (const char *ok :
         {"mailto:push@example.com", "MAILTO:push@example.com",
          "mailto:push@example.com?subject=webpush", "https://example.com",
          "https://example.com/contact", "https://example.com:8443/x",
          "https://user@example.com/", "https://[2001:db8::1]/",
          "https://localhost.example.com/", "mailto:a@localhost.example"})
    {
        std::string reason;
        EXPECT_TRUE(validate_subject(ok, reason)) << ok << ": " << reason;
    }
}

TEST(CryptoSubject, RejectsWithReasons)
{
    struct Case {
        const char *subject;
        const char *reason;
    };

    for (const Case &c : std::initializer_list<Case>{
             {"", "is empty"},
             {"push@example.com", "must start with \"mailto:\" or \"https:\""},
             {"http://example.com",
              "must start with \"mailto:\" or \"https:\""},
             {"mailto: push@example.com", "contains a space"},
             {"mailto:<push@example.com>", "contains an angle bracket"},
             {"mailto:push@example.com\n", "contains a control character"},
             {"mailto:p\xc3\xbcsh@example.com",
              "contains a non-ASCII character (percent-encode it)"},
             {"mailto:mailto:push@example.com", "repeats \"mailto:\""},
             {"mailto:", "has an empty mailto: address"},
             {"mailto:push", "mailto: address must look like user@example.com"},
             {"mailto:@example.com",
              "mailto: address must look like user@example.com"},
             {"mailto:push@",
              "mailto: address must look like user@example.com"},
             {"mailto:x@localhost",
              "uses the host \"localhost\", which push services reject"},
             {"mailto:x@LocalHost.",
              "uses the host \"localhost\", which push services reject"},
             {"mailto:x@app.localhost",
              "uses the host \"localhost\", which push services reject"},
             {"https://localhost",
              "uses the host \"localhost\", which push services reject"},
             {"https://localhost:8080/contact",
              "uses the host \"localhost\", which push services reject"},
             {"https://me@localhost/",
              "uses the host \"localhost\", which push services reject"},
             {"https:example.com",
              "https: subject must be a URL such as https://example.com/"},
             {"https://", "has no host"},
             {"https:///path", "has no host"},
             {"https://:443/", "has no host"},
         })
    {
        std::string reason;
        EXPECT_FALSE(validate_subject(c.subject, reason)) << c.subject;
        EXPECT_EQ(reason, c.reason) << c.subject;
    }
}

// RFC 8291 Appendix A user agent keys.
const char ua_public[] = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-"
                         "AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
const char ua_auth[] = "BTBZMqHH6r4Tts7J_aSIgg";

TEST(CryptoSubscription, ImportsBase64UrlAndStandard)
{
    auto point = base64_decode(ua_public);
    auto auth = base64_decode(ua_auth);
    ASSERT_TRUE(point && auth);

    // What PushSubscription.toJSON() gives, and the padded standard form
    // some stored subscriptions have.
    std::string std_point = ua_public;
    for (char &c : std_point) {
        c = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    std_point += "=";

    for (auto [p, a] : {std::pair<std::string, std::string>{ua_public,
                                                           ua_auth},
                        {std_point, "BTBZMqHH6r4Tts7J/aSIgg=="}})
    {
        std::string reason;
        auto keys = SubscriptionKeys::parse(p, a, reason);
        ASSERT_TRUE(keys.has_value()) << reason;
        EXPECT_EQ(Bytes(keys->p256dh.begin(), keys->p256dh.end()), *point);
        EXPECT_EQ(Bytes(keys->auth.begin(), keys->auth.end()), *auth);
        EXPECT_NE(keys->pkey, nullptr);
    }
}

TEST(CryptoSubscription, RejectsWithReasons)
{
    // A 0x04-prefixed point whose y is that of the RFC point plus one.
    auto off = *base64_decode(ua_public);
    off[64] ^= 1;
    // x = p (the field prime), outside the field.
    Bytes big(65, 0xff);
    big[0] = 0x04;
    // The RFC point compressed (33 bytes) and with a wrong prefix.
    Bytes compressed(off.begin(), off.begin() + 33);
    compressed[0] = 0x02;
    Bytes prefix = *base64_decode(ua_public);
    prefix[0] = 0x05;

    struct Case {
        std::string p256dh;
        std::string auth;
        const char *reason;
    };

    for (const Case &c : std::initializer_list<Case>{
             {"not base64!", ua_auth, "p256dh is not valid base64"},
             {"", ua_auth, "p256dh is not a 65-byte uncompressed P-256 point"},
             {std::string(ua_public) + "AAA", ua_auth,
              "p256dh is not a 65-byte uncompressed P-256 point"},
             {base64url_encode(compressed), ua_auth,
              "p256dh is not a 65-byte uncompressed P-256 point"},
             {base64url_encode(prefix), ua_auth,
              "p256dh is not a 65-byte uncompressed P-256 point"},
             {base64url_encode(off), ua_auth,
              "p256dh is not on the P-256 curve"},
             {base64url_encode(big), ua_auth,
              "p256dh is not on the P-256 curve"},
             {ua_public, "BTBZMqHH6r4Tts7J", "auth must be 16 bytes (got 12)"},
             {ua_public, "", "auth must be 16 bytes (got 0)"},
             {ua_public, "BTBZMqHH6r4Tts7J_aSIggAA",
              "auth must be 16 bytes (got 18)"},
             {ua_public, "BTBZ MqHH6r4Tts7J_aSIgg", "auth is not valid base64"},
         })
    {
        std::string reason;
        EXPECT_FALSE(SubscriptionKeys::parse(c.p256dh, c.auth, reason))
            << c.reason;
        EXPECT_EQ(reason, c.reason);

        // the lighter check used when subscribing agrees, reason and all
        std::string check_reason;
        EXPECT_FALSE(SubscriptionKeys::check(c.p256dh, c.auth, check_reason))
            << c.reason;
        EXPECT_EQ(check_reason, c.reason);
    }
}

TEST(CryptoSubscription, CheckAcceptsWhatParseAccepts)
{
    std::string reason;
    EXPECT_TRUE(SubscriptionKeys::check(ua_public, ua_auth, reason)) << reason;
    EXPECT_TRUE(SubscriptionKeys::check(
        "BCVxsr7N/eNgVRqvHtD0zTZsEc6+VV+JvLexhqUzORcxaOzi6+AYWXvTBHm4bjyPjs7V"
        "d8pZGH6SRpkNtoIAiw4=", "BTBZMqHH6r4Tts7J/aSIgg==", reason))
        << reason;
}
