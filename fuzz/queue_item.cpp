// Items of the shared-memory send queue (queue/item.hpp): decode of
// arbitrary bytes (a re-encoded accepted item must be the same bytes), and
// a Delivery built from the input encoded at an odd address and decoded
// back (must be equal), plus the slab arithmetic.

#include <cstring>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "fuzz_common.hpp"
#include "queue/item.hpp"

using namespace webpush::queue;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size)
{
    // 1. The raw bytes as an item.
    {
        // A copy of exactly size bytes, so that ASan sees any over-read.
        std::vector<std::uint8_t> raw(data, data + size);
        Delivery d;
        if (decode(raw.data(), raw.size(), d)) {
            FUZZ_CHECK(check(d) == nullptr, "a decoded item passes check");
            FUZZ_CHECK(encoded_size(d) == size, "size");
            std::vector<std::uint8_t> again(size);
            FUZZ_CHECK(encode(d, again.data(), again.size()) == size,
                       "re-encodes");
            FUZZ_CHECK(std::memcmp(again.data(), raw.data(), size) == 0,
                       "decode/encode is the identity on accepted items");
        }
    }

    // 2. A Delivery from the input, round trip.
    FuzzedDataProvider in(data, size);
    Delivery d;
    d.delivery_id = in.ConsumeIntegral<std::uint64_t>();
    d.batch_id = in.ConsumeIntegral<std::uint64_t>();
    d.claim = in.ConsumeIntegral<std::uint32_t>();
    d.notification_id = in.ConsumeIntegral<std::int64_t>();
    d.subscription_id = in.ConsumeIntegral<std::int64_t>();
    d.attempts = in.ConsumeIntegral<std::uint32_t>();
    d.ttl = in.ConsumeIntegral<std::int32_t>();
    d.deadline_ms = in.ConsumeIntegral<std::int64_t>();
    d.lease_until_ms = in.ConsumeIntegral<std::int64_t>();
    d.encoding = static_cast<Encoding>(in.ConsumeIntegralInRange<int>(0, 2));
    d.urgency = static_cast<Urgency>(in.ConsumeIntegralInRange<int>(0, 5));
    std::size_t offset = in.ConsumeIntegralInRange<std::size_t>(0, 7);
    d.endpoint = in.ConsumeRandomLengthString(max_endpoint + 2);
    d.p256dh = in.ConsumeRandomLengthString(max_p256dh + 2);
    d.auth = in.ConsumeRandomLengthString(max_auth + 2);
    d.topic = in.ConsumeRandomLengthString(max_topic + 2);
    d.payload = in.ConsumeRemainingBytesAsString();

    std::vector<std::uint8_t> buf(offset + max_encoded_size);
    std::size_t n = encode(d, buf.data() + offset, buf.size() - offset);
    if (check(d) != nullptr) {
        FUZZ_CHECK(n == 0, "a refused delivery is not encoded");
    } else {
        FUZZ_CHECK(n == encoded_size(d) && n <= max_encoded_size, "size");
        FUZZ_CHECK(encode(d, buf.data() + offset, n - 1) == 0,
                   "a short buffer is refused");
        std::vector<std::uint8_t> exact(buf.begin() + offset,
                                        buf.begin() + offset + n);
        Delivery back;
        FUZZ_CHECK(decode(exact.data(), exact.size(), back), "decodes");
        FUZZ_CHECK(back == d, "round trip");
        FUZZ_CHECK(!decode(exact.data(), exact.size() - 1, back),
                   "a truncated item is refused");
        ItemHeader h;
        FUZZ_CHECK(read_header(buf.data() + offset, n, h), "header");
        FUZZ_CHECK(slab_footprint(n, 4096) >= n, "slab footprint");
    }

    std::size_t free_bytes = static_cast<std::size_t>(d.delivery_id);
    std::size_t item = static_cast<std::size_t>(d.attempts);
    FUZZ_CHECK(items_that_fit(free_bytes, item) * (item == 0 ? 1 : item)
                   <= free_bytes,
               "items_that_fit");
    std::size_t avg = next_average(static_cast<std::size_t>(d.ttl < 0 ? 0 : d.ttl),
                                   item);
    (void)avg;
    return 0;
}
