#include "crypto/ece.hpp"

#include <cstring>

#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>

namespace webpush::crypto {

namespace {

constexpr size_t tag_len = 16;

std::string_view
sv(const uint8_t *p, size_t n)
{
    return std::string_view(reinterpret_cast<const char *>(p), n);
}

template <size_t N>
std::string_view
sv(const std::array<uint8_t, N> &a)
{
    return sv(a.data(), N);
}

// Info strings include their terminating NUL (RFC 8291 §3.3, RFC 8188 §2).
constexpr std::string_view webpush_info("WebPush: info\0", 14);
constexpr std::string_view cek_info("Content-Encoding: aes128gcm\0", 28);
constexpr std::string_view nonce_info("Content-Encoding: nonce\0", 24);
constexpr std::string_view legacy_auth_info("Content-Encoding: auth\0", 23);
constexpr std::string_view legacy_cek_info("Content-Encoding: aesgcm\0", 25);
// HKDF-Expand's T(1) counter; every output here fits one SHA-256 block.
constexpr std::string_view one("\x01", 1);

// P-256 key pair from a private scalar: the public point is computed here
// because EVP_PKEY_fromdata() does not derive it.
PkeyPtr
keypair_from_private(const std::array<uint8_t, 32> &priv,
                     std::string &reason)
{
    EcGroupPtr group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
    BnPtr d(BN_bin2bn(priv.data(), priv.size(), nullptr));
    BnCtxPtr bn_ctx(BN_CTX_new());

    if (!group || !d || !bn_ctx) {
        reason = ossl_failure("out of memory");
        return nullptr;
    }

    if (BN_is_zero(d.get())
        || BN_cmp(d.get(), EC_GROUP_get0_order(group.get())) >= 0)
    {
        reason = "private key is not a valid P-256 scalar";
        return nullptr;
    }

    EcPointPtr pub(EC_POINT_new(group.get()));
    uint8_t point[65];

    if (!pub
        || EC_POINT_mul(group.get(), pub.get(), d.get(), nullptr, nullptr,
                        bn_ctx.get())
               != 1
        || EC_POINT_point2oct(group.get(), pub.get(),
                              POINT_CONVERSION_UNCOMPRESSED, point,
                              sizeof(point), bn_ctx.get())
               != sizeof(point))
    {
        reason = ossl_failure("cannot compute the public key");
        return nullptr;
    }

    ParamBldPtr bld(OSSL_PARAM_BLD_new());
    if (!bld
        || OSSL_PARAM_BLD_push_utf8_string(bld.get(),
                                           OSSL_PKEY_PARAM_GROUP_NAME,
                                           "prime256v1", 0)
               != 1
        || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY,
                                  d.get())
               != 1
        || OSSL_PARAM_BLD_push_octet_string(bld.get(),
                                            OSSL_PKEY_PARAM_PUB_KEY, point,
                                            sizeof(point))
               != 1)
    {
        reason = ossl_failure("cannot build key parameters");
        return nullptr;
    }

    ParamPtr params(OSSL_PARAM_BLD_to_param(bld.get()));
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    EVP_PKEY *pkey = nullptr;

    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1
        || EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_KEYPAIR,
                             params.get())
               != 1)
    {
        reason = ossl_failure("cannot import the private key");
        return nullptr;
    }

    return PkeyPtr(pkey);
}

}  // namespace

