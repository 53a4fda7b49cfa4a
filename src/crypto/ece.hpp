// Web Push message encryption: "aes128gcm" (RFC 8291 over RFC 8188) and
// the legacy "aesgcm" scheme (draft-ietf-webpush-encryption-04).

#ifndef WEBPUSH_CRYPTO_ECE_HPP
#define WEBPUSH_CRYPTO_ECE_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/base64.hpp"
#include "crypto/keys.hpp"
#include "crypto/ossl.hpp"

namespace webpush::crypto {

enum class ContentEncoding { aes128gcm, aesgcm };

// Largest plaintext + padding that keeps the body within the 4096 bytes
// every push service must accept: 4096 - 86 (header) - 1 (delimiter) - 16.
constexpr size_t aes128gcm_max_plaintext = 3993;

// Largest data + padding for aesgcm: 4096 - 16 (tag) - 2 (padding length).
constexpr size_t aesgcm_max_plaintext = 4078;

// The record size we write (and the one aesgcm assumes when "rs" is absent).
constexpr uint32_t record_size = 4096;

struct EncryptedMessage {
    // The request body.  aes128gcm: salt || rs || idlen || keyid ||
    // ciphertext || tag (86 + plaintext + 1 + pad + 16 bytes); aesgcm:
    // ciphertext || tag only.
    Bytes body;

    // aesgcm only (empty for aes128gcm, whose body header carries both):
    // unpadded base64url values for "Encryption: salt=<salt>" and
    // "Crypto-Key: dh=<dh>" (append ";p256ecdsa=<key>" for VAPID).
    std::string salt;
    std::string dh;
};

// The key schedule of one message.  aes128gcm (RFC 8291 §3.3, 3.4 and
// Appendix A names): prk_key = HKDF-Extract(auth, ecdh_secret), ikm =
// HKDF-Expand(prk_key, "WebPush: info\0" || ua_public || as_public, 32),
// prk = HKDF-Extract(salt, ikm), cek and nonce expanded from prk.  aesgcm:
// prk_key = HKDF-Extract(auth, ecdh_secret), ikm = HKDF-Expand(prk_key,
// "Content-Encoding: auth\0", 32), then prk, cek and nonce alike but with
// the draft's "P-256" context in the info strings.
struct WebPushSecrets {
    P256Point as_public{};               // ephemeral public key
    std::array<uint8_t, 16> salt{};
    std::array<uint8_t, 32> ecdh_secret{};
    std::array<uint8_t, 32> prk_key{};
    std::array<uint8_t, 32> ikm{};
    std::array<uint8_t, 32> prk{};
    std::array<uint8_t, 16> cek{};
    std::array<uint8_t, 12> nonce{};
};

// Encrypts push messages.  Holds reusable OpenSSL contexts (key generation,
// HMAC, AES-GCM), so make one per thread (nginx: one per worker) and
// reuse it; it is not thread-safe.
class Encryptor {
public:
    // Nullopt (with a reason) only if OpenSSL lacks P-256, HMAC or
    // AES-128-GCM, or memory runs out.
    static std::optional<Encryptor> create(std::string &reason);

    // Encrypts plaintext for one subscription with a fresh ephemeral key
    // and a random salt.  pad zero bytes are added inside the record
    // (hiding the length); plaintext + pad must not exceed
    // aes128gcm_max_plaintext or aesgcm_max_plaintext.
    bool encrypt(ContentEncoding encoding, const SubscriptionKeys &ua,
                 std::string_view plaintext, size_t pad,
                 EncryptedMessage &out, std::string &reason);

    // Runs the key schedule alone (ephemeral key, salt, ECDH, HKDF), as
    // encrypt() would; for tests of the intermediate values.
    bool derive(ContentEncoding encoding, const SubscriptionKeys &ua,
                WebPushSecrets &out, std::string &reason);

    // The generic RFC 8188 aes128gcm encoder for one record: PRK =
    // HKDF-Extract(salt, ikm), CEK and NONCE from it, body = salt || rs ||
    // idlen || keyid || AES-128-GCM(plaintext || 0x02 || pad zeros) || tag.
    // rs must exceed plaintext + 1 + pad + 16 (RFC 8291 §4).  encrypt()
    // writes its records the same way, with the RFC 8291 IKM and the
    // ephemeral public key as keyid.
    bool seal_record(const uint8_t *ikm, size_t ikm_len,
                     const std::array<uint8_t, 16> &salt, uint32_t rs,
                     std::string_view keyid, std::string_view plaintext,
                     size_t pad, Bytes &body, std::string &reason);

    // FOR DETERMINISTIC TESTS ONLY: use this ephemeral private key (a
    // 32-byte P-256 scalar) and salt for every following message instead
    // of fresh random ones.  Reusing a key and salt across messages
    // defeats the encryption, never call this in production code.
    bool use_fixed_ephemeral(const std::array<uint8_t, 32> &private_key,
                             const std::array<uint8_t, 16> &salt,
                             std::string &reason);

private:
    Encryptor() = default;

    bool ephemeral(PkeyPtr &key, WebPushSecrets &out, std::string &reason);
    bool ecdh(EVP_PKEY *own, EVP_PKEY *peer, uint8_t *secret,
              std::string &reason);
    bool hmac(const uint8_t *key, size_t key_len,
              std::initializer_list<std::string_view> data, uint8_t *out);
    bool write_record(const uint8_t *cek, const uint8_t *nonce,
                      const std::array<uint8_t, 16> &salt, uint32_t rs,
                      std::string_view keyid, std::string_view plaintext,
                      size_t pad, Bytes &body, std::string &reason);
    bool gcm_seal(const uint8_t *cek, const uint8_t *nonce, uint8_t *buf,
                  size_t len, uint8_t *tag, std::string &reason);

    PkeyCtxPtr keygen_;
    MacCtxPtr hmac_;
    CipherCtxPtr gcm_;

    PkeyPtr fixed_key_;
    std::array<uint8_t, 16> fixed_salt_{};
};

}  // namespace webpush::crypto

#endif
