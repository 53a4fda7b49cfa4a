// The Retry-After header of a push service's answer: parse_retry_after,
// parse_http_date (the whole input as the header value, at several "now"s),
// and decide() with that header.

#include <ctime>
#include <string>

#include "fuzz_common.hpp"
#include "sender/retry.hpp"

using namespace webpush::sender;

namespace {

// IMF-fixdate of t, or "" outside years 1..9999.
std::string imf_fixdate(std::int64_t t)
{
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    if (gmtime_r(&tt, &tm) == nullptr || tm.tm_year + 1900 < 1
        || tm.tm_year + 1900 > 9999) {
        return {};
    }
    char buf[64];
    std::size_t n = std::strftime(buf, sizeof(buf),
                                  "%a, %d %b %Y %H:%M:%S GMT", &tm);
    // strftime pads years below 1000 differently on different libcs.
    if (n != 29) {
        return {};
    }
    return std::string(buf, n);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size)
{
    std::string_view in = webpush_fuzz::as_view(data, size);

    // 1970, 2023, 2100 and the year 9999: RFC 850's two-digit years
    // resolve against these.
    for (std::int64_t now : {std::int64_t{0}, std::int64_t{1700000000},
                             std::int64_t{4102444800},
                             std::int64_t{253402300799}}) {
        auto ra = parse_retry_after(in, now);
        if (ra) {
            FUZZ_CHECK(*ra >= 0 && *ra <= max_retry_after, "range");
        }
        auto date = parse_http_date(in, now);
        if (date) {
            // Years 1..9999 only: four digits, two for RFC 850 near now.
            FUZZ_CHECK(*date >= -62135596800 && *date <= 253402300800,
                       "date range");
            std::string again = imf_fixdate(*date);
            if (!again.empty()) {
                auto back = parse_http_date(again, now);
                FUZZ_CHECK(back && *back == *date,
                           "IMF-fixdate of the result parses back");
            }
        }
    }

    // decide() with this header and a few states derived from the input.
    std::uint64_t h = 1469598103934665603ULL;
    for (std::uint8_t b : in) {
        h = (h ^ b) * 1099511628211ULL;
    }
    RetryPolicy policy;
    policy.base_ms = static_cast<std::int64_t>(h % 5000);
    policy.cap_ms = static_cast<std::int64_t>((h >> 13) % 900000);
    policy.max_attempts = static_cast<unsigned>((h >> 33) % 10);
    RandomSource rnd = [h](std::uint64_t bound) {
        return bound == 0 ? 0 : h % (bound + 1);
    };
    for (unsigned status : {0u, 200u, 404u, 429u, 500u, 503u}) {
        std::int64_t ttl = static_cast<std::int64_t>((h >> 7) % 2147483648ULL);
        std::int64_t waited = static_cast<std::int64_t>((h >> 21) % 100000);
        Decision d = decide(policy, status, in,
                            static_cast<unsigned>(h >> 40) % 12, ttl,
                            waited, 1700000000, rnd);
        if (d.outcome == Outcome::retry) {
            FUZZ_CHECK(d.delay_ms >= 0, "delay");
            FUZZ_CHECK(d.ttl > 0 && d.ttl <= ttl, "next ttl");
        }
        FUZZ_CHECK(d.reason != nullptr, "reason");
    }
    return 0;
}
