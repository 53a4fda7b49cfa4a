#include "crypto/base64.hpp"

#include <openssl/evp.h>

namespace webpush::crypto {

std::string
base64url_encode(const uint8_t *data, size_t len)
try {
    // EVP_EncodeBlock writes 4 characters per started 3-byte group plus a
    // NUL; it takes an int length, far above anything Web Push encodes.
    std::string out(4 * ((len + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                            data, static_cast<int>(len));
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);

    while (!out.empty() && out.back() == '=') {
        out.pop_back();
    }

    for (char &c : out) {
        if (c == '+') {
            c = '-';
        } else if (c == '/') {
            c = '_';
        }
    }

    return out;
} catch (...) {
    return std::string();
}

std::string
base64url_encode(const Bytes &data)
{
    return base64url_encode(data.data(), data.size());
}

std::string
base64url_encode(std::string_view data)
{
    return base64url_encode(reinterpret_cast<const uint8_t *>(data.data()),
                            data.size());
}

std::optional<Bytes>
base64_decode(std::string_view in)
try {
    // Padding is only meaningful as the tail of a complete 4-character
    // group; strip it after checking that, then treat the rest as unpadded.
    size_t pad = 0;
    while (pad < in.size() && in[in.size() - 1 - pad] == '=') {
        pad++;
    }

    if (pad > 0 && (pad > 2 || in.size() % 4 != 0)) {
        return std::nullopt;
    }

    in.remove_suffix(pad);

    if (in.size() % 4 == 1) {
        return std::nullopt;
    }

    // Translate to the standard alphabet and re-pad, which is the only
    // form EVP_DecodeBlock accepts.  Validating every character here also
    // keeps EVP_DecodeBlock's whitespace trimming from accepting spaces.
    std::string std64;
    std64.reserve(in.size() + 3);

    for (char c : in) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '+' || c == '/')
        {
            std64.push_back(c);
        } else if (c == '-') {
            std64.push_back('+');
        } else if (c == '_') {
            std64.push_back('/');
        } else {
            return std::nullopt;
        }
    }

    size_t missing = (4 - std64.size() % 4) % 4;
    std64.append(missing, '=');

    Bytes out(std64.size() / 4 * 3);
    if (std64.empty()) {
        return out;
    }

    int n = EVP_DecodeBlock(out.data(),
                            reinterpret_cast<const unsigned char *>(
                                std64.data()),
                            static_cast<int>(std64.size()));
    if (n < 0 || static_cast<size_t>(n) != out.size()) {
        return std::nullopt;
    }

    // EVP_DecodeBlock counts the bytes of padded groups as if they were
    // data; drop one per "=".
    out.resize(out.size() - missing);
    return out;
} catch (...) {
    return std::nullopt;
}

}  // namespace webpush::crypto
