#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "queue/item.hpp"
#include "queue/stats.hpp"

using namespace webpush::queue;

namespace {

Delivery sample()
{
    Delivery d;
    d.delivery_id = 0xfedcba9876543210ull;
    d.batch_id = 0x0123456789abcdefull;
    d.claim = 7;
    d.notification_id = -42;
    d.subscription_id = std::numeric_limits<std::int64_t>::max();
    d.attempts = 7;
    d.ttl = 2419200;
    d.deadline_ms = 1767225600123;
    d.lease_until_ms = 1767225060456;
    d.encoding = Encoding::aesgcm;
    d.urgency = Urgency::high;
    d.endpoint = "https://fcm.googleapis.com/fcm/send/abc:def";
    d.p256dh = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-"
               "Ts1XbjhazAkj7I99e8QcYP7DkM";
    d.auth = "tBHItJI5svbpez7KI4CCXg";
    d.payload = std::string("{\"title\":\"Hi\",\"nul\":\"") + '\0'
                + "\",\"utf8\":\"\xc3\xa9\"}";
    d.topic = "deals";
    return d;
}

std::vector<unsigned char> encoded(const Delivery& d)
{
    std::vector<unsigned char> buf(encoded_size(d));
    EXPECT_EQ(encode(d, buf.data(), buf.size()), buf.size());
    return buf;
}

Delivery at_limits()
{
    Delivery d = sample();
    d.endpoint.assign(max_endpoint, 'e');
    d.p256dh.assign(max_p256dh, 'p');
    d.auth.assign(max_auth, 'a');
    d.payload.assign(max_payload, 'x');
    d.topic.assign(max_topic, 't');
    return d;
}

}  // namespace

TEST(QueueItem, HeaderLayoutIsFixed)
{
    EXPECT_EQ(sizeof(ItemHeader), 72u);
    EXPECT_EQ(offsetof(ItemHeader, delivery_id), 0u);
    EXPECT_EQ(offsetof(ItemHeader, batch_id), 8u);
    EXPECT_EQ(offsetof(ItemHeader, deadline_ms), 32u);
    EXPECT_EQ(offsetof(ItemHeader, lease_until_ms), 40u);
    EXPECT_EQ(offsetof(ItemHeader, attempts), 48u);
    EXPECT_EQ(offsetof(ItemHeader, endpoint_len), 56u);
    EXPECT_EQ(offsetof(ItemHeader, topic_len), 64u);
    EXPECT_EQ(offsetof(ItemHeader, claim), 68u);
    EXPECT_EQ(max_encoded_size, 72u + 2048 + 256 + 128 + 4096 + 32);
}

TEST(QueueItem, RoundTripsEveryField)
{
    Delivery d = sample();
    ASSERT_EQ(check(d), nullptr);

    std::vector<unsigned char> buf = encoded(d);
    EXPECT_EQ(buf.size(), sizeof(ItemHeader) + d.endpoint.size()
                              + d.p256dh.size() + d.auth.size()
                              + d.payload.size() + d.topic.size());

    Delivery back;
    ASSERT_TRUE(decode(buf.data(), buf.size(), back));
    EXPECT_EQ(back.delivery_id, d.delivery_id);
    EXPECT_EQ(back.notification_id, d.notification_id);
    EXPECT_EQ(back.subscription_id, d.subscription_id);
    EXPECT_EQ(back.attempts, d.attempts);
    EXPECT_EQ(back.ttl, d.ttl);
    EXPECT_EQ(back.deadline_ms, d.deadline_ms);
    EXPECT_EQ(back.lease_until_ms, d.lease_until_ms);
    EXPECT_EQ(back.encoding, Encoding::aesgcm);
    EXPECT_EQ(back.urgency, Urgency::high);
    EXPECT_EQ(back.endpoint, d.endpoint);
    EXPECT_EQ(back.p256dh, d.p256dh);
    EXPECT_EQ(back.auth, d.auth);
    EXPECT_EQ(back.payload, d.payload);
    EXPECT_EQ(back.payload.size(), d.payload.size());  // the NUL survives
    EXPECT_EQ(back.topic, d.topic);
    EXPECT_EQ(back, d);
}

TEST(QueueItem, RoundTripsExtremeNumbers)
{
    Delivery d = sample();
    d.delivery_id = std::numeric_limits<std::uint64_t>::max();
    d.notification_id = std::numeric_limits<std::int64_t>::min();
    d.subscription_id = 0;
    d.attempts = std::numeric_limits<std::uint32_t>::max();
    d.ttl = std::numeric_limits<std::int32_t>::min();
    d.deadline_ms = -1;
    d.lease_until_ms = std::numeric_limits<std::int64_t>::min();
    std::vector<unsigned char> buf = encoded(d);
    Delivery back;
    ASSERT_TRUE(decode(buf.data(), buf.size(), back));
    EXPECT_EQ(back, d);
}

