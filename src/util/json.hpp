// Small RAII and string helpers around jansson, shared by the JSON:API code
// and the sender.
// No nginx headers: this is compiled into the unit tests as well.

#ifndef WEBPUSH_UTIL_JSON_HPP
#define WEBPUSH_UTIL_JSON_HPP

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <jansson.h>

namespace webpush::util {

struct JsonDeleter {
    void operator()(json_t* j) const noexcept { json_decref(j); }
};

// Owns one jansson reference. Borrowed pointers stay plain json_t*.
using JsonPtr = std::unique_ptr<json_t, JsonDeleter>;

// Takes a new reference to a borrowed value (nullptr stays nullptr).
JsonPtr json_share(json_t* j) noexcept;

// A jansson string that never fails on bad input: bytes that are not valid
// UTF-8 become U+FFFD, because values we echo back may come from a database
// with another encoding or from jansson's own error text (which quotes raw
// input). Returns nullptr only when out of memory.
json_t* json_str(std::string_view s) noexcept;

// Replaces every byte sequence that is not valid UTF-8 with U+FFFD.
std::string utf8_sanitize(std::string_view s);

// Number of code points (what PHP's mb_strlen and PostgreSQL's
// varchar(n) count), or npos when s is not valid UTF-8.
std::size_t utf8_length(std::string_view s) noexcept;

bool utf8_valid(std::string_view s) noexcept;

// Decodes the code point starting at s[i] into cp and returns its length
// in bytes, or 0 when the bytes there are not valid UTF-8 (overlong forms,
// surrogates and values above U+10FFFF are invalid).
std::size_t utf8_decode(std::string_view s, std::size_t i,
                        char32_t& cp) noexcept;

// Compact dump (no spaces, key order kept, UTF-8 unescaped, "/" not
// escaped). Empty string when jansson fails (out of memory).
std::string json_compact(const json_t* j);

}  // namespace webpush::util

#endif
