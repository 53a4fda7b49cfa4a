/*
 * How many claimed deliveries a node keeps waiting in its send queue.
 * Pure C++ (unit tested); the sender feeds it the queue's node-wide
 * "popped" counter at each claim and claims up to target() minus the
 * queue's depth.
 *
 * Enough that the workers never starve between two claims, few enough
 * that each one is started well within its lease: a delivery that waited
 * in the queue for half its lease is not sent (another node may claim it
 * once the lease lapses), so the backlog is what the node started in the
 * last second (its rate) times a quarter of the lease, between a floor
 * (what two claims of a cold node bring) and a cap (twice what its
 * workers keep in flight).  The rate is measured over windows of at
 * least a second; a window without pops lets the target fall to the
 * floor.
 */

#ifndef WEBPUSH_SENDER_BACKLOG_HPP
#define WEBPUSH_SENDER_BACKLOG_HPP

#include <cstddef>
#include <cstdint>

namespace webpush::sender {

class Backlog {
public:
    /* floor <= cap; lease in ms */
    Backlog(std::size_t floor, std::size_t cap, std::int64_t lease_ms)
        noexcept;

    /* the queue's popped counter now */
    void sample(std::uint64_t popped, std::int64_t now_ms) noexcept;

    /* deliveries the queue may hold */
    std::size_t target() const noexcept;

    /*
     * How many to claim now, at most max, with depth in the queue: 0
     * until the queue has drained to half its target (or is empty).  Each
     * claim costs the database a statement and a few index probes per
     * range it takes, and a claim smaller than a range splits it: topping
     * the queue up at every tick made claims of ~100 deliveries out of
     * ranges of 500 (issue 16).
     */
    std::size_t claim_size(std::size_t depth, std::size_t max) const
        noexcept;

    /* pops per second over the last complete window */
    std::uint64_t rate() const noexcept { return rate_; }

private:
    std::size_t    floor_;
    std::size_t    cap_;
    std::int64_t   lease_ms_;
    bool           started_ = false;
    std::uint64_t  popped_ = 0;
    std::int64_t   since_ms_ = 0;
    std::uint64_t  rate_ = 0;
};

} // namespace webpush::sender

#endif
