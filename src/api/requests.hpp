// Validation of the request attributes of the three POST/PATCH bodies.
// Input: a Document from read_document (or the raw body, for the one-shot
// helpers). Output: plain values for libpq parameters, plus an ErrorList
// the handler may append database findings to (5001, 5003, 5008) with
// insert_in_code_order before calling render_errors.
//
// Within one request at most one 5400 per reference message is produced:
// its detail lists every problem found, joined by "; ", so a client sees
// all of them without a 207 made of identical entries. Distinct codes
// (5002, 5009, 5400) are separate entries, as the reference collects every
// rule's error.

#ifndef WEBPUSH_API_REQUESTS_HPP
#define WEBPUSH_API_REQUESTS_HPP

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/errors.hpp"
#include "util/json.hpp"
#include "api/jsonapi.hpp"
#include "push/push_hosts.hpp"

namespace webpush::api {

// the jansson helpers (util/json.hpp) are the API's vocabulary
using namespace webpush::util;

// ---- providers -------------------------------------------------------------

struct ProviderRequest {
    std::string name;
};

struct ProviderValidation {
    std::optional<ProviderRequest> request;  // set exactly when no errors
    ErrorList errors;
};

// POST and PATCH share the rules: "name" must be a string that PHP does
// not consider falsy ("" and "0" are) → else 5400 "Wrong request body.";
// 1..255 characters (code points, as mb_strlen counts; " " is fine, names
// are not trimmed) → else 5007. A non-string name → 5400. For PATCH, name
// is the only updatable attribute, so "no name" is the reference's "every
// attribute falsy" → 5400. "uuid" in attributes is ignored.
ProviderValidation validate_provider(const Document& doc);
ProviderValidation parse_provider_request(const char* body, std::size_t len);

// ---- subscriptions ---------------------------------------------------------

enum class ContentEncoding { Aes128gcm, Aesgcm };

// The cryptographic check of the key pair (src/crypto): p256dh and auth as
// the client sent them (base64url or base64, padded or not). Return false
// and a reason (it becomes the 5400 detail) to refuse.
using KeyCheck = std::function<bool(std::string_view p256dh,
                                    std::string_view auth,
                                    std::string& reason)>;

struct SubscriptionRules {
    push::PushHosts push_hosts = push::PushHosts::defaults(); // webpush_push_hosts
    std::vector<std::string> groups;   // webpush_groups; empty = any
    std::vector<std::string> locales;  // webpush_locales; empty = any
    KeyCheck key_check;                // empty: no cryptographic check
};

struct SubscriptionRequest {
    std::string provider_name;
    std::string group_name;
    std::optional<std::string> group_identifier;  // null/absent → nullopt
    std::optional<std::string> locale_name;       // null/absent → nullopt
    // attributes.token (webpush_subscription_token_secret): checked by the
    // handler, never stored, echoed or logged. null/absent → nullopt.
    std::optional<std::string> token;

    // The payload object as received (for the 201 reply; json_compact
    // gives its text), its reference storage form (column payload) and
    // the md5 of that (column payload_checksum).
    JsonPtr payload;
    std::string payload_stored;
    std::string payload_checksum;

