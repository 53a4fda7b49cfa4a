// Keys: the VAPID signing key, the VAPID subject, and the two keys of a
// push subscription (p256dh and auth).
//
// Every loader reports failure as a short human-readable reason meant to
// be used verbatim after a directive name in an "nginx -t" error or inside
// a 400 reply, e.g. `not a P-256 key (curve secp384r1)`.

#ifndef WEBPUSH_CRYPTO_KEYS_HPP
#define WEBPUSH_CRYPTO_KEYS_HPP

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <openssl/types.h>

namespace webpush::crypto {

// An uncompressed P-256 point: 0x04 || X(32) || Y(32).
using P256Point = std::array<uint8_t, 65>;

// The application server's VAPID key pair (RFC 8292), P-256 only.
// Copies share the underlying EVP_PKEY, which is never modified after
// loading (so a copy may be handed to a VapidCache).
class VapidKey {
public:
    // Reads a PEM private key file: SEC1 "EC PRIVATE KEY" (other PEM
    // blocks such as "EC PARAMETERS" may precede it) or unencrypted PKCS#8
    // "PRIVATE KEY".  Reasons: `cannot read "/x": No such file or
    // directory`, `not a PEM private key`, `not a P-256 key (curve
    // secp384r1)`, `not a P-256 key (RSA key)`, ...
    static std::optional<VapidKey> load_file(const std::string &path,
                                             std::string &reason);

    // The same from PEM text already in memory.
    static std::optional<VapidKey> load_pem(std::string_view pem,
                                            std::string &reason);

    // The public key as the 65-byte uncompressed point, and as unpadded
    // base64url: the browser's applicationServerKey and the VAPID "k=".
    const P256Point &public_key() const { return public_; }
    const std::string &public_key_b64u() const { return public_b64u_; }

    // The OpenSSL key (private and public), for signing.
    EVP_PKEY *pkey() const { return pkey_.get(); }

private:
    VapidKey() = default;

    std::shared_ptr<EVP_PKEY> pkey_;
    P256Point public_{};
    std::string public_b64u_;
};

// Checks a VAPID "sub" claim (webpush_vapid_subject).  It must start with
// "mailto:" or "https:" and must not contain spaces, control characters,
// non-ASCII bytes or angle brackets, nor repeat "mailto:"; a mailto: needs
// a non-empty local part and domain, an https: URL a host; a "localhost"
// host is rejected because push services (Apple) answer 403 BadJwtToken.
bool validate_subject(std::string_view subject, std::string &reason);

// A subscription's keys, decoded and checked (RFC 8291 §2).
struct SubscriptionKeys {
    P256Point p256dh{};                // the user agent's ECDH public key
    std::array<uint8_t, 16> auth{};    // the authentication secret
    std::shared_ptr<EVP_PKEY> pkey;    // p256dh imported, on-curve checked

    // Decodes p256dh and auth (base64url or standard base64, padded or
    // not): p256dh must be a 65-byte uncompressed point on P-256, auth
    // exactly 16 bytes.  Reasons: `p256dh is not valid base64`, `p256dh is
    // not a 65-byte uncompressed P-256 point`, `p256dh is not on the P-256
    // curve`, `auth must be 16 bytes (got 12)`, ...
    static std::optional<SubscriptionKeys> parse(std::string_view p256dh,
                                                 std::string_view auth,
                                                 std::string &reason);

    // The same checks with the same reasons, without building a key: for
    // validating a subscription that is only stored (the sender parses it
    // when it encrypts).  About a tenth of parse()'s cost.
    static bool check(std::string_view p256dh, std::string_view auth,
                      std::string &reason);

private:
    // base64 and sizes; fills p256dh and auth
    bool decode(std::string_view p256dh, std::string_view auth,
                std::string &reason);
};

}  // namespace webpush::crypto

#endif
