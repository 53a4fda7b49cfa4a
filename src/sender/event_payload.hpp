// The engagement token inside a delivered payload (webpush_events): the
// payload as stored, with a top-level member "webpushEvent" whose value is
// the delivery's token (crypto/event_token.hpp), for the service worker
// to send back.  Pure C++ (jansson).
//
// The member is written into the text rather than by re-serialising the
// object, so that everything else reaches the browser byte for byte as it
// was stored (payloads posted over HTTP are stored compact; a row another
// producer wrote may be spelled otherwise, and keeps its spelling):
//
//   {}              ->  {"webpushEvent":"<token>"}
//   {"title":"Hi"}  ->  {"title":"Hi","webpushEvent":"<token>"}
//
// It goes last.  An object that already has a top-level "webpushEvent"
// (a payload made up to look like one) gets the genuine token in its
// place instead, through jansson (then written compact), so that there is
// never a second member for a parser to prefer.  A payload that is not a
// JSON object (text, an array, a number: rows another producer wrote) is
// not changed: it has no place for a member.  Nor is one that would
// become larger than max_size: a notification that arrives matters more
// than the count of it.
//
// Size: a token is 44 characters, the member with its comma 62 bytes
// (kEventMemberOverhead + the token); a payload posted over HTTP is at
// most 3052 bytes compact (api::kMaxNotificationPayload), so it always
// fits in the 3993 bytes aes128gcm carries in one 4096-byte record
// (crypto::aes128gcm_max_plaintext; aesgcm carries 4078).

#ifndef WEBPUSH_SENDER_EVENT_PAYLOAD_HPP
#define WEBPUSH_SENDER_EVENT_PAYLOAD_HPP

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace webpush::crypto {
class EventTokenKey;
}

namespace webpush::sender {

inline constexpr std::string_view kEventMember = "webpushEvent";

// ,"webpushEvent":"" around the token
inline constexpr std::size_t kEventMemberOverhead =
    kEventMember.size() + 6;

// The payload with its token, or nullopt when it is sent unchanged: not
// a JSON object, the result over max_size, a token with characters other
// than base64url ones (never from EventTokenKey::make), or no memory.
std::optional<std::string> add_event_member(std::string_view payload,
                                            std::string_view token,
                                            std::size_t max_size);

// What the sender encrypts for one delivery: add_event_member() with the
// token of (notification, subscription), at most the 3993 bytes aes128gcm
// carries (the smaller limit of the two encodings).
std::optional<std::string> stamp_payload(const crypto::EventTokenKey& key,
                                         std::string_view payload,
                                         std::int64_t notification,
                                         std::int64_t subscription);

}  // namespace webpush::sender

#endif