std::optional<Encryptor>
Encryptor::create(std::string &reason)
try {
    Encryptor e;

    // One key-generation context for all messages: setting it up (fetching
    // the EC key manager, naming the group) costs about as much as the
    // key generation itself.
    e.keygen_.reset(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
    if (!e.keygen_ || EVP_PKEY_keygen_init(e.keygen_.get()) != 1
        || EVP_PKEY_CTX_set_group_name(e.keygen_.get(), "prime256v1") != 1)
    {
        reason = ossl_failure("cannot set up P-256 key generation");
        return std::nullopt;
    }

    MacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    if (mac) {
        e.hmac_.reset(EVP_MAC_CTX_new(mac.get()));
    }

    char digest[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end(),
    };

    // The digest is bound once here; each HMAC then only re-keys the
    // context (EVP_MAC_init with no parameters).
    if (!e.hmac_ || EVP_MAC_CTX_set_params(e.hmac_.get(), params) != 1) {
        reason = ossl_failure("cannot set up HMAC-SHA-256");
        return std::nullopt;
    }

    CipherPtr aes(EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr));
    e.gcm_.reset(EVP_CIPHER_CTX_new());
    if (!aes || !e.gcm_
        || EVP_EncryptInit_ex2(e.gcm_.get(), aes.get(), nullptr, nullptr,
                               nullptr)
               != 1)
    {
        reason = ossl_failure("cannot set up AES-128-GCM");
        return std::nullopt;
    }

    return e;
} catch (...) {
    out_of_memory(reason);
    return std::nullopt;
}

bool
Encryptor::use_fixed_ephemeral(const std::array<uint8_t, 32> &private_key,
                               const std::array<uint8_t, 16> &salt,
                               std::string &reason)
try {
    PkeyPtr key = keypair_from_private(private_key, reason);
    if (!key) {
        return false;
    }

    fixed_key_ = std::move(key);
    fixed_salt_ = salt;
    return true;
} catch (...) {
    return out_of_memory(reason);
}

bool
Encryptor::hmac(const uint8_t *key, size_t key_len,
                std::initializer_list<std::string_view> data, uint8_t *out)
{
    size_t len = 0;

    if (EVP_MAC_init(hmac_.get(), key, key_len, nullptr) != 1) {
        return false;
    }

    for (std::string_view d : data) {
        if (EVP_MAC_update(hmac_.get(),
                           reinterpret_cast<const uint8_t *>(d.data()),
                           d.size())
            != 1)
        {
            return false;
        }
    }

    return EVP_MAC_final(hmac_.get(), out, &len, 32) == 1 && len == 32;
}

bool
Encryptor::ecdh(EVP_PKEY *own, EVP_PKEY *peer, uint8_t *secret,
                std::string &reason)
{
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own, nullptr));
    size_t len = 32;

    // validate_peer = 0: SubscriptionKeys::parse() already refused points
    // off the curve, and P-256 has cofactor 1, so the full public-key check
    // (an extra scalar multiplication by the group order) would only
    // repeat that at ~40% of the cost of the derivation itself.
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1
        || EVP_PKEY_derive_set_peer_ex(ctx.get(), peer, 0) != 1
        || EVP_PKEY_derive(ctx.get(), secret, &len) != 1 || len != 32)
    {
        reason = ossl_failure("ECDH failed");
        return false;
    }

    return true;
}

bool
Encryptor::ephemeral(PkeyPtr &key, WebPushSecrets &out, std::string &reason)
{
    if (fixed_key_) {
        if (EVP_PKEY_up_ref(fixed_key_.get()) != 1) {
            reason = ossl_failure("EVP_PKEY_up_ref() failed");
            return false;
        }
        key.reset(fixed_key_.get());
        out.salt = fixed_salt_;

    } else {
        EVP_PKEY *pkey = nullptr;
        if (EVP_PKEY_generate(keygen_.get(), &pkey) != 1) {
            reason = ossl_failure("P-256 key generation failed");
            return false;
        }
        key.reset(pkey);

        if (RAND_bytes(out.salt.data(), out.salt.size()) != 1) {
            reason = ossl_failure("RAND_bytes() failed");
            return false;
        }
    }

    size_t len = 0;
    if (EVP_PKEY_get_octet_string_param(key.get(),
                                        OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                        out.as_public.data(),
                                        out.as_public.size(), &len)
            != 1
        || len != out.as_public.size())
    {
        reason = ossl_failure("cannot encode the ephemeral public key");
        return false;
    }

    return true;
}

bool
Encryptor::derive(ContentEncoding encoding, const SubscriptionKeys &ua,
                  WebPushSecrets &out, std::string &reason)
