#include "sender/log_limit.hpp"

namespace webpush::sender {

LogLimiter::Verdict
LogLimiter::check(std::string_view key, std::int64_t now_ms)
{
    Verdict v;
    auto it = keys_.find(std::string(key));

    if (it != keys_.end()) {
        if (now_ms - it->second.logged_ms < window_ms_) {
            it->second.suppressed++;
            return v;
        }

        v.log = true;
        v.suppressed = it->second.suppressed;
        it->second = Entry{now_ms, 0};
        return v;
    }

    if (keys_.size() >= max_keys_) {
        for (auto i = keys_.begin(); i != keys_.end(); /* void */) {
            if (now_ms - i->second.logged_ms >= window_ms_) {
                i = keys_.erase(i);
            } else {
                ++i;
            }
        }

        if (keys_.size() >= max_keys_) {
            keys_.clear();
        }
    }

    keys_.emplace(std::string(key), Entry{now_ms, 0});
    v.log = true;
    return v;
}

} // namespace webpush::sender
