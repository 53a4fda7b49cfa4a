// One claimed delivery as it waits in the node-local send queue.  Pure
// C++, no nginx headers: the shared-memory queue (ngx_webpush_queue.*)
// stores each item as an ItemHeader followed by its strings, and this
// file defines that layout, its limits and the conversions from and to the
// process-side Delivery.
//
// Encoded item (host byte order; the zone never leaves the machine):
//
//   ItemHeader   fixed size, standard layout, trivially copyable
//   endpoint     endpoint_len bytes    (<= max_endpoint)
//   p256dh       p256dh_len bytes      (<= max_p256dh)
//   auth         auth_len bytes        (<= max_auth)
//   payload      payload_len bytes     (<= max_payload)
//   topic        topic_len bytes       (<= max_topic)
//
// The strings are copied as they are (no terminating NUL, no transcoding).

#ifndef WEBPUSH_QUEUE_ITEM_HPP
#define WEBPUSH_QUEUE_ITEM_HPP

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>

namespace webpush::queue {

// Content-Encoding of the push message.
enum class Encoding : std::uint8_t {
    aes128gcm = 0,   // RFC 8291 / RFC 8188
    aesgcm = 1,      // the legacy draft scheme
};

// RFC 8030 §5.3 Urgency; none = no header.
enum class Urgency : std::uint8_t {
    none = 0,
    very_low = 1,
    low = 2,
    normal = 3,
    high = 4,
};

// Upper bounds of the strings, in bytes.  A delivery over any of them is
// a bug upstream (the API validates much tighter): it is refused, never
// truncated.
constexpr std::size_t max_endpoint = 2048;
constexpr std::size_t max_p256dh = 256;   // base64 of a 65-byte point: 87-88
constexpr std::size_t max_auth = 128;     // base64 of 16 bytes: 22-24
constexpr std::size_t max_payload = 4096;
constexpr std::size_t max_topic = 32;     // RFC 8030 §5.4

// The process-side value of one delivery.
struct Delivery {
    std::uint64_t delivery_id = 0;     // its webpush_delivery row, 0: none
    std::uint64_t batch_id = 0;        // or its range (webpush_batch)
    std::uint32_t claim = 0;           // and that range's claim
    std::int64_t notification_id = 0;
    std::int64_t subscription_id = 0;
    std::uint32_t attempts = 0;        // made so far
    std::int32_t ttl = 0;              // seconds, the notification's TTL
    std::int64_t deadline_ms = 0;      // absolute, Unix epoch ms: expiry
    std::int64_t lease_until_ms = 0;   // absolute, Unix epoch ms: when the
                                       // database lease of the row lapses
    Encoding encoding = Encoding::aes128gcm;
    Urgency urgency = Urgency::none;
    std::string endpoint;
    std::string p256dh;                // as stored, base64
    std::string auth;                  // as stored, base64
    std::string payload;               // the plaintext to encrypt
    std::string topic;

    bool operator==(const Delivery& o) const;
    bool operator!=(const Delivery& o) const { return !(*this == o); }
};

// The fixed part of an encoded item.  Field order avoids padding holes so
// that the same bytes mean the same thing in every worker.
struct ItemHeader {
    std::uint64_t delivery_id;
    std::uint64_t batch_id;
    std::int64_t notification_id;
    std::int64_t subscription_id;
    std::int64_t deadline_ms;
    std::int64_t lease_until_ms;
    std::uint32_t attempts;
    std::int32_t ttl;
    std::uint16_t endpoint_len;
    std::uint16_t p256dh_len;
    std::uint16_t auth_len;
    std::uint16_t payload_len;
    std::uint8_t topic_len;
    std::uint8_t encoding;
    std::uint8_t urgency;
    std::uint8_t reserved;             // 0
    std::uint32_t claim;
};

static_assert(std::is_standard_layout_v<ItemHeader>);
static_assert(std::is_trivially_copyable_v<ItemHeader>);
static_assert(sizeof(ItemHeader) == 72);

// The largest encoded item: what a pop buffer must always be able to hold.
constexpr std::size_t max_encoded_size = sizeof(ItemHeader) + max_endpoint
    + max_p256dh + max_auth + max_payload + max_topic;

// Why a delivery cannot be queued, nullptr when it can.  The text is a
// static string ("endpoint longer than 2048 bytes", "unknown urgency").
const char* check(const Delivery& d) noexcept;

// The encoded size of a delivery (header and strings); meaningful only
// when check(d) passed.
std::size_t encoded_size(const Delivery& d) noexcept;

// Writes the encoded item into buf (any alignment).  Returns the bytes
// written, or 0 when check(d) fails or cap is smaller than
// encoded_size(d); nothing is written then.
std::size_t encode(const Delivery& d, void* buf, std::size_t cap) noexcept;

// Reads the header of an encoded item (any alignment) and checks it: the
// lengths within their limits, encoding and urgency known, reserved zero,
// and header plus strings exactly len bytes.  False for anything else.
bool read_header(const void* buf, std::size_t len, ItemHeader& h) noexcept;

// The Delivery of an encoded item; false (out unspecified) when
// read_header() refuses it.  Throws std::bad_alloc like std::string.
bool decode(const void* buf, std::size_t len, Delivery& out);

// What ngx_slab_alloc() really takes for a request of "size" bytes with
// pages of "pagesize" bytes and the smallest chunk of 8 bytes: whole pages
// above pagesize / 2, the next power of two (>= 8) below.
std::size_t slab_footprint(std::size_t size, std::size_t pagesize) noexcept;

// How many more items of "item_bytes" (slab footprint) fit into
// "free_bytes"; item_bytes of 0 counts as 1.
std::size_t items_that_fit(std::size_t free_bytes,
                           std::size_t item_bytes) noexcept;

// The item size estimate behind items_that_fit(): follows a larger sample
// at once and a smaller one by 1/8 of the difference (so it errs on the
// large side, and a claimer on the small one); "average" 0 means no
// sample yet.
std::size_t next_average(std::size_t average, std::size_t sample) noexcept;

}  // namespace webpush::queue

#endif
