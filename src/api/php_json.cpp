#include "api/php_json.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <openssl/evp.h>

#include "util/json.hpp"

namespace webpush::api {

// the jansson helpers (util/json.hpp) are the API's vocabulary
using namespace webpush::util;

namespace {

const char kHex[] = "0123456789abcdef";
const int kMaxDepth = 512;

void append_u(std::string& out, unsigned v)
{
    out += "\\u";
    out += kHex[(v >> 12) & 0xf];
    out += kHex[(v >> 8) & 0xf];
    out += kHex[(v >> 4) & 0xf];
    out += kHex[v & 0xf];
}

// Strings reaching here come from jansson and are valid UTF-8; an invalid
// byte (only possible for a hand-built tree) is written as U+FFFD rather
// than failing, like PHP's JSON_PARTIAL_OUTPUT_ON_ERROR writes null.
void encode_string(std::string& out, std::string_view s)
{
    out += '"';
    for (std::size_t i = 0; i < s.size();) {
        char32_t cp;
        std::size_t len = utf8_decode(s, i, cp);
        if (len == 0) {
            cp = 0xfffd;
            len = 1;
        }
        i += len;
        switch (cp) {
        case '"': out += "\\u0022"; break;
        case '\\': out += "\\\\"; break;
        case '/': out += "\\/"; break;
        case '<': out += "\\u003C"; break;
        case '>': out += "\\u003E"; break;
        case '&': out += "\\u0026"; break;
        case '\'': out += "\\u0027"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (cp < 0x20) {
                append_u(out, cp);
            } else if (cp < 0x80) {
                out += static_cast<char>(cp);
            } else if (cp < 0x10000) {
                append_u(out, cp);
            } else {
                char32_t v = cp - 0x10000;
                append_u(out, 0xd800 | (v >> 10));
                append_u(out, 0xdc00 | (v & 0x3ff));
            }
        }
    }
    out += '"';
}

// PHP turns a canonical decimal key into an integer key; an array whose
// keys are 0..n-1 in order is a list.
bool object_is_php_list(const json_t* obj)
{
    std::size_t expect = 0;
    const char* key;
    std::size_t key_len;
    json_t* v;
    json_object_keylen_foreach(const_cast<json_t*>(obj), key, key_len, v) {
        (void)v;
        if (std::to_string(expect) != std::string_view(key, key_len)) {
            return false;
        }
        expect++;
    }
    return true;
}

bool encode(std::string& out, const json_t* v, int depth)
{
    if (depth > kMaxDepth) {
        return false;
    }
    switch (json_typeof(v)) {
    case JSON_NULL:
        out += "null";
        return true;
    case JSON_TRUE:
        out += "true";
        return true;
    case JSON_FALSE:
        out += "false";
        return true;
    case JSON_INTEGER:
        out += std::to_string(json_integer_value(v));
        return true;
    case JSON_REAL: {
        double d = json_real_value(v);
        if (!std::isfinite(d)) {
            return false;
        }
        out += php_float_repr(d);
        return true;
    }
    case JSON_STRING:
        encode_string(out, std::string_view(json_string_value(v),
                                            json_string_length(v)));
        return true;
    case JSON_ARRAY: {
        out += '[';
        for (std::size_t i = 0; i < json_array_size(v); i++) {
            if (i > 0) {
                out += ',';
            }
            if (!encode(out, json_array_get(v, i), depth + 1)) {
                return false;
            }
        }
        out += ']';
        return true;
    }
    case JSON_OBJECT: {
        bool list = object_is_php_list(v);
        out += list ? '[' : '{';
        bool first = true;
        const char* key;
        std::size_t key_len;
        json_t* item;
        json_object_keylen_foreach(const_cast<json_t*>(v), key, key_len,
                                   item) {
            if (!first) {
                out += ',';
            }
            first = false;
            if (!list) {
                encode_string(out, std::string_view(key, key_len));
                out += ':';
            }
            if (!encode(out, item, depth + 1)) {
                return false;
            }
        }
        out += list ? ']' : '}';
        return true;
    }
    }
    return false;
}

}  // namespace

std::string php_float_repr(double v)
{
    if (!std::isfinite(v)) {
        return "0";
    }
    // Shortest digits that read back as v: what PHP's zend_dtoa mode 0
    // gives. %.*e is correctly rounded, so the first precision that
    // round-trips yields the same digits.
    char buf[64];
    for (int prec = 0; prec < 17; prec++) {
        std::snprintf(buf, sizeof(buf), "%.*e", prec, v);
        if (std::strtod(buf, nullptr) == v) {
            break;
        }
    }
    // buf = [-]d[.ddd]e(+|-)xx
    const char* p = buf;
    bool negative = false;
    if (*p == '-') {
        negative = true;
        p++;
    }
    std::string digits;
    for (; *p != 'e'; p++) {
        if (*p != '.') {
            digits += *p;
        }
    }
    int exp10 = std::atoi(p + 1);
    while (digits.size() > 1 && digits.back() == '0') {
        digits.pop_back();
    }
    // decpt as zend_dtoa reports it: the value is 0.DIGITS * 10^decpt.
    int decpt = digits == "0" ? 1 : exp10 + 1;

    std::string out;
    if (negative) {
        out += '-';
    }
    if (decpt > 17 || decpt < -3) {
        // Exponential, PHP style: one digit, ".", the rest or "0", "e",
        // sign, exponent without leading zeros.
        int e = decpt - 1;
        out += digits[0];
        out += '.';
        out += digits.size() > 1 ? digits.substr(1) : "0";
        out += 'e';
        out += e < 0 ? '-' : '+';
        out += std::to_string(e < 0 ? -e : e);
    } else if (decpt <= 0) {
        out += "0.";
        out.append(static_cast<std::size_t>(-decpt), '0');
        out += digits;
    } else {
        auto whole = static_cast<std::size_t>(decpt);
        if (digits.size() <= whole) {
            out += digits;
            out.append(whole - digits.size(), '0');
        } else {
            out += digits.substr(0, whole);
            out += '.';
            out += digits.substr(whole);
        }
    }
    return out;
}

std::optional<std::string> php_json_encode(const json_t* value)
{
    try {
        if (value == nullptr) {
            return std::nullopt;
        }
        std::string out;
        if (!encode(out, value, 0)) {
            return std::nullopt;
        }
        return out;
    } catch (...) {
        return std::nullopt;
    }
}

std::string md5_hex(std::string_view data)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr)
        != 1) {
        return {};
    }
    std::string out;
    for (unsigned int i = 0; i < len; i++) {
        out += kHex[md[i] >> 4];
        out += kHex[md[i] & 0xf];
    }
    return out;
}

}  // namespace webpush::api
