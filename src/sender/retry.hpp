// What to do after one push attempt: classify the push service's answer
// (INTERFACE.md §5), parse Retry-After, compute the backoff and the TTL to
// send on the next attempt.  Pure C++, no nginx headers.
//
// Units: TTLs and Retry-After in seconds, delays in milliseconds, "now" as
// Unix time in seconds.

#ifndef WEBPUSH_SENDER_RETRY_HPP
#define WEBPUSH_SENDER_RETRY_HPP

#include <cstdint>
#include <ctime>
#include <functional>
#include <optional>
#include <string_view>

namespace webpush::sender {

enum class Outcome {
    sent,     // 2xx: the push service accepted the message
    gone,     // 404/410: the subscription is dead, expire it at once
    failed,   // 413, other 4xx (not 429), expired TTL, attempts used up
    retry,    // 406 (WNS throttling), 429, 5xx, status 0 (transport
              // error, timeout): try again
};

const char* outcome_name(Outcome o) noexcept;

// status: the HTTP status code, 0 when there was no HTTP answer.
// 1xx and 3xx (push services do not redirect) count as failed.
Outcome classify(unsigned status) noexcept;

// A date in any of the three HTTP-date forms (RFC 9110 §5.6.7):
//   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
//   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"
//   asctime      "Sun Nov  6 08:49:37 1994"
// as Unix time.  "now" resolves RFC 850's two-digit year: a date more than
// 50 years in the future means the most recent past year with those
// digits.  The weekday name must be a valid one but is not cross-checked.
std::optional<std::int64_t> parse_http_date(std::string_view s,
                                            std::int64_t now) noexcept;

// Longest wait a Retry-After may impose.
constexpr std::int64_t max_retry_after = 86400;

// Retry-After (RFC 9110 §10.2.3): delta-seconds or an HTTP-date, as a
// number of seconds from "now", 0 for a date in the past, capped at
// max_retry_after.  Surrounding whitespace is ignored; anything else that
// is not one of the two forms (empty, negative, "1.5", junk) gives
// nothing.
std::optional<std::int64_t> parse_retry_after(std::string_view value,
                                              std::int64_t now) noexcept;

struct RetryPolicy {
    std::int64_t base_ms = 1000;     // first backoff ceiling
    std::int64_t cap_ms = 600000;    // largest backoff ceiling (10 min)
    unsigned max_attempts = 5;       // total, the first one included
};

// A uniformly distributed integer in [0, bound].  Injectable for tests.
using RandomSource = std::function<std::uint64_t(std::uint64_t bound)>;

// A per-thread std::mt19937_64 seeded from std::random_device.
RandomSource default_random();

// Exponential backoff with full jitter after the n-th failed attempt
// (n >= 1): uniform in [0, min(cap, base * 2^(n-1))].
std::int64_t backoff_ms(const RetryPolicy& policy, unsigned failed_attempts,
                        const RandomSource& random);

// TTL left after waiting: original minus waited, never negative.
std::int64_t remaining_ttl(std::int64_t original_ttl,
                           std::int64_t waited) noexcept;

struct Decision {
    Outcome outcome = Outcome::failed;
    std::int64_t delay_ms = 0;   // retry: wait this long before the next try
    std::int64_t ttl = 0;        // retry: the TTL header of the next try
    const char* reason = "";     // why, for logs (static string)
};

// The whole decision after one attempt.
//   status        the answer, 0 for none (transport error or timeout)
//   retry_after   the raw Retry-After header, empty when absent
//   attempts      attempts made so far, this one included (>= 1)
//   original_ttl  the notification's TTL in seconds, as first requested
//   waited        seconds since the delivery was first queued
//   now           Unix time, for an HTTP-date Retry-After
//
// A retryable answer becomes "failed" when the attempts are used up or
// when the message's lifetime would be over by the next attempt
// (original_ttl - waited - delay <= 0; a message queued with TTL 0 is
// therefore never retried): the push service would only drop it, so it
// is reported as expired in queue.  Otherwise the delay is the backoff,
// raised to Retry-After when that is longer, and the next TTL is what is
// left of the original at the time of the next attempt (rounded up to a
// whole second).
Decision decide(const RetryPolicy& policy, unsigned status,
                std::string_view retry_after, unsigned attempts,
                std::int64_t original_ttl, std::int64_t waited,
                std::int64_t now, const RandomSource& random);

// What decide() reads of an answer beyond its status.
struct Answer {
    unsigned status = 0;
    std::string_view retry_after;   // raw Retry-After, empty when absent
    std::string_view body;          // the first bytes of the body
    bool permanent = false;         // no answer, and none would come on
                                    // another try (a refused address)
};

// Mozilla autopush's errno for "retry immediately" in a 503 body
// ({"code":503,"errno":202,...}); errno 201 means back off as usual.
constexpr long autopush_retry_now = 202;

// decide() with what push services say beyond the status:
//   406 (WNS throttling) is retried like 429, Retry-After honoured;
//   503 with autopush errno 202 is retried at once (no backoff; still an
//   attempt, and a Retry-After still wins), errno 201 backs off;
//   401 and 403 (Apple BadJwtToken, VapidPkHashMismatch; FCM) fail, with
//   the reason "credentials refused";
//   a permanent failure without an answer fails at once ("not retried").
Decision decide(const RetryPolicy& policy, const Answer& answer,
                unsigned attempts, std::int64_t original_ttl,
                std::int64_t waited, std::int64_t now,
                const RandomSource& random);

} // namespace webpush::sender

#endif
