#include "api/idempotency.hpp"

#include <cstdlib>

#include <openssl/evp.h>

#include "util/json.hpp"

namespace webpush::api {

using util::JsonPtr;

bool idempotency_key_ok(std::string_view key) noexcept
{
    if (key.empty() || key.size() > kMaxIdempotencyKey) {
        return false;
    }
    for (char c : key) {
        if (c < 0x20 || c > 0x7e) {
            return false;
        }
    }
    return true;
}

namespace {

json_t* opt_string(const std::optional<std::string>& s)
{
    return s ? json_stringn(s->data(), s->size()) : json_null();
}

json_t* opt_integer(const std::optional<std::int64_t>& v)
{
    return v ? json_integer(static_cast<json_int_t>(*v)) : json_null();
}

}  // namespace

std::string canonical_notification(const NotificationRequest& n)
{
    JsonPtr a(json_array());
    if (!a) {
        return {};
    }
    json_t* payload = n.payload ? json_incref(n.payload.get()) : json_null();

    json_array_append_new(a.get(), json_stringn(n.provider_name.data(),
                                                n.provider_name.size()));
    json_array_append_new(a.get(), json_stringn(n.group_name.data(),
                                                n.group_name.size()));
    json_array_append_new(a.get(), opt_string(n.group_identifier));
    json_array_append_new(a.get(), payload);
    json_array_append_new(a.get(), opt_integer(n.ttl));
    json_array_append_new(a.get(),
                          n.urgency ? json_string(urgency_name(*n.urgency))
                                    : json_null());
    json_array_append_new(a.get(), opt_string(n.topic));
    json_array_append_new(a.get(), opt_integer(n.send_at));

    std::size_t size = 8;
    if (!n.localized_payloads.empty() || n.rate_per_minute) {
        json_array_append_new(a.get(),
                              n.localized_payloads.empty()
                                  ? json_null()
                                  : json_incref(n.localized.get()));
        size = 9;
    }
    if (n.rate_per_minute) {
        json_array_append_new(a.get(), opt_integer(n.rate_per_minute));
        size = 10;
    }

    if (json_array_size(a.get()) != size) {
        return {};
    }
    char* s = json_dumps(a.get(), JSON_COMPACT | JSON_SORT_KEYS
                                  | JSON_ENSURE_ASCII);
    if (s == nullptr) {
        return {};
    }
    std::string out(s);
    free(s);
    return out;
}

std::string notification_fingerprint(const NotificationRequest& n)
{
    std::string c = canonical_notification(n);
    if (c.empty()) {
        return {};
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(c.data(), c.size(), md, &len, EVP_sha256(), nullptr)
        != 1) {
        return {};
    }
    static const char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int i = 0; i < len; i++) {
        hex += kHex[md[i] >> 4];
        hex += kHex[md[i] & 0xf];
    }
    return hex;
}

}  // namespace webpush::api
