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
//
// Cost: what a payload is (payload_shape()) takes a jansson parse, about
// 10 ns a byte (30 µs for 3052 bytes, a third of what encrypting the
// message costs); the rest, token and splice, about 1.5 µs.  Every
// delivery of a notification has the same payload (one per locale with
// localizedPayloads), so EventStamper keeps the shape of the payloads of
// the notifications it sent last and parses each only once.

#ifndef WEBPUSH_SENDER_EVENT_PAYLOAD_HPP
#define WEBPUSH_SENDER_EVENT_PAYLOAD_HPP

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/lru.hpp"

namespace webpush::crypto {
class EventTokenKey;
}

namespace webpush::sender {

inline constexpr std::string_view kEventMember = "webpushEvent";

// ,"webpushEvent":"" around the token
inline constexpr std::size_t kEventMemberOverhead =
    kEventMember.size() + 6;

// What a payload text is, as far as the member is concerned.
enum class PayloadShape {
    not_object,      // not JSON, or JSON but not an object: unchanged
    empty_object,    // {} (in any spelling): the member alone
    object,          // the member after the others
    has_member,      // has a top-level "webpushEvent": replaced
};

// Parses the payload (jansson) to tell; not_object when out of memory.
PayloadShape payload_shape(std::string_view payload) noexcept;

// The payload with its token, or nullopt when it is sent unchanged: not
// a JSON object, the result over max_size, a token with characters other
// than base64url ones (never from EventTokenKey::make), or no memory.
// With shape, the payload is not parsed again (shape must be its
// payload_shape()).
std::optional<std::string> add_event_member(std::string_view payload,
                                            std::string_view token,
                                            std::size_t max_size);
std::optional<std::string> add_event_member(std::string_view payload,
                                            std::string_view token,
                                            std::size_t max_size,
                                            PayloadShape shape);

// What the sender encrypts for one delivery: add_event_member() with the
// token of (notification, subscription), at most the 3993 bytes aes128gcm
// carries (the smaller limit of the two encodings).
std::optional<std::string> stamp_payload(const crypto::EventTokenKey& key,
                                         std::string_view payload,
                                         std::int64_t notification,
                                         std::int64_t subscription);

// stamp_payload() with the shapes of the payloads of the last
// `notifications` notifications remembered (a few payloads each: one per
// locale).  One per worker; not thread-safe.
class EventStamper {
public:
    // key: kept by reference, must outlive the stamper
    explicit EventStamper(const crypto::EventTokenKey& key,
                          std::size_t notifications = 64);

    std::optional<std::string> stamp(std::string_view payload,
                                     std::int64_t notification,
                                     std::int64_t subscription);

    // payloads parsed so far (for tests: the cache works)
    std::uint64_t parsed() const { return parsed_; }

private:
    struct Seen {
        std::string payload;
        PayloadShape shape;
    };

    static constexpr std::size_t kPayloadsPerNotification = 4;

    PayloadShape shape_of(std::string_view payload,
                          std::int64_t notification);

    const crypto::EventTokenKey& key_;
    util::Lru<std::int64_t, std::vector<Seen>> seen_;
    std::uint64_t parsed_ = 0;
};

}  // namespace webpush::sender

#endif
