#include "api/uuid.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

namespace webpush::api {

namespace {

const unsigned char kNamespaceOid[16] = {
    0x6b, 0xa7, 0xb8, 0x12, 0x9d, 0xad, 0x11, 0xd1,
    0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
};

std::string format(unsigned char b[16], unsigned version)
{
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | (version << 4));
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out += '-';
        }
        out += hex[b[i] >> 4];
        out += hex[b[i] & 0xf];
    }
    return out;
}

}  // namespace

std::string uuid_v5(const unsigned char (&namespace_id)[16],
                    std::string_view name)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    bool ok = ctx != nullptr
              && EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr) == 1
              && EVP_DigestUpdate(ctx, namespace_id, 16) == 1
              && EVP_DigestUpdate(ctx, name.data(), name.size()) == 1
              && EVP_DigestFinal_ex(ctx, md, &len) == 1 && len >= 16;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        return {};
    }
    return format(md, 5);
}

std::string uuid_v5_oid(std::string_view name)
{
    return uuid_v5(kNamespaceOid, name);
}

std::optional<std::string> uuid_v4()
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof(b)) != 1) {
        return std::nullopt;
    }
    return format(b, 4);
}

bool uuid_syntax_ok(std::string_view s) noexcept
{
    if (s.size() != 36) {
        return false;
    }
    for (std::size_t i = 0; i < s.size(); i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') {
                return false;
            }
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
                     || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}

}  // namespace webpush::api
