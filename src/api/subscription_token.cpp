#include "api/subscription_token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

namespace webpush::api {

namespace {

bool is_b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// The unpadded base64url HMAC of the message, in a fixed-size buffer so
// that checking a token allocates nothing (the check is noexcept). The
// message is fed in parts rather than concatenated for the same reason.
// False if OpenSSL fails.
bool token_mac(std::string_view secret, std::string_view name,
               std::string_view identifier, std::string_view expiry,
               char (&out)[kTokenMacLength])
{
    static const char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mac == nullptr) {
        return false;
    }
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);
    if (ctx == nullptr) {
        return false;
    }

    char digest_name[] = "SHA256";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", digest_name, 0),
        OSSL_PARAM_construct_end(),
    };
    unsigned char md[32];
    std::size_t md_len = 0;
    const auto* key = reinterpret_cast<const unsigned char*>(secret.data());

    bool ok = EVP_MAC_init(ctx, key, secret.size(), params) == 1;
    for (std::string_view part :
         {name, std::string_view("\n"), identifier, std::string_view("\n"),
          expiry}) {
        ok = ok && EVP_MAC_update(
                       ctx, reinterpret_cast<const unsigned char*>(part.data()),
                       part.size()) == 1;
    }
    ok = ok && EVP_MAC_final(ctx, md, &md_len, sizeof(md)) == 1
         && md_len == sizeof(md);
    EVP_MAC_CTX_free(ctx);

    if (!ok) {
        OPENSSL_cleanse(md, sizeof(md));
        return false;
    }

    // 32 bytes: ten groups of three, then two bytes as three characters
    std::size_t o = 0;
    for (std::size_t i = 0; i < 30; i += 3) {
        unsigned v = (md[i] << 16) | (md[i + 1] << 8) | md[i + 2];
        out[o++] = kAlphabet[(v >> 18) & 63];
        out[o++] = kAlphabet[(v >> 12) & 63];
        out[o++] = kAlphabet[(v >> 6) & 63];
        out[o++] = kAlphabet[v & 63];
    }
    unsigned v = (md[30] << 8) | md[31];
    out[o++] = kAlphabet[(v >> 10) & 63];
    out[o++] = kAlphabet[(v >> 4) & 63];
    out[o++] = kAlphabet[(v << 2) & 63];

    OPENSSL_cleanse(md, sizeof(md));
    return true;
}

bool has_newline(std::string_view s)
{
    return s.find('\n') != std::string_view::npos;
}

}  // namespace

std::optional<ParsedToken> parse_subscription_token(std::string_view token)
{
    std::size_t dot = token.find('.');
    if (dot == std::string_view::npos || dot == 0
        || dot > kTokenMaxExpiryDigits) {
        return std::nullopt;
    }

    ParsedToken p;
    p.expiry_text = token.substr(0, dot);
    p.mac = token.substr(dot + 1);

    if (p.expiry_text[0] == '0') {
        return std::nullopt;
    }
    for (char c : p.expiry_text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        p.expiry = p.expiry * 10 + (c - '0');  // at most 12 digits
    }

    if (p.mac.size() != kTokenMacLength) {
        return std::nullopt;
    }
    for (char c : p.mac) {
        if (!is_b64url(c)) {
            return std::nullopt;
        }
    }

    return p;
}

const char* token_status_text(TokenStatus s) noexcept
{
    switch (s) {
    case TokenStatus::Valid: return "valid";
    case TokenStatus::Missing: return "no token";
    case TokenStatus::Malformed: return "malformed token";
    case TokenStatus::BadSignature:
        return "token not valid for this group";
    case TokenStatus::Expired: return "expired token";
    }
    return "invalid token";
}

TokenStatus check_subscription_token(
    std::string_view secret, std::optional<std::string_view> token,
    std::string_view group_name,
    std::optional<std::string_view> group_identifier,
    std::int64_t now) noexcept
{
    if (!token) {
        return TokenStatus::Missing;
    }

    std::optional<ParsedToken> p = parse_subscription_token(*token);
    std::string_view identifier = group_identifier.value_or("");

    if (!p || has_newline(group_name) || has_newline(identifier)) {
        return TokenStatus::Malformed;
    }

    char want[kTokenMacLength];
    if (!token_mac(secret, group_name, identifier, p->expiry_text, want)) {
        return TokenStatus::BadSignature;
    }

    // the only comparison that involves the secret: constant time
    int differ = CRYPTO_memcmp(want, p->mac.data(), kTokenMacLength);
    OPENSSL_cleanse(want, sizeof(want));

    if (differ != 0) {
        return TokenStatus::BadSignature;
    }

    return now < p->expiry ? TokenStatus::Valid : TokenStatus::Expired;
}

std::string mint_subscription_token(
    std::string_view secret, std::string_view group_name,
    std::optional<std::string_view> group_identifier, std::int64_t expiry)
{
    std::string_view identifier = group_identifier.value_or("");

    if (has_newline(group_name) || has_newline(identifier) || expiry < 1
        || expiry > 999999999999LL) {
        return {};
    }

    std::string expiry_text = std::to_string(expiry);
    char mac[kTokenMacLength];

    if (!token_mac(secret, group_name, identifier, expiry_text, mac)) {
        return {};
    }

    return expiry_text + "." + std::string(mac, kTokenMacLength);
}

}  // namespace webpush::api
