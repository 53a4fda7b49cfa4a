// Idempotency of POST /push-notifications: the Idempotency-Key header's
// syntax and the fingerprint of a request, which the database compares to
// tell "the same request again" (201, the same notification) from "the
// same key, another request" (409 / 5011).
// No nginx headers: compiled into the unit tests as well.

#ifndef WEBPUSH_API_IDEMPOTENCY_HPP
#define WEBPUSH_API_IDEMPOTENCY_HPP

#include <cstddef>
#include <string>
#include <string_view>

#include "api/requests.hpp"

namespace webpush::api {

inline constexpr std::size_t kMaxIdempotencyKey = 255;

// 1 to 255 printable ASCII characters (0x20-0x7e).
bool idempotency_key_ok(std::string_view key) noexcept;

// The canonical form of a validated notification request: a compact JSON
// array of what is stored, in a fixed order, objects with sorted keys:
//   ["<providerName>","<group.name>",<identifier|null>,{payload},
//    <ttl|null>,<urgency|null>,<topic|null>,<sendAt µs|null>
//    [,<{localizedPayloads}|null>[,<ratePerMinute>]]]
// (localizedPayloads only when present or ratePerMinute is, ratePerMinute
// only when present, so that the fingerprints of requests without them
// are those of schema versions 5 and 6: a key stored by a node of an
// older version still matches during a rolling upgrade)
// (non-ASCII as \uXXXX, upper-case hex, as jansson writes it), so that
// the same request written with other whitespace, member order or
// an equivalent sendAt (another offset) has the same form.  Empty when
// out of memory.
std::string canonical_notification(const NotificationRequest& n);

// Lower-case hex SHA-256 of canonical_notification(); empty on failure.
std::string notification_fingerprint(const NotificationRequest& n);

}  // namespace webpush::api

#endif