try {
    PkeyPtr key;

    if (!ua.pkey) {
        reason = "subscription keys were not imported";
        return false;
    }

    if (!ephemeral(key, out, reason)
        || !ecdh(key.get(), ua.pkey.get(), out.ecdh_secret.data(), reason))
    {
        return false;
    }

    uint8_t t[32];
    bool ok;

    if (encoding == ContentEncoding::aes128gcm) {
        // RFC 8291 §3.3 and §3.4.
        ok = hmac(ua.auth.data(), ua.auth.size(), {sv(out.ecdh_secret)},
                  out.prk_key.data())
             && hmac(out.prk_key.data(), 32,
                     {webpush_info, sv(ua.p256dh), sv(out.as_public), one},
                     out.ikm.data())
             && hmac(out.salt.data(), out.salt.size(), {sv(out.ikm)},
                     out.prk.data())
             && hmac(out.prk.data(), 32, {cek_info, one}, t)
             && (std::memcpy(out.cek.data(), t, 16), true)
             && hmac(out.prk.data(), 32, {nonce_info, one}, t)
             && (std::memcpy(out.nonce.data(), t, 12), true);

    } else {
        // draft-ietf-webpush-encryption-04 §3.3 with the context of
        // draft-ietf-httpbis-encryption-encoding-02 §4.2: "P-256" || 0 ||
        // length-prefixed receiver key || length-prefixed sender key.
        const uint8_t len[2] = {0x00, 0x41};
        const std::string_view context("P-256\0", 6);

        ok = hmac(ua.auth.data(), ua.auth.size(), {sv(out.ecdh_secret)},
                  out.prk_key.data())
             && hmac(out.prk_key.data(), 32, {legacy_auth_info, one},
                     out.ikm.data())
             && hmac(out.salt.data(), out.salt.size(), {sv(out.ikm)},
                     out.prk.data())
             && hmac(out.prk.data(), 32,
                     {legacy_cek_info, context, sv(len, 2), sv(ua.p256dh),
                      sv(len, 2), sv(out.as_public), one},
                     t)
             && (std::memcpy(out.cek.data(), t, 16), true)
             && hmac(out.prk.data(), 32,
                     {nonce_info, context, sv(len, 2), sv(ua.p256dh),
                      sv(len, 2), sv(out.as_public), one},
                     t)
             && (std::memcpy(out.nonce.data(), t, 12), true);
    }

    if (!ok) {
        reason = ossl_failure("HMAC-SHA-256 failed");
        return false;
    }

    return true;
} catch (...) {
    return out_of_memory(reason);
}

bool
Encryptor::gcm_seal(const uint8_t *cek, const uint8_t *nonce, uint8_t *buf,
                    size_t len, uint8_t *tag, std::string &reason)
{
    int n = 0;
    int fin = 0;

    // The cipher was bound in create(); only key and IV change.  buf is
    // encrypted in place, which EVP allows for GCM.
    if (EVP_EncryptInit_ex2(gcm_.get(), nullptr, cek, nonce, nullptr) != 1
        || EVP_EncryptUpdate(gcm_.get(), buf, &n, buf, static_cast<int>(len))
               != 1
        || EVP_EncryptFinal_ex(gcm_.get(), buf + n, &fin) != 1
        || static_cast<size_t>(n + fin) != len
        || EVP_CIPHER_CTX_ctrl(gcm_.get(), EVP_CTRL_GCM_GET_TAG,
                               static_cast<int>(tag_len), tag)
               != 1)
    {
        reason = ossl_failure("AES-128-GCM encryption failed");
        return false;
    }

    return true;
}

bool
Encryptor::seal_record(const uint8_t *ikm, size_t ikm_len,
                       const std::array<uint8_t, 16> &salt, uint32_t rs,
                       std::string_view keyid, std::string_view plaintext,
                       size_t pad, Bytes &body, std::string &reason)
try {
    uint8_t prk[32];
    uint8_t cek[32];
    uint8_t nonce[32];

    if (!hmac(salt.data(), salt.size(), {sv(ikm, ikm_len)}, prk)
        || !hmac(prk, 32, {cek_info, one}, cek)
        || !hmac(prk, 32, {nonce_info, one}, nonce))
    {
        reason = ossl_failure("HMAC-SHA-256 failed");
        return false;
    }

    return write_record(cek, nonce, salt, rs, keyid, plaintext, pad, body,
                        reason);
} catch (...) {
    return out_of_memory(reason);
}

