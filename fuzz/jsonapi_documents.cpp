// JSON:API request bodies: read_document and the validators of the three
// POST/PATCH bodies (providers, subscriptions with a fake and with the real
// cryptographic key check, notifications), then the replies built from the
// outcome. Every input goes through every validator (a body of the wrong
// type is refused cheaply by read_document).

#include <algorithm>
#include <stdexcept>
#include <string>

#include "api/errors.hpp"
#include "api/jsonapi.hpp"
#include "api/php_json.hpp"
#include "api/requests.hpp"
#include "crypto/keys.hpp"
#include "fuzz_common.hpp"
#include "queue/item.hpp"
#include "sender/stored.hpp"

using namespace webpush::api;
using webpush_fuzz::parses_as_json;

namespace {

void check_errors(const ErrorList& errors)
{
    ErrorReply reply = render_errors(errors);
    FUZZ_CHECK(reply.status >= 200 && reply.status < 600, "status");
    FUZZ_CHECK(parses_as_json(reply.body), "error reply is JSON");
}

bool is_lower_hex(const std::string& s)
{
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
}

void subscription(const Document& doc, const SubscriptionRules& rules,
                  bool real_keys)
{
    SubscriptionValidation v = validate_subscription(doc, rules);
    if (!v.errors.empty()) {
        check_errors(v.errors);
        return;
    }
    FUZZ_CHECK(v.usable, "no errors means usable");
    const SubscriptionRequest& r = v.request;
    FUZZ_CHECK(r.push_endpoint.has_value(), "endpoint accepted");
    FUZZ_CHECK(!r.p256dh.empty() && !r.auth.empty(), "keys present");
    FUZZ_CHECK(r.payload_checksum.size() == 32
                   && is_lower_hex(r.payload_checksum),
               "md5 hex");
    FUZZ_CHECK(parses_as_json(r.payload_stored), "PHP form is JSON");
    FUZZ_CHECK(r.payload_stored.find_first_of("<>&'") == std::string::npos,
               "PHP form escapes <>&'");
    std::string reason;
    std::string again;
    FUZZ_CHECK(rules.push_hosts.match(r.endpoint, again).has_value(),
               "the sender's re-match accepts what the API accepted");
    // What the sender reads back from the payload column (the PHP form)
    // is what the API validated.
    auto stored = webpush::sender::parse_stored_subscription(r.payload_stored,
                                                             reason);
    FUZZ_CHECK(stored.has_value(), "the stored form parses");
    FUZZ_CHECK(stored->endpoint == r.endpoint, "stored endpoint");
    FUZZ_CHECK(stored->p256dh == r.p256dh && stored->auth == r.auth,
               "the sender reads the keys the API checked");
    FUZZ_CHECK(stored->aesgcm == (r.content_encoding
                                  == ContentEncoding::Aesgcm),
               "stored content encoding");
    if (real_keys) {
        FUZZ_CHECK(webpush::crypto::SubscriptionKeys::parse(r.p256dh, r.auth,
                                                            reason)
                       .has_value(),
                   "the sender's key parse accepts what the API accepted");
        webpush::queue::Delivery d;
        d.endpoint = r.endpoint;
        d.p256dh = r.p256dh;
        d.auth = r.auth;
        d.payload = std::string(kMaxNotificationPayload, 'x');
        d.topic = std::string(32, 't');
        FUZZ_CHECK(webpush::queue::check(d) == nullptr,
                   "an accepted subscription fits a queue item");
    }
    SubscriptionResource res;
    res.uuid = "00000000-0000-4000-8000-000000000001";
    res.provider_name = r.provider_name;
    res.payload_json = json_compact(r.payload.get());
    res.locale_name = r.locale_name;
    res.group_name = r.group_name;
    res.group_identifier = r.group_identifier;
    res.expired_at = rfc3339_utc(0);
    FUZZ_CHECK(parses_as_json(write_subscription(res, "http://h")),
               "201 reply is JSON");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size)
{
    const char* body = reinterpret_cast<const char*>(data);
    static const std::string_view types[] = {
        kTypeProviders, kTypeSubscriptions, kTypeNotifications};

    // The envelope with tight limits, so that each of them is reached, for
    // one type chosen by the input.
    ReadLimits tight;
    tight.max_bytes = 4096;
    tight.max_depth = 4;
    tight.max_string = 64;
    tight.max_values = 64;
    DocumentResult t = read_document(body, size,
                                     types[size > 0 ? data[size - 1] % 3 : 0],
                                     tight);
    FUZZ_CHECK(t.document.has_value() == t.errors.empty(),
               "document xor errors");
    if (!t.document) {
        check_errors(t.errors);
    }

    // The parse_*_request helpers are read_document + validate_*; the body
    // is read once per type here and the Document shared.
    DocumentResult docs[3];
    for (int i = 0; i < 3; i++) {
        docs[i] = read_document(body, size, types[i]);
        FUZZ_CHECK(docs[i].document.has_value() == docs[i].errors.empty(),
                   "document xor errors");
        if (docs[i].document) {
            FUZZ_CHECK(json_is_object(docs[i].document->attributes),
                       "attributes");
        } else {
            check_errors(docs[i].errors);
        }
    }

    // Providers.
    if (docs[0].document) {
        ProviderValidation p = validate_provider(*docs[0].document);
        if (p.errors.empty()) {
            FUZZ_CHECK(p.request.has_value(), "provider request");
            const std::string& name = p.request->name;
            FUZZ_CHECK(!name.empty() && name != "0", "PHP-truthy name");
            FUZZ_CHECK(utf8_length(name) <= 255, "name length");
            FUZZ_CHECK(parses_as_json(write_provider({"u", name}, "")),
                       "provider reply is JSON");
        } else {
            FUZZ_CHECK(!p.request.has_value(), "no request with errors");
            check_errors(p.errors);
        }
    }

    // Subscriptions: a fake key check (both answers and a throw), then the
    // real one the module installs (ngx_http_webpush_module.cpp).
    if (docs[1].document) {
        static const SubscriptionRules fake = [] {
            SubscriptionRules r;
            std::string ignored;
            r.push_hosts.add("http://127.0.0.1:9999", ignored);
            r.push_hosts.add("[::1]:8443", ignored);
            r.groups = {"warehouse", "store"};
            r.locales = {"en_US", "de_DE"};
            r.key_check = [](std::string_view p256dh, std::string_view auth,
                             std::string& reason) {
                std::size_t n = p256dh.size() + auth.size();
                if (n % 7 == 0) {
                    throw std::runtime_error("key check failed");
                }
                if (n % 3 == 0) {
                    reason = "fake refusal";
                    return false;
                }
                return true;
            };
            return r;
        }();
        static const SubscriptionRules real = [] {
            SubscriptionRules r;
            r.key_check = [](std::string_view p256dh, std::string_view auth,
                             std::string& reason) {
                return webpush::crypto::SubscriptionKeys::parse(p256dh, auth,
                                                                reason)
                    .has_value();
            };
            return r;
        }();
        subscription(*docs[1].document, fake, false);
        subscription(*docs[1].document, real, true);
    }

    // Notifications.
    if (docs[2].document) {
        NotificationRules nrules;
        nrules.groups = {"warehouse"};
        NotificationValidation n = validate_notification(*docs[2].document,
                                                         nrules);
        if (n.errors.empty()) {
            const NotificationRequest& r = n.request;
            FUZZ_CHECK(r.payload_json.size() <= kMaxNotificationPayload,
                       "payload size");
            FUZZ_CHECK(parses_as_json(r.payload_json), "payload is JSON");
            FUZZ_CHECK(!r.ttl || (*r.ttl >= 0 && *r.ttl <= kMaxTtl), "ttl");
            if (r.topic) {
                FUZZ_CHECK(!r.topic->empty() && r.topic->size() <= 32
                               && r.topic->find_first_not_of(
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
                                      "klmnopqrstuvwxyz0123456789-_")
                                      == std::string::npos,
                           "topic is a header-safe token");
            }
            NotificationResource res;
            res.uuid = "u";
            res.provider_name = r.provider_name;
            res.group_name = r.group_name;
            res.group_identifier = r.group_identifier;
            res.payload_json = r.payload_json;
            res.ttl = r.ttl;
            if (r.urgency) {
                res.urgency = urgency_name(*r.urgency);
            }
            res.topic = r.topic;
            res.delivery = DeliveryCounts{};
            FUZZ_CHECK(parses_as_json(write_notification(res, "")),
                       "notification reply is JSON");
        } else {
            check_errors(n.errors);
        }
    }

    // The PHP encoder over any document read_document accepted (with any
    // type), not only over subscription payloads.
    for (const DocumentResult& d : docs) {
        if (d.document) {
            std::optional<std::string> php =
                php_json_encode(d.document->root.get());
            FUZZ_CHECK(php && parses_as_json(*php),
                       "php_json_encode gives JSON");
            break;
        }
    }
    return 0;
}
