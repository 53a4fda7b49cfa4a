#include "sender/retry.hpp"

#include "sender/outcome_text.hpp"

#include <algorithm>
#include <random>

namespace webpush::sender {

namespace {

bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b)
{
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); i++) {
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

// days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant)
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool leap(std::int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(std::int64_t y, unsigned m)
{
    static const unsigned days[] = {31, 28, 31, 30, 31, 30,
                                    31, 31, 30, 31, 30, 31};
    return (m == 2 && leap(y)) ? 29 : days[m - 1];
}

std::int64_t year_of(std::int64_t unix_time)
{
    // civil_from_days, year only
    std::int64_t z = (unix_time >= 0 ? unix_time : unix_time - 86399) / 86400;
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
}

const char* const short_days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
                                  "Sun"};
const char* const long_days[] = {"Monday", "Tuesday", "Wednesday",
                                 "Thursday", "Friday", "Saturday", "Sunday"};
const char* const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

class Cursor {
public:
    explicit Cursor(std::string_view s) : s_(s) {}

    bool done() const { return pos_ == s_.size(); }

    bool literal(char c)
    {
        if (pos_ < s_.size() && s_[pos_] == c) {
            pos_++;
            return true;
        }
        return false;
    }

    bool literal(std::string_view word)
    {
        if (s_.size() - pos_ >= word.size()
            && iequals(s_.substr(pos_, word.size()), word))
        {
            pos_ += word.size();
            return true;
        }
        return false;
    }

    // exactly n digits
    bool digits(unsigned n, unsigned& out)
    {
        if (s_.size() - pos_ < n) {
            return false;
        }
        unsigned v = 0;
        for (unsigned i = 0; i < n; i++) {
            char c = s_[pos_ + i];
            if (!is_digit(c)) {
                return false;
            }
            v = v * 10 + static_cast<unsigned>(c - '0');
        }
        pos_ += n;
        out = v;
        return true;
    }

    // a run of letters
    std::string_view word()
    {
        std::size_t start = pos_;
        while (pos_ < s_.size()
               && ((s_[pos_] >= 'a' && s_[pos_] <= 'z')
                   || (s_[pos_] >= 'A' && s_[pos_] <= 'Z')))
        {
            pos_++;
        }
        return s_.substr(start, pos_ - start);
    }

    bool month(unsigned& out)
    {
        for (unsigned i = 0; i < 12; i++) {
            if (literal(std::string_view(months[i]))) {
                out = i + 1;
                return true;
            }
        }
        return false;
    }

    // HH:MM:SS
    bool time_of_day(unsigned& h, unsigned& m, unsigned& s)
    {
        return digits(2, h) && literal(':') && digits(2, m) && literal(':')
               && digits(2, s) && h < 24 && m < 60 && s <= 60;
    }

private:
    std::string_view s_;
    std::size_t pos_ = 0;
};

bool one_of(std::string_view w, const char* const* names, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (iequals(w, names[i])) {
            return true;
        }
    }
    return false;
}

std::optional<std::int64_t> make_time(std::int64_t year, unsigned month,
                                      unsigned day, unsigned h, unsigned m,
                                      unsigned s)
{
    if (year < 1 || month < 1 || month > 12 || day < 1
        || day > days_in_month(year, month))
    {
        return std::nullopt;
    }
    return days_from_civil(year, month, day) * 86400 + h * 3600 + m * 60 + s;
}

} // namespace

const char* outcome_name(Outcome o) noexcept
{
    switch (o) {
    case Outcome::sent:
        return "sent";
    case Outcome::gone:
        return "gone";
    case Outcome::failed:
        return "failed";
    case Outcome::retry:
        return "retry";
    }
    return "failed";
}

Outcome classify(unsigned status) noexcept
{
    if (status == 0) {
        return Outcome::retry;
    }
    if (status >= 200 && status < 300) {
        return Outcome::sent;
    }
    if (status == 404 || status == 410) {
        return Outcome::gone;
    }
    if (status == 406 || status == 429 || (status >= 500 && status < 600)) {
        return Outcome::retry;
    }
    return Outcome::failed;
}

std::optional<std::int64_t> parse_http_date(std::string_view s,
                                            std::int64_t now) noexcept
{
    s = trim(s);
    Cursor c(s);
    unsigned day = 0;
    unsigned month = 0;
    unsigned year = 0;
    unsigned h = 0;
    unsigned m = 0;
    unsigned sec = 0;

    std::string_view dayname = c.word();

    if (c.literal(',')) {
        if (!c.literal(' ')) {
            return std::nullopt;
        }

        if (one_of(dayname, short_days, 7)) {
            // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
            if (!(c.digits(2, day) && c.literal(' ') && c.month(month)
                  && c.literal(' ') && c.digits(4, year) && c.literal(' ')
                  && c.time_of_day(h, m, sec) && c.literal(' ')
                  && c.literal(std::string_view("GMT")) && c.done()))
            {
                return std::nullopt;
            }
            return make_time(year, month, day, h, m, sec);
        }

        if (one_of(dayname, long_days, 7)) {
            // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
            unsigned yy = 0;
            if (!(c.digits(2, day) && c.literal('-') && c.month(month)
                  && c.literal('-') && c.digits(2, yy) && c.literal(' ')
                  && c.time_of_day(h, m, sec) && c.literal(' ')
                  && c.literal(std::string_view("GMT")) && c.done()))
            {
                return std::nullopt;
            }

            // the year with these two digits in the current century, or
            // in the previous one when that would be > 50 years ahead
            std::int64_t now_year = year_of(now);
            std::int64_t full = now_year - now_year % 100 + yy;
            if (full > now_year + 50) {
                full -= 100;
            }
            return make_time(full, month, day, h, m, sec);
        }

        return std::nullopt;
    }

    if (!one_of(dayname, short_days, 7)) {
        return std::nullopt;
    }

    // asctime: Sun Nov  6 08:49:37 1994 (day padded with a space)
    if (!(c.literal(' ') && c.month(month) && c.literal(' '))) {
        return std::nullopt;
    }
    if (c.literal(' ')) {
        if (!c.digits(1, day)) {
            return std::nullopt;
        }
    } else if (!c.digits(2, day)) {
        return std::nullopt;
    }
    if (!(c.literal(' ') && c.time_of_day(h, m, sec) && c.literal(' ')
          && c.digits(4, year) && c.done()))
    {
        return std::nullopt;
    }
    return make_time(year, month, day, h, m, sec);
}

