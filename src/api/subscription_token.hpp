// Subscription tokens (webpush_subscription_token_secret): the site's
// application, which knows who its user is, mints a short-lived token for
// one group; the browser sends it as attributes.token; the module checks
// it without a database or a call back to the application.
//
//   token   = expiry "." base64url(HMAC-SHA256(secret, message))
//   message = group.name "\n" group.identifier "\n" expiry
//
// expiry: Unix time in seconds, decimal, 1 to 12 digits, no sign, no
// leading zero; the token is valid while now < expiry. The MAC is unpadded
// base64url (43 characters). A null identifier is signed as the empty
// string, so one token covers both a null and an empty identifier. A name
// or identifier containing "\n" is never valid: the message would be
// ambiguous ("a\nb" + "c" and "a" + "b\nc").
//
// Pure code (OpenSSL only); nothing here logs, so neither the secret nor
// a token can end up in a log.

#ifndef WEBPUSH_API_SUBSCRIPTION_TOKEN_HPP
#define WEBPUSH_API_SUBSCRIPTION_TOKEN_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace webpush::api {

inline constexpr std::size_t kTokenMacLength = 43;       // base64url of 32
inline constexpr std::size_t kTokenMaxExpiryDigits = 12;
inline constexpr std::size_t kTokenSecretMinLength = 32;

// The two parts of a token, borrowed from it.
struct ParsedToken {
    std::string_view expiry_text;  // the digits, as signed
    std::int64_t expiry = 0;
    std::string_view mac;          // 43 base64url characters
};

// Syntax only: "<digits>.<43 base64url characters>", nothing else.
std::optional<ParsedToken> parse_subscription_token(std::string_view token);

enum class TokenStatus {
    Valid,
    Missing,       // no token in the request
    Malformed,     // not the syntax above, or a "\n" in the group
    BadSignature,  // wrong secret, or minted for another group
    Expired,       // genuine, but now >= expiry
};

// Why a token was refused, for the error log (never the token itself).
const char* token_status_text(TokenStatus s) noexcept;

// Checks a token against the group it must be for. The MAC is compared in
// constant time (CRYPTO_memcmp) before the expiry is looked at, so that
// "expired" is only ever said of a genuine token. Never throws.
TokenStatus check_subscription_token(
    std::string_view secret, std::optional<std::string_view> token,
    std::string_view group_name,
    std::optional<std::string_view> group_identifier,
    std::int64_t now) noexcept;

// What the application computes: the token for a group and an expiry (for
// tests and tools). Empty when the group contains "\n", expiry is outside
// 1..10^12-1, or OpenSSL fails.
std::string mint_subscription_token(
    std::string_view secret, std::string_view group_name,
    std::optional<std::string_view> group_identifier, std::int64_t expiry);

}  // namespace webpush::api

#endif