bool
Encryptor::write_record(const uint8_t *cek, const uint8_t *nonce,
                        const std::array<uint8_t, 16> &salt, uint32_t rs,
                        std::string_view keyid, std::string_view plaintext,
                        size_t pad, Bytes &body, std::string &reason)
{
    if (keyid.size() > 255) {
        reason = "keyid longer than 255 bytes";
        return false;
    }

    // One record holds plaintext, the delimiter, the padding and the tag,
    // and RFC 8291 §4 wants rs strictly larger than that sum.
    if (rs < 18 || plaintext.size() > rs || pad > rs
        || plaintext.size() + pad + 1 + tag_len >= rs)
    {
        reason = "plaintext does not fit in one record of "
                 + std::to_string(rs) + " bytes";
        return false;
    }

    size_t header = 16 + 4 + 1 + keyid.size();
    size_t record = plaintext.size() + 1 + pad;

    // Zero-filled, so the padding after the delimiter is already there.
    body.assign(header + record + tag_len, 0);

    uint8_t *p = body.data();
    std::memcpy(p, salt.data(), salt.size());
    p += salt.size();
    *p++ = static_cast<uint8_t>(rs >> 24);
    *p++ = static_cast<uint8_t>(rs >> 16);
    *p++ = static_cast<uint8_t>(rs >> 8);
    *p++ = static_cast<uint8_t>(rs);
    *p++ = static_cast<uint8_t>(keyid.size());
    if (!keyid.empty()) {
        std::memcpy(p, keyid.data(), keyid.size());
    }
    p += keyid.size();

    if (!plaintext.empty()) {
        std::memcpy(p, plaintext.data(), plaintext.size());
    }
    p[plaintext.size()] = 0x02;  // the final (and only) record

    return gcm_seal(cek, nonce, p, record, p + record, reason);
}

bool
Encryptor::encrypt(ContentEncoding encoding, const SubscriptionKeys &ua,
                   std::string_view plaintext, size_t pad,
                   EncryptedMessage &out, std::string &reason)
try {
    size_t max = encoding == ContentEncoding::aes128gcm
                     ? aes128gcm_max_plaintext
                     : aesgcm_max_plaintext;

    if (plaintext.size() > max || pad > max - plaintext.size()) {
        reason = "payload too large: " + std::to_string(plaintext.size())
                 + " bytes";
        if (pad > 0) {
            reason += " + " + std::to_string(pad) + " padding";
        }
        reason += " > " + std::to_string(max);
        return false;
    }

    WebPushSecrets s;
    if (!derive(encoding, ua, s, reason)) {
        return false;
    }

    out.salt.clear();
    out.dh.clear();

    if (encoding == ContentEncoding::aes128gcm) {
        return write_record(s.cek.data(), s.nonce.data(), s.salt,
                            record_size, sv(s.as_public), plaintext, pad,
                            out.body, reason);
    }

    // aesgcm: one record of uint16 padding length || zeros || data; the
    // length checks above keep it below rs, so no record splitting.
    size_t record = 2 + pad + plaintext.size();
    out.body.assign(record + tag_len, 0);

    uint8_t *p = out.body.data();
    p[0] = static_cast<uint8_t>(pad >> 8);
    p[1] = static_cast<uint8_t>(pad);
    if (!plaintext.empty()) {
        std::memcpy(p + 2 + pad, plaintext.data(), plaintext.size());
    }

    if (!gcm_seal(s.cek.data(), s.nonce.data(), p, record, p + record,
                  reason))
    {
        return false;
    }

    out.salt = base64url_encode(s.salt.data(), s.salt.size());
    out.dh = base64url_encode(s.as_public.data(), s.as_public.size());
    return true;
} catch (...) {
    return out_of_memory(reason);
}

}  // namespace webpush::crypto
