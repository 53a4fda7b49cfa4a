/*
 * A log rate limiter keyed by a string (a push service's origin): one
 * line per key per window, and how many were held back meanwhile.  A
 * rotated VAPID key makes every delivery to a push service fail with the
 * same 403; one line a minute says so as well as thousands.  Pure C++.
 */

#ifndef WEBPUSH_SENDER_LOG_LIMIT_HPP
#define WEBPUSH_SENDER_LOG_LIMIT_HPP

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace webpush::sender {

class LogLimiter {
public:
    struct Verdict {
        bool           log = false;
        std::uint64_t  suppressed = 0;   /* held back since the last line */
    };

    explicit LogLimiter(std::int64_t window_ms = 60000,
                        std::size_t max_keys = 1024)
        : window_ms_(window_ms), max_keys_(max_keys) {}

    /*
     * Whether to log for key at now_ms: yes when nothing was logged for
     * it within the window.  Keys beyond max_keys evict those whose
     * window is over, or else all (logging once too often, never never).
     */
    Verdict check(std::string_view key, std::int64_t now_ms);

private:
    struct Entry {
        std::int64_t   logged_ms;
        std::uint64_t  suppressed;
    };

    std::int64_t                            window_ms_;
    std::size_t                             max_keys_;
    std::unordered_map<std::string, Entry>  keys_;
};

} // namespace webpush::sender

#endif
