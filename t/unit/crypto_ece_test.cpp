// Message encryption (src/crypto/ece.hpp): the published test vectors,
// limits, and a round trip through an independent decrypter written here
// with other OpenSSL APIs (EVP_KDF HKDF, EVP_PKEY_derive with full peer
// validation, EVP_DecryptUpdate).

#include <cstring>

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>

#include "crypto/base64.hpp"
#include "crypto/ece.hpp"

using namespace webpush::crypto;

namespace {

Bytes
b64(std::string_view s)
{
    auto b = base64_decode(s);
    EXPECT_TRUE(b.has_value()) << s;
    return b.value_or(Bytes());
}

template <size_t N>
std::string
b64u(const std::array<uint8_t, N> &a)
{
    return base64url_encode(a.data(), N);
}

template <size_t N>
std::array<uint8_t, N>
arr(std::string_view s)
{
    Bytes b = b64(s);
    std::array<uint8_t, N> a{};
    EXPECT_EQ(b.size(), N) << s;
    std::memcpy(a.data(), b.data(), std::min(N, b.size()));
    return a;
}

std::string
str(const Bytes &b)
{
    return std::string(b.begin(), b.end());
}

Encryptor
make_encryptor()
{
    std::string reason;
    auto e = Encryptor::create(reason);
    EXPECT_TRUE(e.has_value()) << reason;
    return std::move(*e);
}

SubscriptionKeys
ua_keys(std::string_view p256dh, std::string_view auth)
{
    std::string reason;
    auto k = SubscriptionKeys::parse(p256dh, auth, reason);
    EXPECT_TRUE(k.has_value()) << reason;
    return std::move(*k);
}

// ---- test-only decrypter ------------------------------------------------

struct PkeyFree {
    void operator()(EVP_PKEY *p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey
ec_key(const Bytes *priv, const Bytes &pub)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *d = priv ? BN_bin2bn(priv->data(), priv->size(), nullptr)
                     : nullptr;
    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                    "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
                                     pub.data(), pub.size());
    if (d) {
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d);
    }
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
    EVP_PKEY *pkey = nullptr;
    EVP_PKEY_fromdata_init(ctx);
    EVP_PKEY_fromdata(ctx, &pkey, d ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
                      params);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(d);
    return Pkey(pkey);
}

Bytes
ecdh_full(EVP_PKEY *priv, const Bytes &peer_pub)
{
    Pkey peer = ec_key(nullptr, peer_pub);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, priv, nullptr);
    Bytes out(32);
    size_t len = out.size();
    bool ok = peer && EVP_PKEY_derive_init(ctx) == 1
              && EVP_PKEY_derive_set_peer(ctx, peer.get()) == 1
              && EVP_PKEY_derive(ctx, out.data(), &len) == 1;
    EVP_PKEY_CTX_free(ctx);
    EXPECT_TRUE(ok);
    return out;
}

Bytes
hkdf(const Bytes &salt, const Bytes &ikm, const Bytes &info, size_t len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
    EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(
            OSSL_KDF_PARAM_SALT, const_cast<uint8_t *>(salt.data()),
            salt.size()),
        OSSL_PARAM_construct_octet_string(
            OSSL_KDF_PARAM_KEY, const_cast<uint8_t *>(ikm.data()),
            ikm.size()),
        OSSL_PARAM_construct_octet_string(
            OSSL_KDF_PARAM_INFO, const_cast<uint8_t *>(info.data()),
            info.size()),
        OSSL_PARAM_construct_end(),
    };
    Bytes out(len);
    EXPECT_EQ(EVP_KDF_derive(ctx, out.data(), len, params), 1);
    EVP_KDF_CTX_free(ctx);
    EVP_KDF_free(kdf);
    return out;
}

Bytes
cat(std::initializer_list<Bytes> parts)
{
    Bytes out;
    for (const Bytes &p : parts) {
        out.insert(out.end(), p.begin(), p.end());
    }
    return out;
}

Bytes
text(std::string_view s)
{
    return Bytes(s.begin(), s.end());
}

