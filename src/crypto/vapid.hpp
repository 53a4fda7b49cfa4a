// VAPID (RFC 8292): the ES256 JWT that identifies this application server
// to push services, the header values carrying it, and a per-origin cache
// so that a worker signs once per push service every few hours instead of
// once per message.

#ifndef WEBPUSH_CRYPTO_VAPID_HPP
#define WEBPUSH_CRYPTO_VAPID_HPP

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/keys.hpp"
#include "util/lru.hpp"

namespace webpush::crypto {

// Token lifetime: the usual 12 h, half the 24 h that push services allow
// (autopush measures it in its own clock, so skew needs the margin).
constexpr int64_t vapid_lifetime = 12 * 3600;
constexpr int64_t vapid_max_lifetime = 24 * 3600;

// Signs a compact JWS: header {"typ":"JWT","alg":"ES256"}, claims
// {"aud":aud,"exp":exp,"sub":sub}, signature the raw 64-byte r || s.  aud
// is the push resource's origin ("https://host[:port]"), exp seconds since
// the epoch.  Fails only for non-UTF-8 claims or an OpenSSL failure.
std::optional<std::string> vapid_sign(const VapidKey &key,
                                      std::string_view aud,
                                      std::string_view sub, int64_t exp,
                                      std::string &reason);

// Checks the ES256 signature of a compact JWS against an uncompressed
// P-256 public key.  Only the signature: claims are left to the caller.
bool vapid_verify(std::string_view jwt, const P256Point &public_key,
                  std::string &reason);

// One signed token and the header values built from it.
struct VapidToken {
    std::string jwt;
    int64_t exp = 0;

    // aes128gcm: "Authorization: vapid t=<jwt>, k=<key>".
    std::string authorization;

    // aesgcm (the older draft form): "Authorization: WebPush <jwt>" plus
    // "Crypto-Key: p256ecdsa=<key>" (join it to "dh=..." with ';').
    std::string webpush_authorization;
    std::string crypto_key;
};

// Tokens per origin for one key and subject.  Not thread-safe; one per
// worker.
class VapidCache {
public:
    // lifetime is clamped to (0, vapid_max_lifetime]; the subject is
    // expected to have passed validate_subject().
    VapidCache(VapidKey key, std::string subject,
               int64_t lifetime = vapid_lifetime);

    // The token for origin at time now (seconds since the epoch), signed
    // anew when none is cached, when less than half of its lifetime is
    // left, or when the clock went back so far that its exp would be more
    // than the lifetime ahead.  The pointer stays valid until the next
    // get(); nullptr (with a reason) if signing failed.
    const VapidToken *get(std::string_view origin, int64_t now,
                          std::string &reason);

    const VapidKey &key() const { return key_; }
    size_t size() const { return tokens_.size(); }

    // Bound on cached origins, the least recently used one going first:
    // a wildcard pattern lets subscribers name any number of origins, and
    // those must not push out the tokens of the push services in use.
    static constexpr size_t max_origins = 1024;

private:
    bool fresh(int64_t exp, int64_t now) const;

    VapidKey key_;
    std::string subject_;
    int64_t lifetime_;
    util::Lru<std::string, VapidToken> tokens_{max_origins};
};

}  // namespace webpush::crypto

#endif
