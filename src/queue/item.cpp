#include "queue/item.hpp"

#include <cstring>

namespace webpush::queue {

namespace {

bool known_encoding(std::uint8_t e) noexcept
{
    return e <= static_cast<std::uint8_t>(Encoding::aesgcm);
}

bool known_urgency(std::uint8_t u) noexcept
{
    return u <= static_cast<std::uint8_t>(Urgency::high);
}

std::size_t strings_size(const ItemHeader& h) noexcept
{
    return std::size_t{h.endpoint_len} + h.p256dh_len + h.auth_len
           + h.payload_len + h.topic_len;
}

unsigned char* put(unsigned char* p, const std::string& s) noexcept
{
    if (!s.empty()) {
        std::memcpy(p, s.data(), s.size());
    }
    return p + s.size();
}

const unsigned char* get(const unsigned char* p, std::size_t n,
                         std::string& s)
{
    s.assign(reinterpret_cast<const char*>(p), n);
    return p + n;
}

}  // namespace

bool Delivery::operator==(const Delivery& o) const
{
    return delivery_id == o.delivery_id && batch_id == o.batch_id
           && claim == o.claim
           && notification_id == o.notification_id
           && subscription_id == o.subscription_id
           && attempts == o.attempts && ttl == o.ttl
           && deadline_ms == o.deadline_ms
           && lease_until_ms == o.lease_until_ms && encoding == o.encoding
           && urgency == o.urgency && endpoint == o.endpoint
           && p256dh == o.p256dh && auth == o.auth && payload == o.payload
           && topic == o.topic;
}

const char* check(const Delivery& d) noexcept
{
    if (d.endpoint.empty()) {
        return "empty endpoint";
    }
    if (d.endpoint.size() > max_endpoint) {
        return "endpoint longer than 2048 bytes";
    }
    if (d.p256dh.size() > max_p256dh) {
        return "p256dh longer than 256 bytes";
    }
    if (d.auth.size() > max_auth) {
        return "auth longer than 128 bytes";
    }
    if (d.payload.size() > max_payload) {
        return "payload longer than 4096 bytes";
    }
    if (d.topic.size() > max_topic) {
        return "topic longer than 32 bytes";
    }
    if (!known_encoding(static_cast<std::uint8_t>(d.encoding))) {
        return "unknown encoding";
    }
    if (!known_urgency(static_cast<std::uint8_t>(d.urgency))) {
        return "unknown urgency";
    }
    return nullptr;
}

std::size_t encoded_size(const Delivery& d) noexcept
{
    return sizeof(ItemHeader) + d.endpoint.size() + d.p256dh.size()
           + d.auth.size() + d.payload.size() + d.topic.size();
}

std::size_t encode(const Delivery& d, void* buf, std::size_t cap) noexcept
{
    if (check(d) != nullptr) {
        return 0;
    }

    std::size_t size = encoded_size(d);
    if (buf == nullptr || cap < size) {
        return 0;
    }

    ItemHeader h{};
    h.delivery_id = d.delivery_id;
    h.batch_id = d.batch_id;
    h.claim = d.claim;
    h.notification_id = d.notification_id;
    h.subscription_id = d.subscription_id;
    h.deadline_ms = d.deadline_ms;
    h.lease_until_ms = d.lease_until_ms;
    h.attempts = d.attempts;
    h.ttl = d.ttl;
    h.endpoint_len = static_cast<std::uint16_t>(d.endpoint.size());
    h.p256dh_len = static_cast<std::uint16_t>(d.p256dh.size());
    h.auth_len = static_cast<std::uint16_t>(d.auth.size());
    h.payload_len = static_cast<std::uint16_t>(d.payload.size());
    h.topic_len = static_cast<std::uint8_t>(d.topic.size());
    h.encoding = static_cast<std::uint8_t>(d.encoding);
    h.urgency = static_cast<std::uint8_t>(d.urgency);

    auto* p = static_cast<unsigned char*>(buf);
    std::memcpy(p, &h, sizeof(h));
    p += sizeof(h);
    p = put(p, d.endpoint);
    p = put(p, d.p256dh);
    p = put(p, d.auth);
    p = put(p, d.payload);
    put(p, d.topic);

    return size;
}

bool read_header(const void* buf, std::size_t len, ItemHeader& h) noexcept
{
    if (buf == nullptr || len < sizeof(ItemHeader)) {
        return false;
    }

    std::memcpy(&h, buf, sizeof(h));

    return h.endpoint_len != 0 && h.endpoint_len <= max_endpoint
           && h.p256dh_len <= max_p256dh && h.auth_len <= max_auth
           && h.payload_len <= max_payload && h.topic_len <= max_topic
           && known_encoding(h.encoding) && known_urgency(h.urgency)
           && h.reserved == 0
           && sizeof(ItemHeader) + strings_size(h) == len;
}

bool decode(const void* buf, std::size_t len, Delivery& out)
{
    ItemHeader h;
    if (!read_header(buf, len, h)) {
        return false;
    }

    out.delivery_id = h.delivery_id;
    out.batch_id = h.batch_id;
    out.claim = h.claim;
    out.notification_id = h.notification_id;
    out.subscription_id = h.subscription_id;
    out.deadline_ms = h.deadline_ms;
    out.lease_until_ms = h.lease_until_ms;
    out.attempts = h.attempts;
    out.ttl = h.ttl;
    out.encoding = static_cast<Encoding>(h.encoding);
    out.urgency = static_cast<Urgency>(h.urgency);

    const auto* p = static_cast<const unsigned char*>(buf) + sizeof(h);
    p = get(p, h.endpoint_len, out.endpoint);
    p = get(p, h.p256dh_len, out.p256dh);
    p = get(p, h.auth_len, out.auth);
    p = get(p, h.payload_len, out.payload);
    get(p, h.topic_len, out.topic);

    return true;
}

std::size_t slab_footprint(std::size_t size, std::size_t pagesize) noexcept
{
    if (pagesize == 0) {
        return size;
    }
    if (size > pagesize / 2) {
        return (size + pagesize - 1) / pagesize * pagesize;
    }
    std::size_t chunk = 8;
    while (chunk < size) {
        chunk <<= 1;
    }
    return chunk;
}

std::size_t items_that_fit(std::size_t free_bytes,
                           std::size_t item_bytes) noexcept
{
    return free_bytes / (item_bytes == 0 ? 1 : item_bytes);
}

std::size_t next_average(std::size_t average, std::size_t sample) noexcept
{
    // up at once, down by 1/8 of the difference: a claimer sized by it
    // under-claims for a while after big items rather than over-claiming
    // after the first one
    if (average == 0 || sample >= average) {
        return sample;
    }
    return average - (average - sample) / 8;
}

}  // namespace webpush::queue
