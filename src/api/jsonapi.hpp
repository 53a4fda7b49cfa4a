// JSON:API documents: reading a request body into a checked tree, and
// writing the resource and collection replies. Pure (no nginx, no I/O).

#ifndef WEBPUSH_API_JSONAPI_HPP
#define WEBPUSH_API_JSONAPI_HPP

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/errors.hpp"
#include "util/json.hpp"

namespace webpush::api {

// the jansson helpers (util/json.hpp) are the API's vocabulary
using namespace webpush::util;

inline constexpr std::string_view kTypeProviders =
    "push-notification-providers";
inline constexpr std::string_view kTypeSubscriptions =
    "push-notification-subscriptions";
inline constexpr std::string_view kTypeNotifications = "push-notifications";

// Bounds applied before any field is looked at. Bodies are small (a
// subscription is a few hundred bytes, a notification payload at most
// 3052), so these only ever stop hostile input.
struct ReadLimits {
    std::size_t max_bytes = 1024 * 1024; // behind client_max_body_size
    std::size_t max_depth = 32;          // nesting of [ and {, root = 1
    std::size_t max_string = 8192;       // bytes, any string or key
    std::size_t max_values = 10000;      // values in the whole document
};

// A request body that passed read_document. attributes is borrowed from
// root and stays valid while the Document lives.
struct Document {
    JsonPtr root;
    json_t* attributes = nullptr;
};

struct DocumentResult {
    std::optional<Document> document; // set exactly when errors is empty
    ErrorList errors;                 // at most one 5400 with a detail
};

// Parses body and checks the envelope: a JSON object (UTF-8; jansson
// rejects invalid sequences and lone surrogates), no duplicate keys (PHP
// would silently keep the last one; ambiguity is refused instead), no
// \u0000 (values end up as C strings in libpq parameters), bounded by
// limits, with "data" an object whose "type" equals expected_type (a
// missing type is refused too: JSON:API requires it) and whose
// "attributes" is an object. data.id and unknown members are ignored.
// Everything else → 5400 "Wrong request body." with a detail.
DocumentResult read_document(const char* body, std::size_t len,
                             std::string_view expected_type,
                             const ReadLimits& limits = {});

// ---- replies -------------------------------------------------------------
//
// base: prefix of every links.self, e.g. "http://127.0.0.1:8080" or
// "http://host/api"; "" gives relative links ("/push-notification-
// providers/<id>"). One trailing "/" is dropped. All writers return compact
// JSON; they do not fail on odd strings (invalid UTF-8 from the database is
// replaced with U+FFFD). JSON-valued fields are taken as text (what the
// database holds); text that does not parse is written as null.

struct ProviderResource {
    std::string uuid;
    std::string name;
};

struct SubscriptionResource {
    std::string uuid;
    std::string provider_name;
    std::string payload_json;                // as stored or as received
    std::shared_ptr<json_t> payload;         // or already parsed: written
                                             // as it is (no re-parse)
    std::optional<std::string> locale_name;  // null when absent
    std::string group_name;
    std::optional<std::string> group_identifier;
    std::string expired_at;                  // RFC 3339, see rfc3339_utc
};

struct DeliveryCounts {
    std::int64_t targeted = 0;
    std::int64_t sent = 0;
    std::int64_t pending = 0;
    std::int64_t failed = 0;
    std::int64_t gone = 0;
    std::int64_t cancelled = 0;
};

// What service workers reported (webpush_events): deliveries shown,
// clicked, closed; each counted once per delivery.
struct EngagementCounts {
    std::int64_t shown = 0;
    std::int64_t clicked = 0;
    std::int64_t closed = 0;
};

// Optional attributes are written as null when absent, as the reference
// does for its attributes.
struct NotificationResource {
    std::string uuid;
    std::string provider_name;
    std::string group_name;
    std::optional<std::string> group_identifier;
    std::string payload_json;
    std::optional<std::int64_t> ttl;
    std::optional<std::string> urgency;
    std::optional<std::string> topic;
    std::optional<std::int64_t> send_at;  // Unix µs; "sendAt" when set
    // "localizedPayloads" when set: {"<locale>":{payload},...} as text
    std::optional<std::string> localized_json;
    std::optional<std::int64_t> rate_per_minute;  // "ratePerMinute" when set
    std::optional<DeliveryCounts> delivery;  // GET only
    std::optional<std::string> state;  // GET only: scheduled, sending...
    std::optional<EngagementCounts> engagement;  // GET only
};

// {"data":{resource}}
std::string write_provider(const ProviderResource& p, std::string_view base);
std::string write_subscription(const SubscriptionResource& s,
                               std::string_view base);
std::string write_notification(const NotificationResource& n,
                               std::string_view base);

// {"data":[...],"links":{"self":"<base>/<type>[?query]"}}; query is the
// raw query string without "?" (r->args), written as received.
std::string write_providers(const std::vector<ProviderResource>& list,
                            std::string_view base, std::string_view query);

// "2024-05-01T12:00:00Z" for a Unix time.
std::string rfc3339_utc(std::int64_t unix_seconds);

// ---- paths ----------------------------------------------------------------

// Where a URI points relative to a resource type (INTERFACE.md §2: the id
// is the segment after the type name).
struct ResourcePath {
    enum Kind { NotFound, Collection, Item } kind = NotFound;
    std::string_view id;  // Item only; not yet syntax-checked
};

// "/api/push-notification-providers" (or with a trailing "/") →
// Collection; ".../push-notification-providers/<id>" → Item; a missing
// type segment, an empty id followed by more, or segments after the id →
// NotFound. uri is the path without the query string (r->uri).
ResourcePath parse_resource_path(std::string_view uri,
                                 std::string_view type);

}  // namespace webpush::api

#endif
