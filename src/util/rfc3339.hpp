// RFC 3339 date-times, strictly: what a notification's "sendAt" accepts.
//
//   date-time = YYYY "-" MM "-" DD ("T" / "t") hh ":" mm ":" ss
//               ["." 1*9DIGIT] ("Z" / "z" / ("+" / "-") hh ":" mm)
//
// Every field has exactly its digits; the date must exist (leap years
// included); hours 00-23, minutes 00-59, seconds 00-59 (a leap second,
// 60, is refused: nothing could be scheduled on it); offsets up to
// +-23:59; years 0001-9999.  Fractions beyond microseconds are cut, not
// rounded.  No space for "T", no missing offset, no surrounding blanks.
// No nginx headers: compiled into the unit tests as well.

#ifndef WEBPUSH_UTIL_RFC3339_HPP
#define WEBPUSH_UTIL_RFC3339_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace webpush::util {

// Microseconds since the Unix epoch (UTC), or nullopt when s is not a
// valid RFC 3339 date-time as above.
std::optional<std::int64_t> parse_rfc3339(std::string_view s) noexcept;

// "2026-05-01T12:00:00Z", with ".ffffff" (trailing zeros dropped) when the
// time has a fraction of a second.  Empty for years outside 1-9999.
std::string format_rfc3339(std::int64_t unix_us);

}  // namespace webpush::util

#endif