// AES-128-GCM open of ciphertext || tag; nullopt if the tag is wrong.
std::optional<Bytes>
gcm_open(const Bytes &key, const Bytes &iv, const uint8_t *in, size_t len)
{
    if (len < 16) {
        return std::nullopt;
    }
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    Bytes out(len - 16 + 16);
    int n = 0;
    int fin = 0;
    bool ok = EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, key.data(),
                                 iv.data())
                  == 1
              && EVP_DecryptUpdate(ctx, out.data(), &n, in,
                                   static_cast<int>(len - 16))
                     == 1
              && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16,
                                     const_cast<uint8_t *>(in + len - 16))
                     == 1
              && EVP_DecryptFinal_ex(ctx, out.data() + n, &fin) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok) {
        return std::nullopt;
    }
    out.resize(n + fin);
    return out;
}

// RFC 8291 receiver: body -> plaintext (padding removed).
std::optional<Bytes>
decrypt_aes128gcm(EVP_PKEY *ua_priv, const Bytes &ua_pub, const Bytes &auth,
                  const Bytes &body)
{
    if (body.size() < 86 + 17 || body[20] != 65) {
        return std::nullopt;
    }
    Bytes salt(body.begin(), body.begin() + 16);
    uint32_t rs = (uint32_t(body[16]) << 24) | (body[17] << 16)
                  | (body[18] << 8) | body[19];
    EXPECT_EQ(rs, 4096u);
    EXPECT_LE(body.size() - 86, rs);
    Bytes as_pub(body.begin() + 21, body.begin() + 86);

    Bytes secret = ecdh_full(ua_priv, as_pub);
    Bytes ikm = hkdf(auth, secret,
                     cat({text(std::string_view("WebPush: info\0", 14)),
                          ua_pub, as_pub}),
                     32);
    Bytes cek = hkdf(salt, ikm,
                     text(std::string_view("Content-Encoding: aes128gcm\0",
                                           28)),
                     16);
    Bytes nonce = hkdf(
        salt, ikm, text(std::string_view("Content-Encoding: nonce\0", 24)),
        12);

    auto plain = gcm_open(cek, nonce, body.data() + 86, body.size() - 86);
    if (!plain) {
        return std::nullopt;
    }
    while (!plain->empty() && plain->back() == 0) {
        plain->pop_back();
    }
    if (plain->empty() || plain->back() != 0x02) {
        return std::nullopt;
    }
    plain->pop_back();
    return plain;
}

// draft-ietf-webpush-encryption-04 receiver.
std::optional<Bytes>
decrypt_aesgcm(EVP_PKEY *ua_priv, const Bytes &ua_pub, const Bytes &auth,
               const EncryptedMessage &m)
{
    Bytes salt = b64(m.salt);
    Bytes as_pub = b64(m.dh);
    Bytes secret = ecdh_full(ua_priv, as_pub);
    Bytes ikm = hkdf(
        auth, secret, text(std::string_view("Content-Encoding: auth\0", 23)),
        32);
    Bytes context = cat({text(std::string_view("P-256\0", 6)), {0, 65},
                         ua_pub, {0, 65}, as_pub});
    Bytes cek = hkdf(
        salt, ikm,
        cat({text(std::string_view("Content-Encoding: aesgcm\0", 25)),
             context}),
        16);
    Bytes nonce = hkdf(
        salt, ikm,
        cat({text(std::string_view("Content-Encoding: nonce\0", 24)),
             context}),
        12);

    auto plain = gcm_open(cek, nonce, m.body.data(), m.body.size());
    if (!plain || plain->size() < 2) {
        return std::nullopt;
    }
    size_t pad = ((*plain)[0] << 8) | (*plain)[1];
    if (plain->size() < 2 + pad) {
        return std::nullopt;
    }
    for (size_t i = 2; i < 2 + pad; i++) {
        if ((*plain)[i] != 0) {
            return std::nullopt;
        }
    }
    return Bytes(plain->begin() + 2 + pad, plain->end());
}

// ---- RFC 8291 Appendix A ------------------------------------------------

const char rfc_plaintext[] = "When I grow up, I want to be a watermelon";
const char rfc_as_private[] = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
const char rfc_as_public[] = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e"
                             "3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
const char rfc_ua_private[] = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
const char rfc_ua_public[] = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6"
                             "-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
const char rfc_auth[] = "BTBZMqHH6r4Tts7J_aSIgg";
const char rfc_salt[] = "DGv6ra1nlYgDCS1FRnbzlw";