TEST(QueueItem, RoundTripsEveryEncodingAndUrgency)
{
    for (Encoding e : {Encoding::aes128gcm, Encoding::aesgcm}) {
        for (Urgency u : {Urgency::none, Urgency::very_low, Urgency::low,
                          Urgency::normal, Urgency::high}) {
            Delivery d = sample();
            d.encoding = e;
            d.urgency = u;
            std::vector<unsigned char> buf = encoded(d);
            Delivery back;
            ASSERT_TRUE(decode(buf.data(), buf.size(), back));
            EXPECT_EQ(back.encoding, e);
            EXPECT_EQ(back.urgency, u);
        }
    }
}

TEST(QueueItem, OptionalStringsMayBeEmpty)
{
    Delivery d;
    d.endpoint = "https://push.example/x";
    ASSERT_EQ(check(d), nullptr);
    std::vector<unsigned char> buf = encoded(d);
    EXPECT_EQ(buf.size(), sizeof(ItemHeader) + d.endpoint.size());

    Delivery back = sample();   // decode overwrites every field
    ASSERT_TRUE(decode(buf.data(), buf.size(), back));
    EXPECT_EQ(back, d);
    EXPECT_TRUE(back.topic.empty());
    EXPECT_TRUE(back.payload.empty());
}

TEST(QueueItem, MaximumSizesFit)
{
    Delivery d = at_limits();
    ASSERT_EQ(check(d), nullptr);
    EXPECT_EQ(encoded_size(d), max_encoded_size);

    std::vector<unsigned char> buf = encoded(d);
    ASSERT_EQ(buf.size(), max_encoded_size);
    Delivery back;
    ASSERT_TRUE(decode(buf.data(), buf.size(), back));
    EXPECT_EQ(back, d);
}

TEST(QueueItem, RejectsOversizeFields)
{
    struct Case {
        std::string Delivery::*field;
        std::size_t limit;
        const char* reason;
    };
    const Case cases[] = {
        {&Delivery::endpoint, max_endpoint, "endpoint longer than 2048 bytes"},
        {&Delivery::p256dh, max_p256dh, "p256dh longer than 256 bytes"},
        {&Delivery::auth, max_auth, "auth longer than 128 bytes"},
        {&Delivery::payload, max_payload, "payload longer than 4096 bytes"},
        {&Delivery::topic, max_topic, "topic longer than 32 bytes"},
    };

    for (const Case& c : cases) {
        Delivery d = at_limits();
        (d.*c.field).assign(c.limit + 1, 'z');
        ASSERT_NE(check(d), nullptr) << c.reason;
        EXPECT_STREQ(check(d), c.reason);

        // encode() refuses it even with room, and writes nothing
        std::vector<unsigned char> buf(encoded_size(d) + 16, 0xa5);
        EXPECT_EQ(encode(d, buf.data(), buf.size()), 0u);
        for (unsigned char b : buf) {
            ASSERT_EQ(b, 0xa5);
        }
    }
}

TEST(QueueItem, RejectsEmptyEndpointAndUnknownEnums)
{
    Delivery d = sample();
    d.endpoint.clear();
    EXPECT_STREQ(check(d), "empty endpoint");

    d = sample();
    d.encoding = static_cast<Encoding>(2);
    EXPECT_STREQ(check(d), "unknown encoding");

    d = sample();
    d.urgency = static_cast<Urgency>(5);
    EXPECT_STREQ(check(d), "unknown urgency");

    unsigned char buf[8192];
    EXPECT_EQ(encode(d, buf, sizeof(buf)), 0u);
}

TEST(QueueItem, EncodeNeedsTheWholeSize)
{
    Delivery d = sample();
    std::size_t size = encoded_size(d);
    std::vector<unsigned char> buf(size, 0x5a);
    EXPECT_EQ(encode(d, buf.data(), size - 1), 0u);
    EXPECT_EQ(encode(d, nullptr, size), 0u);
    for (unsigned char b : buf) {
        ASSERT_EQ(b, 0x5a);
    }
    EXPECT_EQ(encode(d, buf.data(), size), size);
}

TEST(QueueItem, WorksAtAnyAlignment)
{
    Delivery d = sample();
    std::size_t size = encoded_size(d);
    std::vector<unsigned char> buf(size + 8);
    for (std::size_t off = 0; off < 8; off++) {
        ASSERT_EQ(encode(d, buf.data() + off, size), size);
        Delivery back;
        ASSERT_TRUE(decode(buf.data() + off, size, back));
        EXPECT_EQ(back, d);
    }
}

