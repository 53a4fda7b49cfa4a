// Stored subscription payloads; see stored.hpp.

#include "sender/stored.hpp"

#include "util/json.hpp"

namespace webpush::sender {

namespace {

const char* string_member(json_t* obj, const char* key)
{
    json_t* v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : nullptr;
}

}  // namespace

std::optional<StoredSubscription> parse_stored_subscription(
    std::string_view json, std::string& reason)
{
    json_error_t error;
    util::JsonPtr root(json_loadb(json.data(), json.size(), 0, &error));

    if (!root || !json_is_object(root.get())) {
        reason = "the stored subscription is not a JSON object";
        return std::nullopt;
    }

    StoredSubscription s;
    json_t* obj = root.get();

    const char* endpoint = string_member(obj, "endpoint");
    if (endpoint == nullptr || *endpoint == '\0') {
        reason = "the stored subscription has no endpoint";
        return std::nullopt;
    }
    s.endpoint = endpoint;

    const char* p256dh = string_member(obj, "publicKey");
    const char* auth = string_member(obj, "authToken");

    // As the subscription validator chooses: the pair only when both are
    // non-empty strings, else "keys" (the key check ran on those).
    if (p256dh == nullptr || auth == nullptr || *p256dh == '\0'
        || *auth == '\0') {
        json_t* keys = json_object_get(obj, "keys");
        p256dh = string_member(keys, "p256dh");
        auth = string_member(keys, "auth");
    }

    if (p256dh == nullptr || auth == nullptr) {
        reason = "the stored subscription has no keys";
        return std::nullopt;
    }
    s.p256dh = p256dh;
    s.auth = auth;

    json_t* encoding = json_object_get(obj, "contentEncoding");
    if (encoding != nullptr && !json_is_null(encoding)) {
        std::string_view e = json_is_string(encoding)
                                 ? json_string_value(encoding) : "";
        if (e == "aesgcm") {
            s.aesgcm = true;
        } else if (e != "aes128gcm") {
            reason = "unsupported contentEncoding";
            return std::nullopt;
        }
    }

    return s;
}

}  // namespace webpush::sender
