#include "api/requests.hpp"

#include <algorithm>
#include <new>

#include "api/declarative.hpp"
#include "api/php_json.hpp"
#include "util/rfc3339.hpp"

namespace webpush::api {

namespace {

const std::size_t kMaxName = 255;    // varchar(255) columns, in characters
const std::size_t kMaxKeyText = 256; // base64 of a 65-byte point is 88

std::string_view sv(const json_t* s)
{
    return std::string_view(json_string_value(s), json_string_length(s));
}

bool non_empty_string(const json_t* v)
{
    return json_is_string(v) && json_string_length(v) > 0;
}

bool absent(const json_t* v)
{
    return v == nullptr || json_is_null(v);
}

std::string join(const std::vector<std::string>& parts)
{
    std::string out;
    for (const std::string& p : parts) {
        if (!out.empty()) {
            out += "; ";
        }
        out += p;
    }
    return out;
}

bool listed(const std::vector<std::string>& list, const std::string& v)
{
    return list.empty() || std::find(list.begin(), list.end(), v)
                               != list.end();
}

// Optional string member: absent or null → nullopt; a string → its value;
// anything else → a problem.
void optional_string(json_t* obj, const char* key, const char* label,
                     std::size_t max_chars, std::optional<std::string>& out,
                     std::vector<std::string>& problems)
{
    json_t* v = json_object_get(obj, key);
    if (absent(v)) {
        return;
    }
    if (!json_is_string(v)) {
        problems.push_back(std::string("\"") + label
                           + "\" must be a string or null");
        return;
    }
    if (max_chars != 0 && utf8_length(sv(v)) > max_chars) {
        problems.push_back(std::string("\"") + label + "\" is longer than "
                           + std::to_string(max_chars) + " characters");
        return;
    }
    out = std::string(sv(v));
}

// providerName and group: shared by subscriptions and notifications.
void provider_and_group(json_t* attrs, std::string& provider_name,
                        std::string& group_name,
                        std::optional<std::string>& group_identifier,
                        std::vector<std::string>& problems)
{
    json_t* provider = json_object_get(attrs, "providerName");
    if (!json_is_string(provider)) {
        problems.push_back("\"providerName\" must be a string");
    } else {
        provider_name = std::string(sv(provider));
    }
    json_t* group = json_object_get(attrs, "group");
    if (!json_is_object(group)) {
        problems.push_back("\"group\" must be an object");
        return;
    }
    json_t* name = json_object_get(group, "name");
    if (!json_is_string(name)) {
        problems.push_back("\"group.name\" must be a string");
    } else if (utf8_length(sv(name)) > kMaxName) {
        problems.push_back("\"group.name\" is longer than 255 characters");
    } else {
        group_name = std::string(sv(name));
    }
    optional_string(group, "identifier", "group.identifier", kMaxName,
                    group_identifier, problems);
}

Error internal_error(std::string detail)
{
    return custom_error("5500", 500, "Internal error.", std::move(detail));
}

// The payload rule of a subscription; problems collects what is wrong.
void check_subscription_payload(json_t* payload,
                                const SubscriptionRules& rules,
                                SubscriptionRequest& req,
                                std::vector<std::string>& problems)
{
    json_t* endpoint = json_object_get(payload, "endpoint");
    if (!non_empty_string(endpoint)) {
        problems.push_back("\"payload.endpoint\" must be a non-empty string");
    } else {
        req.endpoint = std::string(sv(endpoint));
        std::string reason;
        req.push_endpoint = rules.push_hosts.match(req.endpoint, reason);
        if (!req.push_endpoint) {
            problems.push_back(reason);
        }
    }

    json_t* p256dh = json_object_get(payload, "publicKey");
    json_t* auth = json_object_get(payload, "authToken");
    if (!non_empty_string(p256dh) || !non_empty_string(auth)) {
        json_t* keys = json_object_get(payload, "keys");
        p256dh = json_object_get(keys, "p256dh");
        auth = json_object_get(keys, "auth");
    }
    bool keys_ok = false;
    if (!non_empty_string(p256dh) || !non_empty_string(auth)) {
        problems.push_back("the payload needs \"keys.p256dh\" and "
                           "\"keys.auth\" (or \"publicKey\" and "
                           "\"authToken\") as non-empty strings");
    } else if (json_string_length(p256dh) > kMaxKeyText
               || json_string_length(auth) > kMaxKeyText) {
        problems.push_back("a subscription key is too long");
    } else {
        req.p256dh = std::string(sv(p256dh));
        req.auth = std::string(sv(auth));
        keys_ok = true;
    }

    json_t* enc = json_object_get(payload, "contentEncoding");
    if (!absent(enc)) {
        if (json_is_string(enc) && sv(enc) == "aes128gcm") {
            req.content_encoding = ContentEncoding::Aes128gcm;
        } else if (json_is_string(enc) && sv(enc) == "aesgcm") {
            req.content_encoding = ContentEncoding::Aesgcm;
        } else {
            problems.push_back("\"payload.contentEncoding\" must be "
                               "\"aes128gcm\" or \"aesgcm\"");
        }
    }

    if (keys_ok && rules.key_check) {
        std::string reason;
        bool good = false;
        try {
            good = rules.key_check(req.p256dh, req.auth, reason);
        } catch (...) {
            reason = "the subscription keys could not be checked";
        }
        if (!good) {
            problems.push_back(reason.empty() ? "invalid subscription keys"
                                              : reason);
        }
    }
}

bool base64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// localizedPayloads: problems go to problems (5400 "Wrong request
// body."), sizes over the limit to too_long (5400 "The maximum payload
// length exceeded."); the entries that passed fill req.localized_payloads.
void check_localized(json_t* localized, const NotificationRules& rules,
                     NotificationRequest& req,
                     std::vector<std::string>& problems,
                     std::vector<std::string>& too_long)
{
    if (!json_is_object(localized)) {
        problems.push_back("\"localizedPayloads\" must be an object or null");
        return;
    }
    if (json_object_size(localized) == 0) {
        return;
    }

    // jansson's reader refuses a NUL in a key: keys are C strings here
    const char* key;
    json_t* value;
    json_object_foreach(localized, key, value) {
        std::string locale(key);
        std::string label = "localizedPayloads." + locale;
        std::size_t chars = utf8_length(locale);

        if (locale.empty() || chars > kMaxName) {
            problems.push_back("\"localizedPayloads\" keys must be locale "
                               "names of 1 to 255 characters");
            continue;
        }
        if (!listed(rules.locales, locale)) {
            problems.push_back("\"" + label + "\": the locale is not one of "
                               "webpush_locales");
            continue;
        }
        if (!json_is_object(value)) {
            problems.push_back("\"" + label + "\" must be an object");
            continue;
        }

        check_declarative_payload(value, label, problems);

        std::string text = json_compact(value);
        if (text.empty()) {
            throw std::bad_alloc();
        }
        if (text.size() > kMaxNotificationPayload) {
            too_long.push_back("the compact \"" + label + "\" is "
                               + std::to_string(text.size())
                               + " bytes, at most 3052 are allowed");
            continue;
        }
        req.localized_payloads.push_back({std::move(locale),
                                          std::move(text)});
    }

    std::sort(req.localized_payloads.begin(), req.localized_payloads.end(),
              [](const LocalizedPayload& a, const LocalizedPayload& b) {
                  return a.locale < b.locale;
              });
    req.localized = json_share(localized);
}

}  // namespace

// ---- providers -------------------------------------------------------------

ProviderValidation validate_provider(const Document& doc)
{
    ProviderValidation r;
    try {
        json_t* name = json_object_get(doc.attributes, "name");
        if (absent(name) || json_is_false(name)) {
            r.errors.push_back(wrong_request_body("\"name\" is missing"));
            return r;
        }
        if (!json_is_string(name)) {
            r.errors.push_back(
                wrong_request_body("\"name\" must be a string"));
            return r;
        }
        std::string_view v = sv(name);
        if (v.empty() || v == "0") {
            // PHP's empty(): the reference treats these as no name.
            r.errors.push_back(
                wrong_request_body("\"name\" is empty or \"0\""));
            return r;
        }
        if (utf8_length(v) > kMaxName) {
            r.errors.push_back(make_error(ErrorCode::ProviderNameWrongLength));
            return r;
        }
        r.request = ProviderRequest{std::string(v)};
    } catch (...) {
        r.errors.push_back(internal_error("out of memory"));
    }
    return r;
}

ProviderValidation parse_provider_request(const char* body, std::size_t len)
{
    DocumentResult d = read_document(body, len, kTypeProviders);
    if (!d.document) {
        ProviderValidation r;
        r.errors = std::move(d.errors);
        return r;
    }
    return validate_provider(*d.document);
}

// ---- subscriptions ---------------------------------------------------------

SubscriptionValidation validate_subscription(const Document& doc,
                                             const SubscriptionRules& rules)
{
    SubscriptionValidation r;
    try {
        SubscriptionRequest& req = r.request;
        json_t* attrs = doc.attributes;

        std::vector<std::string> problems;
        provider_and_group(attrs, req.provider_name, req.group_name,
                           req.group_identifier, problems);
        optional_string(attrs, "localeName", "localeName", 0,
                        req.locale_name, problems);
        optional_string(attrs, "token", "token", 0, req.token, problems);
        if (!problems.empty()) {
            r.errors.push_back(wrong_request_body(join(problems)));
            return r;
        }
        r.usable = true;

        if (!listed(rules.groups, req.group_name)) {
            r.errors.push_back(make_error(ErrorCode::WrongGroupName));
        }
        if (req.locale_name && !listed(rules.locales, *req.locale_name)) {
            r.errors.push_back(make_error(ErrorCode::LocaleNotFound));
        }

        json_t* payload = json_object_get(attrs, "payload");
        if (!json_is_object(payload)) {
            problems.push_back("\"payload\" must be an object");
        } else {
            req.payload = json_share(payload);
            std::optional<std::string> stored = php_json_encode(payload);
            std::string checksum = stored ? md5_hex(*stored) : "";
            if (checksum.empty()) {
                r.errors.push_back(
                    internal_error("payload checksum unavailable"));
                r.usable = false;
                return r;
            }
            req.payload_stored = std::move(*stored);
            req.payload_checksum = std::move(checksum);
            check_subscription_payload(payload, rules, req, problems);
        }
        if (!problems.empty()) {
            r.errors.push_back(invalid_payload_structure(join(problems)));
        }
    } catch (...) {
        r.errors.push_back(internal_error("out of memory"));
        r.usable = false;
    }
    return r;
}

SubscriptionValidation parse_subscription_request(
    const char* body, std::size_t len, const SubscriptionRules& rules)
{
    DocumentResult d = read_document(body, len, kTypeSubscriptions);
    if (!d.document) {
        SubscriptionValidation r;
        r.errors = std::move(d.errors);
        return r;
    }
    return validate_subscription(*d.document, rules);
}

// ---- notifications ---------------------------------------------------------

const char* urgency_name(Urgency u) noexcept
{
    switch (u) {
    case Urgency::VeryLow: return "very-low";
    case Urgency::Low: return "low";
    case Urgency::Normal: return "normal";
    case Urgency::High: return "high";
    }
    return "normal";
}

NotificationValidation validate_notification(const Document& doc,
                                             const NotificationRules& rules)
{
    NotificationValidation r;
    try {
        NotificationRequest& req = r.request;
        json_t* attrs = doc.attributes;

        std::vector<std::string> problems;
        provider_and_group(attrs, req.provider_name, req.group_name,
                           req.group_identifier, problems);
        if (!problems.empty()) {
            r.errors.push_back(wrong_request_body(join(problems)));
            return r;
        }
        r.usable = true;

        if (!listed(rules.groups, req.group_name)) {
            r.errors.push_back(make_error(ErrorCode::WrongGroupName));
        }

        std::vector<std::string> too_long;
        json_t* payload = json_object_get(attrs, "payload");
        if (!json_is_object(payload)) {
            problems.push_back("\"payload\" must be an object");
        } else {
            check_declarative_payload(payload, "payload", problems);
            req.payload = json_share(payload);
            req.payload_json = json_compact(payload);
            if (req.payload_json.empty()) {
                r.errors.push_back(internal_error("out of memory"));
                r.usable = false;
                return r;
            }
            if (req.payload_json.size() > kMaxNotificationPayload) {
                too_long.push_back(
                    "the compact payload is "
                    + std::to_string(req.payload_json.size())
                    + " bytes, at most 3052 are allowed");
            }
        }

        json_t* localized = json_object_get(attrs, "localizedPayloads");
        if (!absent(localized)) {
            check_localized(localized, rules, req, problems, too_long);
        }

        json_t* ttl = json_object_get(attrs, "ttl");
        if (!absent(ttl)) {
            if (!json_is_integer(ttl) || json_integer_value(ttl) < 0
                || json_integer_value(ttl) > kMaxTtl) {
                problems.push_back("\"ttl\" must be an integer from 0 to "
                                   "2147483647");
            } else {
                req.ttl = json_integer_value(ttl);
            }
        }

        json_t* urgency = json_object_get(attrs, "urgency");
        if (!absent(urgency)) {
            std::optional<Urgency> u;
            if (json_is_string(urgency)) {
                for (Urgency c : {Urgency::VeryLow, Urgency::Low,
                                  Urgency::Normal, Urgency::High}) {
                    if (sv(urgency) == urgency_name(c)) {
                        u = c;
                    }
                }
            }
            if (!u) {
                problems.push_back("\"urgency\" must be one of very-low, "
                                   "low, normal, high");
            }
            req.urgency = u;
        }

        json_t* topic = json_object_get(attrs, "topic");
        if (!absent(topic)) {
            bool ok = json_is_string(topic);
            std::string_view t = ok ? sv(topic) : std::string_view();
            ok = ok && !t.empty() && t.size() <= 32 && t.size() % 4 != 1
                 && std::all_of(t.begin(), t.end(), base64url_char);
            if (!ok) {
                problems.push_back("\"topic\" must be 1 to 32 base64url "
                                   "characters, length not 1 modulo 4");
            } else {
                req.topic = std::string(t);
            }
        }

        json_t* send_at = json_object_get(attrs, "sendAt");
        if (!absent(send_at)) {
            std::optional<std::int64_t> t;
            if (json_is_string(send_at)) {
                t = util::parse_rfc3339(sv(send_at));
            }
            if (!t) {
                problems.push_back("\"sendAt\" must be an RFC 3339 date-time "
                                   "such as 2026-05-01T12:00:00Z");
            }
            req.send_at = t;
        }

        json_t* rate = json_object_get(attrs, "ratePerMinute");
        if (!absent(rate)) {
            if (!json_is_integer(rate) || json_integer_value(rate) < 1
                || json_integer_value(rate) > kMaxRatePerMinute) {
                problems.push_back("\"ratePerMinute\" must be an integer "
                                   "from 1 to "
                                   + std::to_string(kMaxRatePerMinute));
            } else {
                req.rate_per_minute = json_integer_value(rate);
            }
        }

        if (!problems.empty()) {
            r.errors.push_back(wrong_request_body(join(problems)));
        }
        if (!too_long.empty()) {
            r.errors.push_back(payload_length_exceeded(join(too_long)));
        }
    } catch (...) {
        r.errors.push_back(internal_error("out of memory"));
        r.usable = false;
    }
    return r;
}

NotificationValidation parse_notification_request(
    const char* body, std::size_t len, const NotificationRules& rules)
{
    DocumentResult d = read_document(body, len, kTypeNotifications);
    if (!d.document) {
        NotificationValidation r;
        r.errors = std::move(d.errors);
        return r;
    }
    return validate_notification(*d.document, rules);
}

std::string localized_storage_json(const std::vector<LocalizedPayload>& l)
{
    if (l.empty()) {
        return {};
    }
    JsonPtr o(json_object());
    if (!o) {
        return {};
    }
    for (const LocalizedPayload& p : l) {
        json_t* v = json_stringn(p.payload_json.data(),
                                 p.payload_json.size());
        if (v == nullptr
            || json_object_setn_new(o.get(), p.locale.data(),
                                    p.locale.size(), v) != 0)
        {
            return {};
        }
    }
    return json_compact(o.get());
}

std::string localized_echo_json(const std::vector<LocalizedPayload>& l)
{
    if (l.empty()) {
        return {};
    }
    std::string out = "{";
    for (const LocalizedPayload& p : l) {
        JsonPtr k(json_stringn(p.locale.data(), p.locale.size()));
        std::string key = json_compact(k.get());
        if (key.empty()) {
            return {};
        }
        if (out.size() > 1) {
            out += ',';
        }
        out += key;
        out += ':';
        out += p.payload_json;
    }
    out += '}';
    return out;
}

}  // namespace webpush::api
