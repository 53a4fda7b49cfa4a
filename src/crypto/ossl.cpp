#include "crypto/ossl.hpp"

#include <openssl/err.h>

namespace webpush::crypto {

std::string
ossl_failure(const char *what)
{
    std::string reason(what);
    unsigned long e = ERR_get_error();

    if (e != 0) {
        const char *r = ERR_reason_error_string(e);
        reason += ": ";
        reason += r != nullptr ? r : "unknown OpenSSL error";
    }

    ERR_clear_error();
    return reason;
}

void
ossl_clear_errors()
{
    ERR_clear_error();
}

bool
out_of_memory(std::string &reason) noexcept
{
    ossl_clear_errors();
    reason = "out of memory";
    return false;
}

}  // namespace webpush::crypto
