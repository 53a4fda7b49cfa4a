#include "sender/backlog.hpp"

#include <algorithm>

namespace webpush::sender {

namespace {

constexpr std::int64_t  window_ms = 1000;

} // namespace


Backlog::Backlog(std::size_t floor, std::size_t cap, std::int64_t lease_ms)
    noexcept
    : floor_(std::min(floor, cap)), cap_(cap), lease_ms_(lease_ms)
{
}


void
Backlog::sample(std::uint64_t popped, std::int64_t now_ms) noexcept
{
    if (!started_ || popped < popped_) {
        /* the first sample, or a new queue zone (a reload) */
        started_ = true;
        popped_ = popped;
        since_ms_ = now_ms;
        return;
    }

    std::int64_t elapsed = now_ms - since_ms_;

    if (elapsed < window_ms) {
        return;
    }

    rate_ = (popped - popped_) * 1000 / static_cast<std::uint64_t>(elapsed);
    popped_ = popped;
    since_ms_ = now_ms;
}


std::size_t
Backlog::target() const noexcept
{
    std::uint64_t want = rate_ * static_cast<std::uint64_t>(lease_ms_)
                         / 4000;

    return static_cast<std::size_t>(
               std::clamp<std::uint64_t>(want, floor_, cap_));
}


std::size_t
Backlog::claim_size(std::size_t depth, std::size_t max) const noexcept
{
    std::size_t want = target();

    if (depth >= want || (depth > 0 && depth > want / 2)) {
        return 0;
    }

    return std::min(want - depth, max);
}

} // namespace webpush::sender