const char rfc_header[] = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJ"
                          "SPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8w"
                          "EqKK6PBru3jl7A8";
const char rfc_body[] = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSP"
                        "QTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK"
                        "6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuw"
                        "XPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

Encryptor
rfc8291_encryptor()
{
    Encryptor e = make_encryptor();
    std::string reason;
    EXPECT_TRUE(e.use_fixed_ephemeral(arr<32>(rfc_as_private),
                                      arr<16>(rfc_salt), reason))
        << reason;
    return e;
}

}  // namespace

TEST(CryptoEce, Rfc8291AppendixAIntermediates)
{
    Encryptor e = rfc8291_encryptor();
    SubscriptionKeys ua = ua_keys(rfc_ua_public, rfc_auth);
    WebPushSecrets s;
    std::string reason;

    ASSERT_TRUE(e.derive(ContentEncoding::aes128gcm, ua, s, reason))
        << reason;

    EXPECT_EQ(b64u(s.as_public), rfc_as_public);
    EXPECT_EQ(b64u(s.salt), rfc_salt);
    EXPECT_EQ(b64u(s.ecdh_secret),
              "kyrL1jIIOHEzg3sM2ZWRHDRB62YACZhhSlknJ672kSs");
    EXPECT_EQ(b64u(s.prk_key),
              "Snr3JMxaHVDXHWJn5wdC52WjpCtd2EIEGBykDcZW32k");
    EXPECT_EQ(b64u(s.ikm), "S4lYMb_L0FxCeq0WhDx813KgSYqU26kOyzWUdsXYyrg");
    EXPECT_EQ(b64u(s.prk), "09_eUZGrsvxChDCGRCdkLiDXrReGOEVeSCdCcPBSJSc");
    EXPECT_EQ(b64u(s.cek), "oIhVW04MRdy2XN9CiKLxTg");
    EXPECT_EQ(b64u(s.nonce), "4h_95klXJ5E_qnoN");

    // key_info, cek_info and nonce_info as the appendix spells them (the
    // derivation above uses exactly these strings).
    Bytes key_info = cat({text(std::string_view("WebPush: info\0", 14)),
                          b64(rfc_ua_public), b64(rfc_as_public)});
    EXPECT_EQ(base64url_encode(key_info),
              "V2ViUHVzaDogaW5mbwAEJXGyvs3942BVGq8e0PTNNmwRzr5VX4m8t7GGpTM5"
              "FzFo7OLr4BhZe9MEebhuPI-OztV3ylkYfpJGmQ22ggCLDgT-M_SrDepxkU21"
              "WCP3O1SUj0EwbZIHMtu5pZpTKGSCIA5Zent7wmC6HCJ5mFgJkuk5cwAvMBKi"
              "iujwa7t45ewP");
    EXPECT_EQ(hkdf(b64(rfc_auth), b64(base64url_encode(s.ecdh_secret.data(),
                                                       32)),
                   key_info, 32),
              b64("S4lYMb_L0FxCeq0WhDx813KgSYqU26kOyzWUdsXYyrg"));
    EXPECT_EQ(base64url_encode(std::string_view(
                  "Content-Encoding: aes128gcm\0", 28)),
              "Q29udGVudC1FbmNvZGluZzogYWVzMTI4Z2NtAA");
    EXPECT_EQ(base64url_encode(std::string_view("Content-Encoding: nonce\0",
                                                24)),
              "Q29udGVudC1FbmNvZGluZzogbm9uY2UA");
}

TEST(CryptoEce, Rfc8291AppendixABody)
{
    Encryptor e = rfc8291_encryptor();
    SubscriptionKeys ua = ua_keys(rfc_ua_public, rfc_auth);
    EncryptedMessage m;
    std::string reason;

    ASSERT_TRUE(e.encrypt(ContentEncoding::aes128gcm, ua, rfc_plaintext, 0,
                          m, reason))
        << reason;

    EXPECT_EQ(m.body.size(), 144u);
    EXPECT_EQ(base64url_encode(m.body), rfc_body);
    EXPECT_EQ(base64url_encode(m.body.data(), 86), rfc_header);
    EXPECT_EQ(base64url_encode(m.body.data() + 86, 58),
              "8pfeW0KbunFT06SuDKoJH9Ql87S1QUrdirN6GcG7sFz1y1sqLgVi1VhjVkHs"
              "UoEsbI_0LpXMuGvnzQ");
    EXPECT_TRUE(m.salt.empty());
    EXPECT_TRUE(m.dh.empty());

    // The appendix's user agent can read it.
    Bytes priv = b64(rfc_ua_private);
    Pkey ua_priv = ec_key(&priv, b64(rfc_ua_public));
    ASSERT_TRUE(ua_priv);
    auto plain = decrypt_aes128gcm(ua_priv.get(), b64(rfc_ua_public),
                                   b64(rfc_auth), m.body);
    ASSERT_TRUE(plain.has_value());
    EXPECT_EQ(str(*plain), rfc_plaintext);
}

