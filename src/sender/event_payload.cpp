#include "sender/event_payload.hpp"

#include "crypto/ece.hpp"
#include "crypto/event_token.hpp"
#include "util/json.hpp"

namespace webpush::sender {

namespace {

bool is_b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

std::optional<std::string> add_event_member(std::string_view payload,
                                            std::string_view token,
                                            std::size_t max_size)
try {
    // the token goes into the text as it is: it must need no escaping
    if (token.empty()) {
        return std::nullopt;
    }

    for (char c : token) {
        if (!is_b64url(c)) {
            return std::nullopt;
        }
    }

    json_error_t error;
    util::JsonPtr root(json_loadb(payload.data(), payload.size(),
                                  JSON_DECODE_ANY | JSON_ALLOW_NUL, &error));

    if (!root || !json_is_object(root.get())) {
        return std::nullopt;
    }

    std::string out;

    if (json_object_get(root.get(), kEventMember.data()) != nullptr) {
        json_t *value = json_stringn(token.data(), token.size());

        if (value == nullptr
            || json_object_set_new(root.get(), kEventMember.data(), value)
                   != 0)
        {
            return std::nullopt;
        }

        out = util::json_compact(root.get());

        if (out.empty()) {
            return std::nullopt;
        }

    } else {
        // valid JSON text of an object ends with its "}" (then spaces)
        std::size_t end = payload.size();

        while (end > 0 && is_json_space(payload[end - 1])) {
            end--;
        }

        if (end == 0 || payload[end - 1] != '}') {
            return std::nullopt;    // cannot be: jansson read an object
        }

        out.reserve(payload.size() + kEventMemberOverhead + token.size());
        out.append(payload.substr(0, end - 1));

        if (json_object_size(root.get()) != 0) {
            out += ',';
        }

        out += '"';
        out.append(kEventMember);
        out += "\":\"";
        out.append(token);
        out += "\"}";
        out.append(payload.substr(end));
    }

    if (out.size() > max_size) {
        return std::nullopt;
    }

    return out;

} catch (...) {
    return std::nullopt;        // std::bad_alloc: sent without a token
}

std::optional<std::string> stamp_payload(const crypto::EventTokenKey& key,
                                         std::string_view payload,
                                         std::int64_t notification,
                                         std::int64_t subscription)
try {
    std::string token = key.make(notification, subscription);

    return add_event_member(payload, token,
                            crypto::aes128gcm_max_plaintext);

} catch (...) {
    return std::nullopt;
}

}  // namespace webpush::sender
