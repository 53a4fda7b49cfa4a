#include "crypto/event_token.hpp"

#include "crypto/base64.hpp"
#include "crypto/keys.hpp"
#include "crypto/ossl.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>

namespace webpush::crypto {

namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::size_t kSigned = 1 + 8 + 8;   // version and the two ids
constexpr std::size_t kMac = 16;
constexpr std::size_t kRaw = kSigned + kMac;  // 33 bytes, 44 characters

static_assert((kRaw * 8 + 5) / 6 == kEventTokenLength);
static_assert(kRaw * 8 == kEventTokenLength * 6, "no spare bits");

bool is_b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

void put_be64(std::uint8_t *p, std::int64_t v)
{
    auto u = static_cast<std::uint64_t>(v);
    for (int i = 7; i >= 0; i--) {
        p[i] = static_cast<std::uint8_t>(u & 0xff);
        u >>= 8;
    }
}

std::int64_t get_be64(const std::uint8_t *p)
{
    std::uint64_t u = 0;
    for (int i = 0; i < 8; i++) {
        u = (u << 8) | p[i];
    }
    return static_cast<std::int64_t>(u);
}

}  // namespace

std::optional<EventTokenKey>
EventTokenKey::derive(const VapidKey &vapid, std::string &reason)
try {
    BIGNUM *d = nullptr;

    if (EVP_PKEY_get_bn_param(vapid.pkey(), OSSL_PKEY_PARAM_PRIV_KEY, &d)
        != 1)
    {
        reason = ossl_failure("cannot read the VAPID private key");
        return std::nullopt;
    }

    BnPtr owned(d);
    std::uint8_t ikm[32];

    if (BN_bn2binpad(d, ikm, sizeof(ikm)) != sizeof(ikm)) {
        reason = ossl_failure("the VAPID private key is not 32 bytes");
        return std::nullopt;
    }

    EventTokenKey key;
    OsslPtr<EVP_KDF, EVP_KDF_free> kdf(EVP_KDF_fetch(nullptr, "HKDF",
                                                     nullptr));
    OsslPtr<EVP_KDF_CTX, EVP_KDF_CTX_free> ctx(
        kdf ? EVP_KDF_CTX_new(kdf.get()) : nullptr);

    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, ikm,
                                          sizeof(ikm)),
        OSSL_PARAM_construct_octet_string(
            OSSL_KDF_PARAM_INFO,
            const_cast<char *>(kEventKeyInfo.data()), kEventKeyInfo.size()),
        OSSL_PARAM_construct_end(),
    };

    bool ok = ctx
              && EVP_KDF_derive(ctx.get(), key.key_.data(), key.key_.size(),
                                params)
                     == 1;

    OPENSSL_cleanse(ikm, sizeof(ikm));

    if (!ok) {
        reason = ossl_failure("HKDF-SHA256 failed");
        return std::nullopt;
    }

    return key;

} catch (...) {
    out_of_memory(reason);
    return std::nullopt;
}


EventTokenKey::~EventTokenKey()
{
    OPENSSL_cleanse(key_.data(), key_.size());
}


EventTokenKey
EventTokenKey::from_bytes(const std::array<std::uint8_t, 32> &k)
{
    EventTokenKey key;
    key.key_ = k;
    return key;
}


bool
EventTokenKey::mac(const std::uint8_t *signed_part, std::uint8_t *out) const
    noexcept
{
    std::uint8_t md[32];
    std::size_t len = 0;

    if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key_.data(),
                  key_.size(), signed_part, kSigned, md, sizeof(md), &len)
            == nullptr
        || len != sizeof(md))
    {
        ossl_clear_errors();
        return false;
    }

    for (std::size_t i = 0; i < kMac; i++) {
        out[i] = md[i];
    }

    OPENSSL_cleanse(md, sizeof(md));
    return true;
}


std::string
EventTokenKey::make(std::int64_t notification, std::int64_t subscription)
    const
{
    std::uint8_t raw[kRaw];

    raw[0] = kVersion;
    put_be64(raw + 1, notification);
    put_be64(raw + 9, subscription);

    if (!mac(raw, raw + kSigned)) {
        return {};
    }

    return base64url_encode(raw, sizeof(raw));
}


EventTokenStatus
EventTokenKey::check(std::string_view token, EventIds &ids) const noexcept
{
    if (token.size() != kEventTokenLength) {
        return EventTokenStatus::Malformed;
    }

    for (char c : token) {
        if (!is_b64url(c)) {
            return EventTokenStatus::Malformed;
        }
    }

    std::optional<Bytes> raw = base64_decode(token);

    if (!raw || raw->size() != kRaw) {
        return EventTokenStatus::Malformed;
    }

    const std::uint8_t *p = raw->data();

    if (p[0] != kVersion) {
        return EventTokenStatus::Malformed;
    }

    std::uint8_t expected[kMac];

    if (!mac(p, expected)
        || CRYPTO_memcmp(expected, p + kSigned, kMac) != 0)
    {
        return EventTokenStatus::BadSignature;
    }

    ids.notification = get_be64(p + 1);
    ids.subscription = get_be64(p + 9);

    return EventTokenStatus::Valid;
}

}  // namespace webpush::crypto
