#include "sender/outcome_text.hpp"

#include <algorithm>
#include <cstdint>

namespace webpush::sender {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";   // U+FFFD

/*
 * The length of the valid UTF-8 sequence at the start of s (RFC 3629's
 * table: no overlongs, no surrogates, nothing past U+10FFFF), 0 when it
 * is not one; *cp gets the code point.
 */
std::size_t utf8_sequence(std::string_view s, std::uint32_t *cp)
{
    auto b = [&s](std::size_t i) {
        return static_cast<unsigned char>(s[i]);
    };
    auto cont = [&](std::size_t i, unsigned lo = 0x80, unsigned hi = 0xBF) {
        return i < s.size() && b(i) >= lo && b(i) <= hi;
    };

    unsigned c = b(0);

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF && cont(1)) {
        *cp = ((c & 0x1F) << 6) | (b(1) & 0x3F);
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80;
        unsigned hi = c == 0xED ? 0x9F : 0xBF;
        if (cont(1, lo, hi) && cont(2)) {
            *cp = ((c & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
            return 3;
        }
        return 0;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned lo = c == 0xF0 ? 0x90 : 0x80;
        unsigned hi = c == 0xF4 ? 0x8F : 0xBF;
        if (cont(1, lo, hi) && cont(2) && cont(3)) {
            *cp = ((c & 0x07) << 18) | ((b(1) & 0x3F) << 12)
                  | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
            return 4;
        }
    }
    return 0;
}

/* where a member's value starts, past "name" and the colon; npos if none */
std::size_t member_value(std::string_view json, std::string_view name)
{
    std::string key;
    key.reserve(name.size() + 2);
    key += '"';
    key += name;
    key += '"';

    for (std::size_t at = json.find(key); at != std::string_view::npos;
         at = json.find(key, at + 1))
    {
        std::size_t i = at + key.size();
        while (i < json.size() && (json[i] == ' ' || json[i] == '\t'
                                   || json[i] == '\r' || json[i] == '\n'))
        {
            i++;
        }
        if (i < json.size() && json[i] == ':') {
            i++;
            while (i < json.size() && (json[i] == ' ' || json[i] == '\t'
                                       || json[i] == '\r' || json[i] == '\n'))
            {
                i++;
            }
            return i;
        }
    }
    return std::string_view::npos;
}

} // namespace

std::string sanitize_text(std::string_view in, std::size_t max_bytes)
{
    std::string out;
    out.reserve(std::min(in.size(), max_bytes));

    while (!in.empty()) {
        std::uint32_t cp = 0;
        std::size_t n = utf8_sequence(in, &cp);
        std::string_view piece;

        if (n == 0) {
            /* one U+FFFD for a lead byte and the continuations it took */
            n = 1;
            while (n < in.size() && n < 4
                   && (static_cast<unsigned char>(in[n]) & 0xC0) == 0x80
                   && (static_cast<unsigned char>(in[0]) & 0xC0) == 0xC0)
            {
                n++;
            }
            piece = replacement;

        } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F)) {
            piece = "?";

        } else {
            piece = in.substr(0, n);
        }

        if (out.size() + piece.size() > max_bytes) {
            break;
        }

        out += piece;
        in.remove_prefix(n);
    }

    return out;
}

std::optional<std::string> json_string_member(std::string_view json,
                                              std::string_view name)
{
    std::size_t i = member_value(json, name);

    if (i == std::string_view::npos || i >= json.size() || json[i] != '"') {
        return std::nullopt;
    }

    std::string out;

    for (i++; i < json.size(); i++) {
        char c = json[i];
        if (c == '"') {
            return out;
        }
        if (c == '\\' && i + 1 < json.size()
            && (json[i + 1] == '"' || json[i + 1] == '\\'))
        {
            c = json[++i];
        }
        out += c;
    }

    return std::nullopt;    /* unterminated */
}

std::optional<long> json_number_member(std::string_view json,
                                       std::string_view name)
{
    std::size_t i = member_value(json, name);

    if (i == std::string_view::npos || i >= json.size()) {
        return std::nullopt;
    }

    bool negative = json[i] == '-';
    if (negative) {
        i++;
    }

    long v = 0;
    std::size_t digits = 0;

    for (; i < json.size() && json[i] >= '0' && json[i] <= '9'; i++) {
        if (++digits > 9) {
            return std::nullopt;
        }
        v = v * 10 + (json[i] - '0');
    }

    if (digits == 0
        || (i < json.size() && (json[i] == '.' || json[i] == 'e'
                                || json[i] == 'E')))
    {
        return std::nullopt;
    }

    return negative ? -v : v;
}

std::string push_service_reason(std::string_view body)
{
    constexpr std::size_t max_reason = 100;

    std::size_t start = body.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos) {
        return "";
    }
    body.remove_prefix(start);

    if (body.front() == '{') {
        for (std::string_view name : {"reason", "message", "error"}) {
            auto v = json_string_member(body, name);
            if (v && !v->empty()) {
                return sanitize_text(*v, max_reason);
            }
        }
        return "";
    }

    /* an HTML page says nothing useful in its first line */
    if (body.front() == '<') {
        return "";
    }

    std::size_t eol = body.find_first_of("\r\n");
    return sanitize_text(body.substr(0, eol), max_reason);
}

std::string describe_failure(unsigned status, std::string_view error,
                             std::string_view wns_error,
                             std::string_view reason)
{
    std::string why = status ? std::to_string(status) : "no answer";

    if (!error.empty()) {
        why += ": ";
        why += error;
    }

    if (!wns_error.empty()) {
        why += " (X-WNS-Error-Description: ";
        why += wns_error;
        why += ')';
    }

    if (!reason.empty()) {
        why += " (";
        why += reason;
        why += ')';
    }

    /* raw bytes from the push service: sanitized as a whole, then cut */
    return sanitize_text(why, max_error_text);
}

} // namespace webpush::sender
