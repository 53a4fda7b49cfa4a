#include "sender/write_back.hpp"

#include <algorithm>
#include <iterator>

namespace webpush::sender {

std::string
PendingOutcome::label() const
{
    if (id != 0) {
        return std::to_string(id);
    }

    return std::to_string(notification) + "/" + std::to_string(subscription);
}


std::size_t WriteBack::size() const
{
    std::size_t n = fresh_.size();

    for (const auto &b : parts_) {
        n += b.items.size();
    }

    return n;
}

std::optional<WriteBatch> WriteBack::take(std::int64_t now_ms)
{
    if (delay_ms_ > 0 && now_ms < not_before_ms_) {
        return std::nullopt;
    }

    if (!parts_.empty()) {
        WriteBatch b = std::move(parts_.front());
        parts_.pop_front();
        return b;
    }

    if (fresh_.empty()) {
        return std::nullopt;
    }

    WriteBatch b;
    std::size_t n = std::min(fresh_.size(), batch_max_);

    b.items.assign(std::make_move_iterator(fresh_.begin()),
                   std::make_move_iterator(fresh_.begin() + n));
    fresh_.erase(fresh_.begin(), fresh_.begin() + n);

    return b;
}

void WriteBack::written()
{
    delay_ms_ = 0;
    not_before_ms_ = 0;
}

Refusal WriteBack::refused(WriteBatch batch, bool data, std::int64_t now_ms)
{
    if (!data) {
        /* the same batch again, first, once the hold is over */
        delay_ms_ = delay_ms_ == 0 ? first_delay_ms
                                   : std::min(delay_ms_ * 2, max_delay_ms);
        not_before_ms_ = now_ms + delay_ms_;

        if (batch.split) {
            parts_.push_front(std::move(batch));

        } else {
            fresh_.insert(fresh_.begin(),
                          std::make_move_iterator(batch.items.begin()),
                          std::make_move_iterator(batch.items.end()));
        }

        return Refusal::backoff;
    }

    /* the database answered: not a reason to hold other writes */

    if (batch.items.size() > 1) {
        std::size_t half = batch.items.size() / 2;
        WriteBatch a;
        WriteBatch b;

        a.split = true;
        b.split = true;
        a.items.assign(std::make_move_iterator(batch.items.begin()),
                       std::make_move_iterator(batch.items.begin() + half));
        b.items.assign(std::make_move_iterator(batch.items.begin() + half),
                       std::make_move_iterator(batch.items.end()));

        parts_.push_front(std::move(b));
        parts_.push_front(std::move(a));

        return Refusal::split;
    }

    if (batch.items.size() == 1 && batch.items.front().error) {
        batch.items.front().error.reset();
        batch.split = true;
        parts_.push_front(std::move(batch));

        return Refusal::stripped;
    }

    return Refusal::dropped;
}

} // namespace webpush::sender