TEST(CryptoEce, DerivedVectorsPaddingAndEmpty)
{
    Encryptor e = rfc8291_encryptor();
    SubscriptionKeys ua = ua_keys(rfc_ua_public, rfc_auth);
    EncryptedMessage m;
    std::string reason;

    ASSERT_TRUE(e.encrypt(ContentEncoding::aes128gcm, ua, rfc_plaintext, 16,
                          m, reason))
        << reason;
    EXPECT_EQ(m.body.size(), 160u);
    EXPECT_EQ(base64url_encode(m.body),
              "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy"
              "27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95b"
              "Qpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGOSrn-v4Dt5"
              "b4V4gWXT6ssVKDtc_HpNCdS_WN3S1R_tMA");

    ASSERT_TRUE(e.encrypt(ContentEncoding::aes128gcm, ua, "", 0, m, reason))
        << reason;
    EXPECT_EQ(m.body.size(), 103u);
    EXPECT_EQ(base64url_encode(m.body),
              "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy"
              "27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A-nWA9J"
              "FLVeQ32ERULH8YEUcA");
}

TEST(CryptoEce, Rfc8188Section31)
{
    Encryptor e = make_encryptor();
    Bytes ikm = b64("yqdlZ-tYemfogSmv7Ws5PQ");
    Bytes body;
    std::string reason;

    ASSERT_TRUE(e.seal_record(ikm.data(), ikm.size(),
                              arr<16>("I1BsxtFttlv3u_Oo94xnmw"), 4096, "",
                              "I am the walrus", 0, body, reason))
        << reason;

    EXPECT_EQ(body.size(), 53u);
    EXPECT_EQ(base64url_encode(body),
              "I1BsxtFttlv3u_Oo94xnmwAAEAAA-NAVub2qFgBEuQKRapoZu-IxkIva3MEB"
              "1PD-ly8Thjg");

    // The RFC's PRK, CEK and NONCE, recomputed independently, open it.
    Bytes salt = b64("I1BsxtFttlv3u_Oo94xnmw");
    EXPECT_EQ(hkdf(salt, ikm,
                   text(std::string_view("Content-Encoding: aes128gcm\0",
                                         28)),
                   16),
              b64("_wniytB-ofscZDh4tbSjHw"));
    auto plain = gcm_open(b64("_wniytB-ofscZDh4tbSjHw"),
                          b64("Bcs8gkIRKLI8GeI8"), body.data() + 21,
                          body.size() - 21);
    ASSERT_TRUE(plain.has_value());
    EXPECT_EQ(base64url_encode(*plain), "SSBhbSB0aGUgd2FscnVzAg");
}

TEST(CryptoEce, SealRecordLimits)
{
    Encryptor e = make_encryptor();
    Bytes ikm(16, 1);
    std::array<uint8_t, 16> salt{};
    Bytes body;
    std::string reason;

    EXPECT_FALSE(e.seal_record(ikm.data(), ikm.size(), salt, 17, "", "", 0,
                               body, reason));
    EXPECT_EQ(reason, "plaintext does not fit in one record of 17 bytes");

    // 18 is the smallest record size: it exceeds delimiter and tag.
    EXPECT_TRUE(e.seal_record(ikm.data(), ikm.size(), salt, 18, "", "", 0,
                              body, reason));
    EXPECT_EQ(body.size(), 21u + 17u);
    EXPECT_FALSE(e.seal_record(ikm.data(), ikm.size(), salt, 18, "", "x", 0,
                               body, reason));
    EXPECT_FALSE(e.seal_record(ikm.data(), ikm.size(), salt, 18, "", "", 1,
                               body, reason));
    EXPECT_FALSE(e.seal_record(ikm.data(), ikm.size(), salt, 4096,
                               std::string(256, 'k'), "", 0, body, reason));
    EXPECT_EQ(reason, "keyid longer than 255 bytes");
}

