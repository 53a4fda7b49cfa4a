// The subscription payload exactly as the reference stores it, so that
// payload_checksum (and with it duplicate detection, error 5003) agrees
// with rows that Spryker itself wrote into the same database.
//
// The reference decodes the request with json_decode(..., true) into a PHP
// array and stores json_encode($payload, JSON_HEX_TAG | JSON_HEX_APOS |
// JSON_HEX_AMP | JSON_HEX_QUOT). Reproduced here:
//   - "/" → "\/"; '<' '>' '\'' '&' '"' → \u003C \u003E \u0027 \u0026
//     \u0022 (upper case hex, as PHP writes these);
//   - '\\' → "\\\\"; \b \f \n \r \t short escapes; other control
//     characters → \u00xx (lower case hex);
//   - every non-ASCII code point → \uxxxx (lower case hex), above the BMP
//     as a UTF-16 surrogate pair;
//   - key order kept;
//   - an object decodes to a PHP array, so an empty object is written
//     "[]" and an object whose keys are exactly "0", "1", ... "n-1" in
//     that order is written as a JSON list (PHP turns such keys into
//     integers and the array is then a list);
//   - integers in decimal;
//   - floats as PHP does with serialize_precision = -1: the shortest
//     digits that round-trip, fixed notation when the decimal exponent is
//     in [-4, 17), else "d.ddde+X" (e.g. 0.1 → "0.1", 1.0 → "1",
//     1e25 → "1.0e+25", 1e-5 → "1.0e-5"). jansson's own real formatting
//     (%.17g) would print 0.1 as 0.10000000000000001 and break checksum
//     equality, so it is not used.
// Known differences, all in inputs our reader rejects anyway: integers
// beyond 64 bits (PHP turns them into floats, jansson refuses them),
// duplicate keys, NUL characters.

#ifndef WEBPUSH_API_PHP_JSON_HPP
#define WEBPUSH_API_PHP_JSON_HPP

#include <optional>
#include <string>
#include <string_view>

#include <jansson.h>

namespace webpush::api {

// nullopt for NaN/infinite reals (jansson never produces them from text)
// or nesting deeper than PHP's default 512.
std::optional<std::string> php_json_encode(const json_t* value);

// How PHP's json_encode prints one float (see above). Exposed for tests.
std::string php_float_repr(double v);

// Lowercase hex MD5 of the bytes; empty on an OpenSSL failure (e.g. MD5
// disabled by a FIPS-only configuration).
std::string md5_hex(std::string_view data);

}  // namespace webpush::api

#endif
