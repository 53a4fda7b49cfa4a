/*
 * Texts about a push attempt that end up in the error log and in
 * webpush_delivery.last_error.  They come from the push service (headers,
 * bodies) and from the network: any bytes at all.  PostgreSQL refuses a
 * text parameter that is not valid UTF-8 (SQLSTATE 22021) or holds a NUL,
 * and a log line must not carry escape sequences, so every such text is
 * sanitized first.  Pure C++, no nginx headers.
 */

#ifndef WEBPUSH_SENDER_OUTCOME_TEXT_HPP
#define WEBPUSH_SENDER_OUTCOME_TEXT_HPP

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace webpush::sender {

/* the longest error text stored or logged, in bytes */
constexpr std::size_t max_error_text = 200;

/*
 * Valid UTF-8 of at most max_bytes bytes: each invalid sequence (a stray
 * or truncated byte, an overlong form, a surrogate, beyond U+10FFFF)
 * becomes U+FFFD, each control character (C0, DEL, C1, NUL included)
 * '?'; the text is cut before the first character that would not fit.
 */
std::string sanitize_text(std::string_view in,
                          std::size_t max_bytes = max_error_text);

/*
 * The value of a top-level-or-nested member "name" of a JSON text, found
 * by scanning (push services' error bodies are small and flat): the
 * string's content (escapes other than \" and \\ kept as written) or the
 * number's digits; nothing when absent or of another type.
 */
std::optional<std::string> json_string_member(std::string_view json,
                                              std::string_view name);
std::optional<long> json_number_member(std::string_view json,
                                       std::string_view name);

/*
 * Why a push service refused, from its error body: Apple's
 * {"reason":"BadJwtToken"}, a JSON "message", or else the first line of
 * a text body; sanitized, at most 100 bytes; empty when there is none.
 */
std::string push_service_reason(std::string_view body);

/*
 * The error text of an attempt that was not accepted:
 *   "<status>" or "no answer", then ": <error>" (the client's),
 *   " (X-WNS-Error-Description: <wns>)", " (<reason>)"
 * sanitized as a whole (max_error_text).
 */
std::string describe_failure(unsigned status, std::string_view error,
                             std::string_view wns_error,
                             std::string_view reason);

} // namespace webpush::sender

#endif