TEST(CryptoEce, AesgcmDraft04Example)
{
    Encryptor e = make_encryptor();
    std::string reason;
    ASSERT_TRUE(e.use_fixed_ephemeral(
        arr<32>("nCScek-QpEjmOOlT-rQ38nZzvdPlqa00Zy0i6m2OJvY"),
        arr<16>("lngarbyKfMoi9Z75xYXmkg"), reason))
        << reason;

    const char ua_public[] = "BCEkBjzL8Z3C-oi2Q7oE5t2Np-p7osjGLg93qUP0wvqRT21E"
                             "EWyf0cQDQcakQMqz4hQKYOQ3il2nNZct4HgAUQU";
    const char auth[] = "R29vIGdvbyBnJyBqb29iIQ";
    SubscriptionKeys ua = ua_keys(ua_public, auth);

    WebPushSecrets s;
    ASSERT_TRUE(e.derive(ContentEncoding::aesgcm, ua, s, reason)) << reason;
    EXPECT_EQ(b64u(s.ecdh_secret),
              "RNjC-NVW4BGJbxWPW7G2mowsLeDa53LYKYm4--NOQ6Y");
    EXPECT_EQ(b64u(s.ikm), "EhpZec37Ptm4IRD5-jtZ0q6r1iK5vYmY1tZwtN8fbZY");
    EXPECT_EQ(b64u(s.cek), "AN2-xhvFWeYh5z0fcDu0Ww");
    EXPECT_EQ(b64u(s.nonce), "JY1Okw5rw1Drkg9J");

    EncryptedMessage m;
    ASSERT_TRUE(e.encrypt(ContentEncoding::aesgcm, ua, "I am the walrus", 0,
                          m, reason))
        << reason;
    EXPECT_EQ(m.body.size(), 33u);
    EXPECT_EQ(base64url_encode(m.body),
              "6nqAQUME8hNqw5J3kl8cpVVJylXKYqZOeseZG8UueKpA");
    EXPECT_EQ(m.salt, "lngarbyKfMoi9Z75xYXmkg");
    EXPECT_EQ(m.dh, "BNoRDbb84JGm8g5Z5CFxurSqsXWJ11ItfXEWYVLE85Y7CYkDjXsIEc4"
                    "aqxYaQ1G8BqkXCJ6DPpDrWtdWj_mugHU");

    // And the padded plaintext the draft shows, through our decrypter.
    auto plain = gcm_open(b64("AN2-xhvFWeYh5z0fcDu0Ww"),
                          b64("JY1Okw5rw1Drkg9J"), m.body.data(),
                          m.body.size());
    ASSERT_TRUE(plain.has_value());
    EXPECT_EQ(base64url_encode(*plain), "AABJIGFtIHRoZSB3YWxydXM");
}

TEST(CryptoEce, FixedEphemeralMustBeAScalar)
{
    Encryptor e = make_encryptor();
    std::string reason;
    std::array<uint8_t, 32> zero{};
    std::array<uint8_t, 32> big;
    big.fill(0xff);

    EXPECT_FALSE(e.use_fixed_ephemeral(zero, {}, reason));
    EXPECT_EQ(reason, "private key is not a valid P-256 scalar");
    EXPECT_FALSE(e.use_fixed_ephemeral(big, {}, reason));
    EXPECT_EQ(reason, "private key is not a valid P-256 scalar");
}

