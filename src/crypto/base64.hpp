// Base64 for Web Push: the one implementation used by all pure code.
//
// Web Push emits unpadded base64url everywhere (JWT parts, the VAPID "k="
// key, legacy "dh=" and "salt=" values), but subscriptions stored by real
// clients also arrive as standard base64, with or without "=" padding,
// so decoding is deliberately lenient about the alphabet and padding while
// still rejecting anything that is not base64 at all.

#ifndef WEBPUSH_CRYPTO_BASE64_HPP
#define WEBPUSH_CRYPTO_BASE64_HPP

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace webpush::crypto {

using Bytes = std::vector<uint8_t>;

// Unpadded base64url (RFC 4648 §5) of len bytes at data.  Like everything
// in src/crypto these never throw; should memory run out the result is
// empty (encode) or nullopt (decode).
std::string base64url_encode(const uint8_t *data, size_t len);
std::string base64url_encode(const Bytes &data);
std::string base64url_encode(std::string_view data);

// Decodes base64url or standard base64 (either alphabet, both may even be
// mixed), padded or unpadded.  Returns nullopt for any other character
// (whitespace included), misplaced or excess "=", or a length that no
// encoding can produce (4n+1 characters).  The empty string decodes to
// no bytes.
std::optional<Bytes> base64_decode(std::string_view in);

}  // namespace webpush::crypto

#endif
