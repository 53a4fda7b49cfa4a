// Engagement tokens (webpush_events): the sender puts one into each
// delivered payload as "webpushEvent"; the service worker sends it back
// with "shown", "clicked" or "closed"; the events handler counts the
// report for the delivery the token names.
//
//   token = base64url(version | notification id | subscription id | mac)
//   mac   = the first 16 bytes of HMAC-SHA256(key, version | ids)
//
// version is one byte (1); the ids are the database ids of the
// notification and the subscription, 8 bytes each, big-endian; so a token
// is 33 bytes, 44 unpadded base64url characters (kEventTokenLength), and
// every token has exactly one spelling (44 characters carry 264 bits, no
// spare ones).  The delivery row's own id is not in it: the pair is what
// identifies a delivery, whether or not a row is kept for it.
//
// The key is derived from the VAPID private key with HKDF-SHA256 (RFC
// 5869; no salt, info kEventKeyInfo), so every node with the same
// webpush_vapid_key checks every node's tokens, and there is nothing new
// to configure.  HKDF with an info string of its own makes the key
// independent of the signing key: neither tells anything about the other.
// A new VAPID key invalidates the tokens of earlier deliveries.
//
// Pure code (OpenSSL only), never throws; nothing here logs, so no key
// can end up in a log.

#ifndef WEBPUSH_CRYPTO_EVENT_TOKEN_HPP
#define WEBPUSH_CRYPTO_EVENT_TOKEN_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace webpush::crypto {

class VapidKey;

inline constexpr std::size_t kEventTokenLength = 44;
inline constexpr std::string_view kEventKeyInfo =
    "ngx_http_webpush_module engagement token v1";

// What a genuine token names.
struct EventIds {
    std::int64_t notification = 0;
    std::int64_t subscription = 0;

    bool operator==(const EventIds &o) const {
        return notification == o.notification
               && subscription == o.subscription;
    }
};

enum class EventTokenStatus {
    Valid,
    Malformed,     // not 44 base64url characters, or an unknown version
    BadSignature,  // another key, or altered
};

class EventTokenKey {
public:
    // The key of a VAPID key: HKDF-SHA256 of its private scalar (32
    // bytes, big-endian) with kEventKeyInfo.  nullopt and a reason when
    // OpenSSL fails.
    static std::optional<EventTokenKey> derive(const VapidKey &vapid,
                                               std::string &reason);

    // From 32 bytes of key material as they are (for tests).
    static EventTokenKey from_bytes(const std::array<std::uint8_t, 32> &k);

    // The token of a delivery; empty when OpenSSL fails.
    std::string make(std::int64_t notification,
                     std::int64_t subscription) const;

    // Checks a token: the MAC is compared in constant time (CRYPTO_memcmp)
    // and the ids are given out only when it matches.
    EventTokenStatus check(std::string_view token, EventIds &ids) const
        noexcept;

    const std::array<std::uint8_t, 32> &bytes() const { return key_; }

    // the key is wiped from memory with its last copy
    EventTokenKey(const EventTokenKey &) = default;
    EventTokenKey &operator=(const EventTokenKey &) = default;
    ~EventTokenKey();

private:
    EventTokenKey() = default;

    // the MAC of the 17 signed bytes; false when OpenSSL fails
    bool mac(const std::uint8_t *signed_part, std::uint8_t *out) const
        noexcept;

    std::array<std::uint8_t, 32> key_{};
};

}  // namespace webpush::crypto

#endif