TEST(CryptoEce, PlaintextLimits)
{
    Encryptor e = make_encryptor();
    SubscriptionKeys ua = ua_keys(rfc_ua_public, rfc_auth);
    EncryptedMessage m;
    std::string reason;

    EXPECT_TRUE(e.encrypt(ContentEncoding::aes128gcm, ua,
                          std::string(3993, 'a'), 0, m, reason))
        << reason;
    EXPECT_EQ(m.body.size(), 4096u);
    EXPECT_TRUE(e.encrypt(ContentEncoding::aes128gcm, ua,
                          std::string(3000, 'a'), 993, m, reason));
    EXPECT_EQ(m.body.size(), 4096u);

    EXPECT_FALSE(e.encrypt(ContentEncoding::aes128gcm, ua,
                           std::string(3994, 'a'), 0, m, reason));
    EXPECT_EQ(reason, "payload too large: 3994 bytes > 3993");
    EXPECT_FALSE(e.encrypt(ContentEncoding::aes128gcm, ua,
                           std::string(3000, 'a'), 994, m, reason));
    EXPECT_EQ(reason, "payload too large: 3000 bytes + 994 padding > 3993");
    EXPECT_FALSE(e.encrypt(ContentEncoding::aes128gcm, ua, "x",
                           static_cast<size_t>(-1), m, reason));

    EXPECT_TRUE(e.encrypt(ContentEncoding::aesgcm, ua,
                          std::string(4078, 'a'), 0, m, reason))
        << reason;
    EXPECT_EQ(m.body.size(), 4096u);
    EXPECT_FALSE(e.encrypt(ContentEncoding::aesgcm, ua,
                           std::string(4079, 'a'), 0, m, reason));
    EXPECT_EQ(reason, "payload too large: 4079 bytes > 4078");
}

TEST(CryptoEce, UnimportedKeysAreRefused)
{
    Encryptor e = make_encryptor();
    SubscriptionKeys ua;
    EncryptedMessage m;
    std::string reason;

    EXPECT_FALSE(e.encrypt(ContentEncoding::aes128gcm, ua, "x", 0, m,
                           reason));
    EXPECT_EQ(reason, "subscription keys were not imported");
}

TEST(CryptoEce, RandomRoundTrip)
{
    Encryptor e = make_encryptor();

    for (int round = 0; round < 4; round++) {
        // A fresh user agent, as a browser would make it.
        Pkey ua_priv(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
        ASSERT_TRUE(ua_priv);
        Bytes ua_pub(65);
        size_t len = 0;
        ASSERT_EQ(EVP_PKEY_get_octet_string_param(
                      ua_priv.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                      ua_pub.data(), ua_pub.size(), &len),
                  1);
        Bytes auth(16);
        for (size_t i = 0; i < auth.size(); i++) {
            auth[i] = static_cast<uint8_t>(round * 16 + i * 7);
        }
        SubscriptionKeys ua = ua_keys(base64url_encode(ua_pub),
                                      base64url_encode(auth));

        std::string last_body;
        for (auto [size, pad] : {std::pair<size_t, size_t>{0, 0},
                                 {1, 0},
                                 {41, 16},
                                 {200, 100},
                                 {3993, 0},
                                 {1000, 2993}})
        {
            std::string plaintext(size, '\0');
            for (size_t i = 0; i < size; i++) {
                plaintext[i] = static_cast<char>(i * 31 + round);
            }
            EncryptedMessage m;
            std::string reason;

            ASSERT_TRUE(e.encrypt(ContentEncoding::aes128gcm, ua, plaintext,
                                  pad, m, reason))
                << reason;
            EXPECT_EQ(m.body.size(), 86 + size + 1 + pad + 16);
            auto plain = decrypt_aes128gcm(ua_priv.get(), ua_pub, auth,
                                           m.body);
            ASSERT_TRUE(plain.has_value()) << size << "+" << pad;
            EXPECT_EQ(str(*plain), plaintext);

            // A fresh salt and key every message.
            std::string head(m.body.begin(), m.body.begin() + 86);
            if (!last_body.empty()) {
                EXPECT_NE(head.substr(0, 16), last_body.substr(0, 16));
                EXPECT_NE(head.substr(21), last_body.substr(21));
            }
            last_body = head;

            // Tampering is detected.
            m.body.back() ^= 1;
            EXPECT_FALSE(
                decrypt_aes128gcm(ua_priv.get(), ua_pub, auth, m.body));

            if (size + pad > aesgcm_max_plaintext) {
                continue;
            }
            ASSERT_TRUE(e.encrypt(ContentEncoding::aesgcm, ua, plaintext,
                                  pad, m, reason))
                << reason;
            EXPECT_EQ(m.body.size(), 2 + pad + size + 16);
            plain = decrypt_aesgcm(ua_priv.get(), ua_pub, auth, m);
            ASSERT_TRUE(plain.has_value()) << size << "+" << pad;
            EXPECT_EQ(str(*plain), plaintext);
        }
    }
}