    // Extracted from the payload for the sender; valid only when the
    // payload passed (no 5400 about it).
    std::string endpoint;
    std::optional<push::PushEndpoint> push_endpoint;
    std::string p256dh;
    std::string auth;
    ContentEncoding content_encoding = ContentEncoding::Aes128gcm;
};

struct SubscriptionValidation {
    SubscriptionRequest request;
    ErrorList errors;
    // false: the body is unusable (no providerName / group / group.name
    // strings, wrong types, over-long group fields); errors then holds one
    // 5400 and the handler replies at once. true: providerName and group
    // are filled in even if errors is not empty, so the handler can still
    // run its database rules (5001 provider exists, 5003 duplicate) and
    // report everything together, as the reference does.
    bool usable = false;
};

// Rules in the reference's order: 5002 group allow-list, 5009 locale
// allow-list, 5400 payload. The payload must be an object with "endpoint"
// (a string accepted by rules.push_hosts) and keys as "keys":{"p256dh",
// "auth"} or as "publicKey"+"authToken" (that pair wins when both are
// present, as in the reference's check order); endpoint-only payloads are
// refused (nothing could be encrypted for them); optional
// "contentEncoding" "aes128gcm" (default) or "aesgcm" (null = absent);
// then rules.key_check. Missing providerName/group/group.name → 400/5400
// (the reference answers 500). group.name and group.identifier must be at
// most 255 characters (their varchar size); identifier, localeName and
// token must be strings or null.
SubscriptionValidation validate_subscription(const Document& doc,
                                             const SubscriptionRules& rules);
SubscriptionValidation parse_subscription_request(
    const char* body, std::size_t len, const SubscriptionRules& rules);

// ---- notifications ---------------------------------------------------------

enum class Urgency { VeryLow, Low, Normal, High };

// The Urgency header value.
const char* urgency_name(Urgency u) noexcept;

inline constexpr std::size_t kMaxNotificationPayload = 3052;
inline constexpr std::int64_t kMaxTtl = 2147483647;

// ratePerMinute: 1 to a million starts a minute (16,667 a second, more
// than one node sends; a larger value could only mean "unpaced", which
// is what leaving it out says).
inline constexpr std::int64_t kMaxRatePerMinute = 1000000;

struct NotificationRules {
    std::vector<std::string> groups;   // webpush_groups; empty = any
    std::vector<std::string> locales;  // webpush_locales; empty = any
};

// One entry of localizedPayloads: the locale name and the compact text of
// its payload (what is stored and sent to that locale's subscriptions).
struct LocalizedPayload {
    std::string locale;
    std::string payload_json;
};

struct NotificationRequest {
    std::string provider_name;
    std::string group_name;
    std::optional<std::string> group_identifier;
    JsonPtr payload;
    std::string payload_json;  // compact UTF-8: what is stored and sent
    std::optional<std::int64_t> ttl;      // seconds; absent → the default
    std::optional<Urgency> urgency;
    std::optional<std::string> topic;
    std::optional<std::int64_t> send_at;  // Unix microseconds; absent: now
    // localizedPayloads as received (nullptr when absent, null or {}) and
    // its entries in bytewise order of the locale names.
    JsonPtr localized;
    std::vector<LocalizedPayload> localized_payloads;
    // deliveries started per minute at most, all nodes together; absent:
    // as fast as the senders go
    std::optional<std::int64_t> rate_per_minute;
};

struct NotificationValidation {
    NotificationRequest request;
    ErrorList errors;
    bool usable = false;  // as for subscriptions
};

// providerName and group as for subscriptions; payload any JSON object
// whose compact serialisation is at most 3052 bytes (else 5400 "The
// maximum payload length exceeded."); ttl an integer 0..2^31-1 (larger is
// refused, not capped: a silently shortened TTL would surprise; push
// services cap it themselves anyway); urgency one of very-low, low,
// normal, high; topic 1..32 characters of the base64url alphabet, no "=",
// length % 4 != 1 (RFC 8030 topics are base64url of something). null
// means absent for ttl, urgency and topic. sendAt an RFC 3339 date-time
// (util/rfc3339.hpp; null: absent). 5002 for the group allow-list.
// localizedPayloads (null or {}: absent) an object whose keys are locale
// names (non-empty, at most 255 characters, one of rules.locales when that
// is not empty) and whose values are payloads under the rules of
// "payload" (an object, at most 3052 bytes compact, the Declarative Web
// Push check labelled "localizedPayloads.<locale>"). ratePerMinute (null:
// absent) a JSON integer from 1 to kMaxRatePerMinute: 0, negatives,
// fractions, reals such as 60.0 or 1e3, strings and booleans are refused
// (5400, the detail naming it).
NotificationValidation validate_notification(const Document& doc,
                                             const NotificationRules& rules);
NotificationValidation parse_notification_request(
    const char* body, std::size_t len, const NotificationRules& rules);

// localizedPayloads as the database stores it: {"<locale>":"<compact
// payload text>",...}, each payload a JSON string so that PostgreSQL's
// ->> gives back exactly the compact bytes. Empty when there are none or
// out of memory.
std::string localized_storage_json(const std::vector<LocalizedPayload>& l);

// localizedPayloads as the API echoes it: {"<locale>":{payload},...},
// the payloads' compact text embedded as it is. Empty when there are none.
std::string localized_echo_json(const std::vector<LocalizedPayload>& l);

}  // namespace webpush::api

#endif
