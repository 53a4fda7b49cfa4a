// Node-wide counters of the send queue, as the status handler reads them.
// Pure C++, no nginx headers; the counters themselves live in the shared
// zone (ngx_webpush_queue.*).

#ifndef WEBPUSH_QUEUE_STATS_HPP
#define WEBPUSH_QUEUE_STATS_HPP

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace webpush::queue {

// Monotonic node-wide counters (since the zone was created; they survive
// a reload that keeps webpush_queue_size).  The sender bumps the
// outcomes; push() and pop() bump the queue's own.
enum class Counter : unsigned {
    sent,          // 2xx from the push service
    failed,        // 413, other 4xx, attempts used up
    retried,       // 429, 5xx, transport errors: scheduled again
    gone,          // 404/410: subscription expired
    expired,       // the message's deadline passed before it was sent
    pushed,        // items queued (push() == Push::queued)
    popped,        // items taken by pop()
    full,          // push() refused for want of room (back-pressure)
    rejected,      // push() refused an invalid item (a bug upstream)
    corrupt,       // items pop() could not decode (never expected)
};

constexpr std::size_t counter_count =
    static_cast<std::size_t>(Counter::corrupt) + 1;

// A snapshot of the queue, for the status handler.
struct Stats {
    std::uint64_t depth;            // items waiting
    std::uint64_t high_water;       // largest depth seen
    std::uint64_t capacity_bytes;   // slab pages for items, when created
    std::uint64_t free_bytes;       // whole free slab pages, in bytes
    std::uint64_t used_bytes;       // slab footprint of the waiting items
    std::uint64_t avg_item_bytes;   // moving average footprint of an item
    std::uint64_t room;             // items of that size that still fit
    std::uint64_t generation;       // bumped by every successful push
    std::int64_t in_flight;         // popped and not finished, all workers
    std::uint64_t workers;          // live processes attached to the zone
    std::uint64_t counters[counter_count];

    std::uint64_t count(Counter c) const noexcept
    {
        return counters[static_cast<std::size_t>(c)];
    }
};

static_assert(std::is_standard_layout_v<Stats>);
static_assert(std::is_trivially_copyable_v<Stats>);

// "sent", "failed", ...: names for JSON keys and Prometheus labels.
constexpr const char* counter_name(Counter c) noexcept
{
    switch (c) {
    case Counter::sent: return "sent";
    case Counter::failed: return "failed";
    case Counter::retried: return "retried";
    case Counter::gone: return "gone";
    case Counter::expired: return "expired";
    case Counter::pushed: return "pushed";
    case Counter::popped: return "popped";
    case Counter::full: return "full";
    case Counter::rejected: return "rejected";
    case Counter::corrupt: return "corrupt";
    }
    return "unknown";
}

}  // namespace webpush::queue

#endif
