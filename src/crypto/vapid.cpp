#include "crypto/vapid.hpp"

#include <cstdlib>

#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>

#include "crypto/base64.hpp"
#include "crypto/ossl.hpp"

namespace webpush::crypto {

namespace {

// base64url of {"typ":"JWT","alg":"ES256"}, the same for every token.
constexpr std::string_view jwt_header = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9";

struct JsonDeleter {
    void operator()(json_t *j) const noexcept { json_decref(j); }
};

PkeyPtr
import_public(const P256Point &point)
{
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    char group[] = "prime256v1";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group,
                                         0),
        OSSL_PARAM_construct_octet_string(
            OSSL_PKEY_PARAM_PUB_KEY, const_cast<uint8_t *>(point.data()),
            point.size()),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY *pkey = nullptr;

    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1
        || EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params)
               != 1)
    {
        return nullptr;
    }

    return PkeyPtr(pkey);
}

}  // namespace

std::optional<std::string>
vapid_sign(const VapidKey &key, std::string_view aud, std::string_view sub,
           int64_t exp, std::string &reason)
try {
    // jansson escapes the claims (and refuses invalid UTF-8), so a
    // subject or origin can never break out of its JSON string.
    std::unique_ptr<json_t, JsonDeleter> claims(
        json_pack("{s:s%, s:I, s:s%}", "aud", aud.data(), aud.size(),
                  "exp", static_cast<json_int_t>(exp), "sub", sub.data(),
                  sub.size()));
    if (!claims) {
        reason = "VAPID claims are not valid UTF-8";
        return std::nullopt;
    }

    char *text = json_dumps(claims.get(), JSON_COMPACT);
    if (text == nullptr) {
        reason = "cannot serialise VAPID claims";
        return std::nullopt;
    }

    std::string jwt(jwt_header);
    jwt += '.';
    jwt += base64url_encode(std::string_view(text));
    std::free(text);

    MdCtxPtr md(EVP_MD_CTX_new());
    unsigned char der[80];
    size_t der_len = sizeof(der);

    if (!md
        || EVP_DigestSignInit_ex(md.get(), nullptr, "SHA256", nullptr,
                                 nullptr, key.pkey(), nullptr)
               != 1
        || EVP_DigestSign(md.get(), der, &der_len,
                          reinterpret_cast<const unsigned char *>(
                              jwt.data()),
                          jwt.size())
               != 1)
    {
        reason = ossl_failure("ES256 signing failed");
        return std::nullopt;
    }

    // JWS wants r || s as two 32-byte big-endian numbers (RFC 7518
    // §3.4), EVP_DigestSign gives an ASN.1 DER SEQUENCE of two INTEGERs.
    const unsigned char *p = der;
    EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
    const BIGNUM *r = nullptr;
    const BIGNUM *s = nullptr;
    uint8_t raw[64];

    if (!sig) {
        reason = ossl_failure("cannot decode the ECDSA signature");
        return std::nullopt;
    }

    ECDSA_SIG_get0(sig.get(), &r, &s);
    if (BN_bn2binpad(r, raw, 32) != 32 || BN_bn2binpad(s, raw + 32, 32) != 32)
    {
        reason = "ECDSA signature out of range";
        return std::nullopt;
    }

    jwt += '.';
    jwt += base64url_encode(raw, sizeof(raw));
    return jwt;
} catch (...) {
    out_of_memory(reason);
    return std::nullopt;
}

bool
vapid_verify(std::string_view jwt, const P256Point &public_key,
             std::string &reason)
try {
    size_t dot = jwt.rfind('.');
    if (dot == std::string_view::npos
        || jwt.substr(0, dot).find('.') == std::string_view::npos)
    {
        reason = "not a compact JWS (header.claims.signature)";
        return false;
    }

    std::string_view signed_part = jwt.substr(0, dot);
    std::optional<Bytes> raw = base64_decode(jwt.substr(dot + 1));
    if (!raw || raw->size() != 64) {
        reason = "signature is not 64 bytes of base64url";
        return false;
    }

    EcdsaSigPtr sig(ECDSA_SIG_new());
    BnPtr r(BN_bin2bn(raw->data(), 32, nullptr));
    BnPtr s(BN_bin2bn(raw->data() + 32, 32, nullptr));
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1)
    {
        reason = ossl_failure("out of memory");
        return false;
    }
    r.release();  // owned by sig now
    s.release();

    unsigned char *der = nullptr;
    int der_len = i2d_ECDSA_SIG(sig.get(), &der);
    if (der_len <= 0) {
        reason = ossl_failure("cannot encode the signature");
        return false;
    }
    std::unique_ptr<unsigned char, void (*)(void *)> der_owner(
        der, [](void *q) { OPENSSL_free(q); });

    PkeyPtr pkey = import_public(public_key);
    if (!pkey) {
        reason = ossl_failure("public key is not a P-256 point");
        return false;
    }

    MdCtxPtr md(EVP_MD_CTX_new());
    if (!md
        || EVP_DigestVerifyInit_ex(md.get(), nullptr, "SHA256", nullptr,
                                   nullptr, pkey.get(), nullptr)
               != 1)
    {
        reason = ossl_failure("cannot set up ES256 verification");
        return false;
    }

    if (EVP_DigestVerify(md.get(), der, static_cast<size_t>(der_len),
                         reinterpret_cast<const unsigned char *>(
                             signed_part.data()),
                         signed_part.size())
        != 1)
    {
        ossl_clear_errors();
        reason = "bad signature";
        return false;
    }

    return true;
} catch (...) {
    return out_of_memory(reason);
}

VapidCache::VapidCache(VapidKey key, std::string subject, int64_t lifetime)
    : key_(std::move(key)), subject_(std::move(subject)),
      lifetime_(lifetime > 0 && lifetime <= vapid_max_lifetime
                    ? lifetime
                    : vapid_lifetime)
{
}

bool
VapidCache::fresh(int64_t exp, int64_t now) const
{
    int64_t left = exp - now;
    return 2 * left >= lifetime_ && left <= lifetime_;
}

const VapidToken *
VapidCache::get(std::string_view origin, int64_t now, std::string &reason)
try {
    std::string name(origin);
    VapidToken *cached = tokens_.find(name);

    if (cached != nullptr && fresh(cached->exp, now)) {
        return cached;
    }

    std::optional<std::string> jwt = vapid_sign(key_, origin, subject_,
                                                now + lifetime_, reason);
    if (!jwt) {
        return nullptr;
    }

    VapidToken &t = cached != nullptr ? *cached
                                      : tokens_.put(name, VapidToken{});
    t.jwt = std::move(*jwt);
    t.exp = now + lifetime_;
    t.authorization = "vapid t=" + t.jwt + ", k=" + key_.public_key_b64u();
    t.webpush_authorization = "WebPush " + t.jwt;
    t.crypto_key = "p256ecdsa=" + key_.public_key_b64u();
    return &t;
} catch (...) {
    out_of_memory(reason);
    return nullptr;
}

}  // namespace webpush::crypto