std::optional<std::int64_t> parse_retry_after(std::string_view value,
                                              std::int64_t now) noexcept
{
    value = trim(value);
    if (value.empty()) {
        return std::nullopt;
    }

    if (is_digit(value.front())) {
        std::int64_t n = 0;
        for (char ch : value) {
            if (!is_digit(ch)) {
                return std::nullopt;
            }
            if (n < max_retry_after) {
                n = n * 10 + (ch - '0');
            }
        }
        return std::min(n, max_retry_after);
    }

    auto date = parse_http_date(value, now);
    if (!date) {
        return std::nullopt;
    }
    return std::clamp<std::int64_t>(*date - now, 0, max_retry_after);
}

RandomSource default_random()
{
    return [](std::uint64_t bound) -> std::uint64_t {
        thread_local std::mt19937_64 engine(std::random_device{}());
        return std::uniform_int_distribution<std::uint64_t>(0, bound)(engine);
    };
}

std::int64_t backoff_ms(const RetryPolicy& policy, unsigned failed_attempts,
                        const RandomSource& random)
{
    std::int64_t base = std::max<std::int64_t>(policy.base_ms, 0);
    std::int64_t cap = std::max<std::int64_t>(policy.cap_ms, 0);
    std::int64_t ceiling = std::min(base, cap);

    for (unsigned i = 1; i < failed_attempts && ceiling < cap; i++) {
        ceiling = std::min(ceiling * 2, cap);
    }

    if (ceiling <= 0) {
        return 0;
    }

    std::uint64_t r = random(static_cast<std::uint64_t>(ceiling));
    return static_cast<std::int64_t>(
        std::min<std::uint64_t>(r, static_cast<std::uint64_t>(ceiling)));
}

std::int64_t remaining_ttl(std::int64_t original_ttl,
                           std::int64_t waited) noexcept
{
    if (original_ttl <= 0 || waited >= original_ttl) {
        return 0;
    }
    return original_ttl - std::max<std::int64_t>(waited, 0);
}

Decision decide(const RetryPolicy& policy, unsigned status,
                std::string_view retry_after, unsigned attempts,
                std::int64_t original_ttl, std::int64_t waited,
                std::int64_t now, const RandomSource& random)
{
    Answer a;
    a.status = status;
    a.retry_after = retry_after;
    return decide(policy, a, attempts, original_ttl, waited, now, random);
}

Decision decide(const RetryPolicy& policy, const Answer& answer,
                unsigned attempts, std::int64_t original_ttl,
                std::int64_t waited, std::int64_t now,
                const RandomSource& random)
{
    unsigned status = answer.status;
    std::string_view retry_after = answer.retry_after;
    Decision d;
    d.outcome = classify(status);

    switch (d.outcome) {
    case Outcome::sent:
        d.reason = "accepted";
        return d;
    case Outcome::gone:
        d.reason = "subscription gone";
        return d;
    case Outcome::failed:
        d.reason = status == 413 ? "payload too large"
                   : (status == 401 || status == 403) ? "credentials refused"
                   : "rejected";
        return d;
    case Outcome::retry:
        break;
    }

    // sending again cannot help (the push service's address is refused)
    if (status == 0 && answer.permanent) {
        d.outcome = Outcome::failed;
        d.reason = "not retried";
        return d;
    }

    if (attempts >= policy.max_attempts) {
        d.outcome = Outcome::failed;
        d.reason = "attempts exhausted";
        return d;
    }

    // autopush asks for an immediate retry: its node is only busy now
    bool now_please = status == 503
                      && json_number_member(answer.body, "errno")
                         == autopush_retry_now;

    std::int64_t delay = now_please
                         ? 0
                         : backoff_ms(policy, attempts == 0 ? 1 : attempts,
                                      random);

    if (!retry_after.empty()) {
        auto ra = parse_retry_after(retry_after, now);
        if (ra && *ra * 1000 > delay) {
            delay = *ra * 1000;
        }
    }

    // seconds of lifetime left when the next attempt goes out, rounded up
    std::int64_t left_ms = remaining_ttl(original_ttl, waited) * 1000 - delay;
    if (left_ms <= 0) {
        d.outcome = Outcome::failed;
        d.reason = "expired in queue";
        return d;
    }

    d.delay_ms = delay;
    d.ttl = (left_ms + 999) / 1000;
    d.reason = status == 0 ? "transport error"
               : (status == 429 || status == 406) ? "rate limited"
               : now_please ? "server busy, retry now"
               : "server error";
    return d;
}

} // namespace webpush::sender
