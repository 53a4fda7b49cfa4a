#include "util/rfc3339.hpp"

#include <cstdio>

namespace webpush::util {

namespace {

constexpr std::int64_t kUsPerSecond = 1000000;

bool leap(std::int64_t y) noexcept
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(std::int64_t y, int m) noexcept
{
    static const int kDays[] = {31, 28, 31, 30, 31, 30,
                                31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant)
std::int64_t days_from_civil(std::int64_t y, int m, int d) noexcept
{
    y -= m <= 2;
    std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    std::int64_t yoe = y - era * 400;
    std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, int& m, int& d)
    noexcept
{
    z += 719468;
    std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    std::int64_t doe = z - era * 146097;
    std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    std::int64_t mp = (5 * doy + 2) / 153;
    d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
    m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
    y = yoe + era * 400 + (m <= 2);
}

// exactly n digits at s[pos], advancing pos
bool digits(std::string_view s, std::size_t& pos, std::size_t n,
            int& out) noexcept
{
    if (pos + n > s.size()) {
        return false;
    }
    int v = 0;
    for (std::size_t i = 0; i < n; i++) {
        char c = s[pos + i];
        if (c < '0' || c > '9') {
            return false;
        }
        v = v * 10 + (c - '0');
    }
    pos += n;
    out = v;
    return true;
}

bool literal(std::string_view s, std::size_t& pos, char c) noexcept
{
    if (pos >= s.size() || s[pos] != c) {
        return false;
    }
    pos++;
    return true;
}

}  // namespace

std::optional<std::int64_t> parse_rfc3339(std::string_view s) noexcept
{
    std::size_t pos = 0;
    int year, month, day, hour, minute, second;

    if (!digits(s, pos, 4, year) || !literal(s, pos, '-')
        || !digits(s, pos, 2, month) || !literal(s, pos, '-')
        || !digits(s, pos, 2, day)) {
        return std::nullopt;
    }
    if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't')) {
        return std::nullopt;
    }
    pos++;
    if (!digits(s, pos, 2, hour) || !literal(s, pos, ':')
        || !digits(s, pos, 2, minute) || !literal(s, pos, ':')
        || !digits(s, pos, 2, second)) {
        return std::nullopt;
    }
    if (year < 1 || month < 1 || month > 12 || day < 1
        || day > days_in_month(year, month) || hour > 23 || minute > 59
        || second > 59) {
        return std::nullopt;
    }

    std::int64_t fraction = 0;
    if (pos < s.size() && s[pos] == '.') {
        pos++;
        std::size_t n = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (n < 6) {
                fraction = fraction * 10 + (s[pos] - '0');
            }
            n++;
            pos++;
        }
        if (n == 0 || n > 9) {
            return std::nullopt;
        }
        for (; n < 6; n++) {
            fraction *= 10;
        }
    }

    std::int64_t offset = 0;
    if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
        pos++;
    } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
        int sign = s[pos] == '-' ? -1 : 1;
        int oh, om;
        pos++;
        if (!digits(s, pos, 2, oh) || !literal(s, pos, ':')
            || !digits(s, pos, 2, om) || oh > 23 || om > 59) {
            return std::nullopt;
        }
        offset = sign * (oh * 3600 + om * 60);
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) {
        return std::nullopt;
    }

    std::int64_t secs = days_from_civil(year, month, day) * 86400
                        + hour * 3600 + minute * 60 + second - offset;
    return secs * kUsPerSecond + fraction;
}

std::string format_rfc3339(std::int64_t unix_us)
{
    std::int64_t secs = unix_us / kUsPerSecond;
    std::int64_t us = unix_us % kUsPerSecond;
    if (us < 0) {
        us += kUsPerSecond;
        secs--;
    }
    std::int64_t days = secs / 86400;
    std::int64_t rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    std::int64_t y;
    int m, d;
    civil_from_days(days, y, m, d);
    if (y < 1 || y > 9999) {
        return {};
    }

    char buf[40];
    int n = std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d",
                          static_cast<int>(y), m, d,
                          static_cast<int>(rem / 3600),
                          static_cast<int>(rem / 60 % 60),
                          static_cast<int>(rem % 60));
    std::string out(buf, static_cast<std::size_t>(n));
    if (us != 0) {
        std::snprintf(buf, sizeof(buf), ".%06d", static_cast<int>(us));
        std::string f(buf);
        while (f.back() == '0') {
            f.pop_back();
        }
        out += f;
    }
    return out + "Z";
}

}  // namespace webpush::util
