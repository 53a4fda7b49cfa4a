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

util::JsonPtr parse(std::string_view payload)
{
    json_error_t error;
    return util::JsonPtr(json_loadb(payload.data(), payload.size(),
                                    JSON_DECODE_ANY | JSON_ALLOW_NUL,
                                    &error));
}

// has_member: the object with the genuine token in place of the member
std::string replace_member(std::string_view payload, std::string_view token)
{
    util::JsonPtr root = parse(payload);
    json_t *value = json_stringn(token.data(), token.size());

    if (!root || value == nullptr
        || json_object_set_new(root.get(), kEventMember.data(), value) != 0)
    {
        return {};
    }

    return util::json_compact(root.get());
}

// the member written before the object's closing "}"
std::string append_member(std::string_view payload, std::string_view token,
                          bool comma)
{
    // valid JSON text of an object ends with its "}" (then spaces)
    std::size_t end = payload.size();

    while (end > 0 && is_json_space(payload[end - 1])) {
        end--;
    }

    if (end == 0 || payload[end - 1] != '}') {
        return {};              // cannot be: jansson read an object
    }

    std::string out;
    out.reserve(payload.size() + kEventMemberOverhead + token.size());
    out.append(payload.substr(0, end - 1));

    if (comma) {
        out += ',';
    }

    out += '"';
    out.append(kEventMember);
    out += "\":\"";
    out.append(token);
    out += "\"}";
    out.append(payload.substr(end));

    return out;
}

}  // namespace

PayloadShape payload_shape(std::string_view payload) noexcept
try {
    util::JsonPtr root = parse(payload);

    if (!root || !json_is_object(root.get())) {
        return PayloadShape::not_object;
    }

    if (json_object_get(root.get(), kEventMember.data()) != nullptr) {
        return PayloadShape::has_member;
    }

    return json_object_size(root.get()) == 0 ? PayloadShape::empty_object
                                             : PayloadShape::object;

} catch (...) {
    return PayloadShape::not_object;
}

std::optional<std::string> add_event_member(std::string_view payload,
                                            std::string_view token,
                                            std::size_t max_size,
                                            PayloadShape shape)
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

    std::string out;

    switch (shape) {
    case PayloadShape::not_object:
        return std::nullopt;
    case PayloadShape::has_member:
        out = replace_member(payload, token);
        break;
    case PayloadShape::empty_object:
        out = append_member(payload, token, false);
        break;
    case PayloadShape::object:
        out = append_member(payload, token, true);
        break;
    }

    if (out.empty() || out.size() > max_size) {
        return std::nullopt;
    }

    return out;

} catch (...) {
    return std::nullopt;        // std::bad_alloc: sent without a token
}

std::optional<std::string> add_event_member(std::string_view payload,
                                            std::string_view token,
                                            std::size_t max_size)
{
    return add_event_member(payload, token, max_size,
                            payload_shape(payload));
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

EventStamper::EventStamper(const crypto::EventTokenKey& key,
                           std::size_t notifications)
    : key_(key), seen_(notifications)
{
}

PayloadShape EventStamper::shape_of(std::string_view payload,
                                    std::int64_t notification)
{
    std::vector<Seen> *seen = seen_.find(notification);

    if (seen != nullptr) {
        for (const Seen &s : *seen) {
            if (s.payload == payload) {
                return s.shape;
            }
        }
    }

    PayloadShape shape = payload_shape(payload);
    parsed_++;

    if (seen == nullptr) {
        seen = &seen_.put(notification, {});
    }

    // the newest first; a notification with more payloads than this
    // (locales) has some parsed again, which is only slower
    if (seen->size() == kPayloadsPerNotification) {
        seen->pop_back();
    }

    seen->insert(seen->begin(), Seen{std::string(payload), shape});

    return shape;
}

std::optional<std::string> EventStamper::stamp(std::string_view payload,
                                               std::int64_t notification,
                                               std::int64_t subscription)
try {
    PayloadShape shape = shape_of(payload, notification);

    if (shape == PayloadShape::not_object) {
        return std::nullopt;
    }

    std::string token = key_.make(notification, subscription);

    return add_event_member(payload, token, crypto::aes128gcm_max_plaintext,
                            shape);

} catch (...) {
    return std::nullopt;        // std::bad_alloc: sent without a token
}

}  // namespace webpush::sender
