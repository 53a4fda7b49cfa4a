#include "util/json.hpp"

#include <cstdlib>

namespace webpush::util {

JsonPtr json_share(json_t* j) noexcept
{
    return JsonPtr(json_incref(j));
}

std::size_t utf8_decode(std::string_view s, std::size_t i,
                        char32_t& cp) noexcept
{
    if (i >= s.size()) {
        return 0;
    }
    auto b = [&](std::size_t k) {
        return static_cast<unsigned char>(s[i + k]);
    };
    unsigned char c = b(0);
    std::size_t len;
    char32_t min;
    if (c < 0x80) {
        cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (s.size() - i < len) {
        return 0;
    }
    for (std::size_t k = 1; k < len; k++) {
        if ((b(k) & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (b(k) & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return len;
}

bool utf8_valid(std::string_view s) noexcept
{
    return utf8_length(s) != std::string::npos;
}

std::size_t utf8_length(std::string_view s) noexcept
{
    std::size_t n = 0;
    for (std::size_t i = 0; i < s.size(); n++) {
        char32_t cp;
        std::size_t len = utf8_decode(s, i, cp);
        if (len == 0) {
            return std::string::npos;
        }
        i += len;
    }
    return n;
}

std::string utf8_sanitize(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        char32_t cp;
        std::size_t len = utf8_decode(s, i, cp);
        if (len == 0) {
            out += "\xef\xbf\xbd";
            i++;
        } else {
            out.append(s.substr(i, len));
            i += len;
        }
    }
    return out;
}

json_t* json_str(std::string_view s) noexcept
{
    try {
        if (utf8_valid(s)) {
            return json_stringn(s.data(), s.size());
        }
        std::string clean = utf8_sanitize(s);
        return json_stringn(clean.data(), clean.size());
    } catch (...) {
        return nullptr;
    }
}

std::string json_compact(const json_t* j)
{
    if (j == nullptr) {
        return {};
    }
    char* text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text == nullptr) {
        return {};
    }
    std::string out;
    try {
        out = text;
    } catch (...) {
        out.clear();
    }
    std::free(text);
    return out;
}

}  // namespace webpush::util