TEST(QueueItem, DecodeChecksBounds)
{
    Delivery d = sample();
    std::vector<unsigned char> buf = encoded(d);
    Delivery back;

    EXPECT_FALSE(decode(nullptr, buf.size(), back));
    EXPECT_FALSE(decode(buf.data(), 0, back));
    EXPECT_FALSE(decode(buf.data(), sizeof(ItemHeader) - 1, back));
    EXPECT_FALSE(decode(buf.data(), buf.size() - 1, back));   // truncated

    std::vector<unsigned char> longer = buf;
    longer.push_back(0);
    EXPECT_FALSE(decode(longer.data(), longer.size(), back)); // trailing

    auto patched = [&](auto mutate) {
        ItemHeader h;
        std::memcpy(&h, buf.data(), sizeof(h));
        mutate(h);
        std::vector<unsigned char> b = buf;
        std::memcpy(b.data(), &h, sizeof(h));
        return decode(b.data(), b.size(), back);
    };

    EXPECT_TRUE(patched([](ItemHeader&) {}));
    EXPECT_FALSE(patched([](ItemHeader& h) { h.encoding = 2; }));
    EXPECT_FALSE(patched([](ItemHeader& h) { h.urgency = 5; }));
    EXPECT_FALSE(patched([](ItemHeader& h) { h.reserved = 1; }));
    EXPECT_FALSE(patched([](ItemHeader& h) { h.endpoint_len = 0; }));
    // lengths moved between fields: same total, still consistent
    EXPECT_TRUE(patched([](ItemHeader& h) {
        h.endpoint_len++;
        h.payload_len--;
    }));
    // a length over its limit is refused even if the total matched
    EXPECT_FALSE(patched([](ItemHeader& h) {
        h.topic_len = static_cast<std::uint8_t>(max_topic + 1);
        h.payload_len = static_cast<std::uint16_t>(
            h.payload_len - (max_topic + 1 - 5));
    }));
    EXPECT_FALSE(patched([](ItemHeader& h) { h.payload_len = 0xffff; }));
}

TEST(QueueItem, ReadHeaderMatchesDecode)
{
    Delivery d = sample();
    std::vector<unsigned char> buf = encoded(d);
    ItemHeader h;
    ASSERT_TRUE(read_header(buf.data(), buf.size(), h));
    EXPECT_EQ(h.delivery_id, d.delivery_id);
    EXPECT_EQ(h.endpoint_len, d.endpoint.size());
    EXPECT_EQ(h.payload_len, d.payload.size());
    EXPECT_EQ(h.topic_len, d.topic.size());
    EXPECT_FALSE(read_header(buf.data(), buf.size() + 1, h));
}

TEST(QueueItemSlab, FootprintFollowsNgxSlab)
{
    const std::size_t page = 4096;
    EXPECT_EQ(slab_footprint(1, page), 8u);
    EXPECT_EQ(slab_footprint(8, page), 8u);
    EXPECT_EQ(slab_footprint(9, page), 16u);
    EXPECT_EQ(slab_footprint(1000, page), 1024u);
    EXPECT_EQ(slab_footprint(1025, page), 2048u);
    EXPECT_EQ(slab_footprint(2048, page), 2048u);
    EXPECT_EQ(slab_footprint(2049, page), 4096u);
    EXPECT_EQ(slab_footprint(4096, page), 4096u);
    EXPECT_EQ(slab_footprint(4097, page), 8192u);
    EXPECT_EQ(slab_footprint(24 + max_encoded_size, page), 8192u);
}

TEST(QueueItemSlab, ItemsThatFit)
{
    EXPECT_EQ(items_that_fit(8 << 20, 1024), 8192u);
    EXPECT_EQ(items_that_fit(1023, 1024), 0u);
    EXPECT_EQ(items_that_fit(0, 1024), 0u);
    EXPECT_EQ(items_that_fit(10, 0), 10u);
}

TEST(QueueItemSlab, AverageRisesAtOnceAndFallsSlowly)
{
    EXPECT_EQ(next_average(0, 512), 512u);
    EXPECT_EQ(next_average(1024, 1024), 1024u);
    EXPECT_EQ(next_average(1024, 8192), 8192u);
    EXPECT_EQ(next_average(1024, 512), 1024u - 64);

    // converges down to a steady size, never undershooting
    std::size_t down = 8192;
    for (int i = 0; i < 200; i++) {
        down = next_average(down, 2048);
        ASSERT_GE(down, 2048u);
    }
    EXPECT_LE(down - 2048, 8u);
}

TEST(QueueItemStats, CounterNamesAreDistinct)
{
    std::set<std::string> names;
    for (std::size_t i = 0; i < counter_count; i++) {
        names.insert(counter_name(static_cast<Counter>(i)));
    }
    EXPECT_EQ(names.size(), counter_count);
    EXPECT_EQ(names.count("unknown"), 0u);
    EXPECT_STREQ(counter_name(Counter::sent), "sent");
    EXPECT_STREQ(counter_name(Counter::gone), "gone");

    Stats st{};
    st.counters[static_cast<std::size_t>(Counter::expired)] = 3;
    EXPECT_EQ(st.count(Counter::expired), 3u);
}
