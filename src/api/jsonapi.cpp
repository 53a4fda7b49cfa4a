#include "api/jsonapi.hpp"

#include <ctime>

#include "util/rfc3339.hpp"

namespace webpush::api {

namespace {

// Counts [ and { outside strings before jansson sees the text, so that a
// hostile "[[[[..." is refused cheaply and nothing later recurses deep.
bool nesting_within(const char* body, std::size_t len, std::size_t max)
{
    std::size_t depth = 0;
    bool in_string = false;
    bool escaped = false;
    for (std::size_t i = 0; i < len; i++) {
        char c = body[i];
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max) {
                return false;
            }
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return true;
}

struct WalkState {
    const ReadLimits& limits;
    std::size_t values = 0;
    std::string problem;
};

bool walk(const json_t* v, WalkState& st)
{
    if (++st.values > st.limits.max_values) {
        st.problem = "more than " + std::to_string(st.limits.max_values)
                     + " JSON values";
        return false;
    }
    auto too_long = [&](std::size_t n) {
        if (n <= st.limits.max_string) {
            return false;
        }
        st.problem = "a string is longer than "
                     + std::to_string(st.limits.max_string) + " bytes";
        return true;
    };
    switch (json_typeof(v)) {
    case JSON_STRING:
        return !too_long(json_string_length(v));
    case JSON_ARRAY:
        for (std::size_t i = 0; i < json_array_size(v); i++) {
            if (!walk(json_array_get(v, i), st)) {
                return false;
            }
        }
        return true;
    case JSON_OBJECT: {
        const char* key;
        std::size_t key_len;
        json_t* item;
        json_object_keylen_foreach(const_cast<json_t*>(v), key, key_len,
                                   item) {
            (void)key;
            if (too_long(key_len) || !walk(item, st)) {
                return false;
            }
        }
        return true;
    }
    default:
        return true;
    }
}

DocumentResult fail(std::string detail)
{
    DocumentResult r;
    r.errors.push_back(wrong_request_body(std::move(detail)));
    return r;
}

std::string trim_base(std::string_view base)
{
    if (!base.empty() && base.back() == '/') {
        base.remove_suffix(1);
    }
    return std::string(base);
}

std::string self_link(std::string_view base, std::string_view type,
                      std::string_view id)
{
    std::string out = trim_base(base);
    out += '/';
    out += type;
    if (!id.empty()) {
        out += '/';
        out += id;
    }
    return out;
}

void set(json_t* obj, const char* key, json_t* value)
{
    // A NULL value (out of memory) is simply not set: jansson checks.
    json_object_set_new(obj, key, value);
}

json_t* opt_str(const std::optional<std::string>& s)
{
    return s ? json_str(*s) : json_null();
}

// JSON text from the database or the request → a value to embed.
json_t* embed_json(const std::string& text)
{
    json_error_t err;
    json_t* v = json_loadb(text.data(), text.size(), JSON_DECODE_ANY, &err);
    return v != nullptr ? v : json_null();
}

json_t* group_object(const std::string& name,
                     const std::optional<std::string>& identifier)
{
    json_t* g = json_object();
    set(g, "name", json_str(name));
    set(g, "identifier", opt_str(identifier));
    return g;
}

json_t* resource(std::string_view type, const std::string& id,
                 json_t* attributes, std::string_view base)
{
    json_t* r = json_object();
    set(r, "type", json_str(type));
    set(r, "id", json_str(id));
    set(r, "attributes", attributes);
    json_t* links = json_object();
    set(links, "self", json_str(self_link(base, type, id)));
    set(r, "links", links);
    return r;
}

json_t* provider_resource(const ProviderResource& p, std::string_view base)
{
    json_t* a = json_object();
    set(a, "uuid", json_str(p.uuid));
    set(a, "name", json_str(p.name));
    return resource(kTypeProviders, p.uuid, a, base);
}

std::string single(json_t* resource)
{
    JsonPtr root(json_object());
    set(root.get(), "data", resource);
    return json_compact(root.get());
}

}  // namespace

DocumentResult read_document(const char* body, std::size_t len,
                             std::string_view expected_type,
                             const ReadLimits& limits)
{
    try {
        if (body == nullptr || len == 0) {
            return fail("empty request body");
        }
        if (len > limits.max_bytes) {
            return fail("request body larger than "
                        + std::to_string(limits.max_bytes) + " bytes");
        }
        if (!nesting_within(body, len, limits.max_depth)) {
            return fail("JSON nested deeper than "
                        + std::to_string(limits.max_depth) + " levels");
        }
        json_error_t err;
        JsonPtr root(json_loadb(body, len, JSON_REJECT_DUPLICATES, &err));
        if (!root) {
            return fail(std::string("invalid JSON: ") + err.text + " (line "
                        + std::to_string(err.line) + ", column "
                        + std::to_string(err.column) + ")");
        }
        if (!json_is_object(root.get())) {
            return fail("the document is not a JSON object");
        }
        WalkState st{limits, 0, {}};
        if (!walk(root.get(), st)) {
            return fail(st.problem);
        }
        json_t* data = json_object_get(root.get(), "data");
        if (!json_is_object(data)) {
            return fail("\"data\" must be an object");
        }
        json_t* type = json_object_get(data, "type");
        if (!json_is_string(type)
            || std::string_view(json_string_value(type),
                                json_string_length(type))
                   != expected_type) {
            return fail("\"data.type\" must be \"" + std::string(expected_type)
                        + "\"");
        }
        json_t* attributes = json_object_get(data, "attributes");
        if (!json_is_object(attributes)) {
            return fail("\"data.attributes\" must be an object");
        }
        return DocumentResult{Document{std::move(root), attributes}, {}};
    } catch (...) {
        return fail("out of memory");
    }
}

std::string write_provider(const ProviderResource& p, std::string_view base)
{
    return single(provider_resource(p, base));
}

std::string write_providers(const std::vector<ProviderResource>& list,
                            std::string_view base, std::string_view query)
{
    JsonPtr root(json_object());
    json_t* data = json_array();
    for (const ProviderResource& p : list) {
        json_array_append_new(data, provider_resource(p, base));
    }
    set(root.get(), "data", data);
    std::string self = self_link(base, kTypeProviders, {});
    if (!query.empty()) {
        self += '?';
        self += query;
    }
    json_t* links = json_object();
    set(links, "self", json_str(self));
    set(root.get(), "links", links);
    return json_compact(root.get());
}

std::string write_subscription(const SubscriptionResource& s,
                               std::string_view base)
{
    json_t* a = json_object();
    set(a, "providerName", json_str(s.provider_name));
    set(a, "payload", s.payload ? json_incref(s.payload.get())
                                : embed_json(s.payload_json));
    set(a, "localeName", opt_str(s.locale_name));
    set(a, "group", group_object(s.group_name, s.group_identifier));
    set(a, "expiredAt", json_str(s.expired_at));
    return single(resource(kTypeSubscriptions, s.uuid, a, base));
}

std::string write_notification(const NotificationResource& n,
                               std::string_view base)
{
    json_t* a = json_object();
    set(a, "providerName", json_str(n.provider_name));
    set(a, "group", group_object(n.group_name, n.group_identifier));
    set(a, "payload", embed_json(n.payload_json));
    if (n.localized_json) {
        set(a, "localizedPayloads", embed_json(*n.localized_json));
    }
    set(a, "ttl", n.ttl ? json_integer(*n.ttl) : json_null());
    set(a, "urgency", opt_str(n.urgency));
    set(a, "topic", opt_str(n.topic));
    if (n.send_at) {
        set(a, "sendAt", json_str(util::format_rfc3339(*n.send_at)));
    }
    if (n.rate_per_minute) {
        set(a, "ratePerMinute", json_integer(*n.rate_per_minute));
    }
    if (n.delivery) {
        json_t* d = json_object();
        set(d, "targeted", json_integer(n.delivery->targeted));
        set(d, "sent", json_integer(n.delivery->sent));
        set(d, "pending", json_integer(n.delivery->pending));
        set(d, "failed", json_integer(n.delivery->failed));
        set(d, "gone", json_integer(n.delivery->gone));
        set(d, "cancelled", json_integer(n.delivery->cancelled));
        set(a, "delivery", d);
    }
    if (n.state) {
        set(a, "state", json_str(*n.state));
    }
    if (n.engagement) {
        json_t* e = json_object();
        set(e, "shown", json_integer(n.engagement->shown));
        set(e, "clicked", json_integer(n.engagement->clicked));
        set(e, "closed", json_integer(n.engagement->closed));
        set(a, "engagement", e);
    }
    return single(resource(kTypeNotifications, n.uuid, a, base));
}

std::string rfc3339_utc(std::int64_t unix_seconds)
{
    std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    if (gmtime_r(&t, &tm) == nullptr) {
        return {};
    }
    char buf[32];
    std::size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ",
                                  &tm);
    return std::string(buf, n);
}

ResourcePath parse_resource_path(std::string_view uri, std::string_view type)
{
    ResourcePath r;
    std::size_t pos = 0;
    while (pos <= uri.size()) {
        std::size_t slash = uri.find('/', pos);
        std::size_t end = slash == std::string_view::npos ? uri.size()
                                                          : slash;
        if (uri.substr(pos, end - pos) == type) {
            std::string_view rest = end < uri.size() ? uri.substr(end + 1)
                                                      : std::string_view();
            if (rest.empty()) {
                r.kind = ResourcePath::Collection;
            } else if (rest.find('/') == std::string_view::npos) {
                r.kind = ResourcePath::Item;
                r.id = rest;
            } else if (rest.find('/') == rest.size() - 1
                       && rest.size() > 1) {
                // One trailing slash after the id is tolerated.
                r.kind = ResourcePath::Item;
                r.id = rest.substr(0, rest.size() - 1);
            }
            return r;
        }
        if (slash == std::string_view::npos) {
            break;
        }
        pos = slash + 1;
    }
    return r;
}

}  // namespace webpush::api
