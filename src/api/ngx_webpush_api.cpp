/*
 * The Spryker Glue-compatible JSON:API handlers: providers and
 * subscriptions.  Validation is src/api's pure code; every database rule
 * runs as one statement (src/db/sql.cpp), so a request is one round trip.
 */

#include "ngx_webpush_conf.hpp"
#include "ngx_webpush_objects.hpp"

#include "api/idempotency.hpp"
#include "api/jsonapi.hpp"
#include "api/ngx_webpush_access.hpp"
#include "api/ngx_webpush_api.hpp"
#include "api/ngx_webpush_reply.hpp"
#include "api/ngx_webpush_request.hpp"
#include "api/query.hpp"
#include "api/requests.hpp"
#include "api/uuid.hpp"

#include <vector>


namespace webpush {

namespace {

using api::ErrorCode;


std::string
value(const PGresult *res, int row, int col)
{
    return std::string(PQgetvalue(res, row, col),
                       PQgetlength(res, row, col));
}


bool
flag(const PGresult *res, int row, int col)
{
    return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't';
}


constexpr const char  *subscription_not_found =
    "Push notification subscription not found.";
constexpr const char  *notification_not_found = "Push notification not found.";


/* a subscription or notification that does not exist (the reference has
 * no code for these: its API cannot address them) */
ngx_int_t
item_not_found(ngx_http_request_t *r, const char *message)
{
    return send_error(r, api::custom_error("404", 404, message));
}


ngx_int_t
provider_not_found(ngx_http_request_t *r)
{
    return send_error(r, api::make_error(ErrorCode::ProviderNotFound));
}


/* 200/201 with the provider in the first row of res */
ngx_int_t
send_provider(ngx_http_request_t *r, ngx_uint_t status, const PGresult *res)
{
    api::ProviderResource p{value(res, 0, 0), value(res, 0, 1)};

    return send_document(r, status,
                         api::write_provider(p, link_base(
                             r, api::kTypeProviders)));
}


/* providers ------------------------------------------------------------- */

ngx_int_t
list_providers(ngx_http_request_t *r)
{
    api::QueryResult parsed = api::parse_collection_query(to_view(r->args));

    if (!parsed.query) {
        return send_errors(r, parsed.errors);
    }

    db::Params params;

    if (parsed.query->page) {
        params.add(static_cast<long long>(parsed.query->page->limit));
        params.add(static_cast<long long>(parsed.query->page->offset));

    } else {
        params.add_null().add(0LL);
    }

    return query_sql(r, db::provider_list_sql(parsed.query->order_by),
                     std::move(params),
                     [](ngx_http_request_t *r, db::Outcome &&o) {
        if (!o.ok()) {
            return internal_error(r, o);
        }

        std::vector<api::ProviderResource> list;
        const PGresult *res = o.result.get();

        for (int i = 0; i < PQntuples(res); i++) {
            list.push_back({value(res, i, 0), value(res, i, 1)});
        }

        return send_document(r, NGX_HTTP_OK,
                             api::write_providers(
                                 list, link_base(r, api::kTypeProviders),
                                 to_view(r->args)));
    });
}


ngx_int_t
get_provider(ngx_http_request_t *r, std::string_view id)
{
    return query(r, db::sql::provider_get, db::Params().add(id),
                 [](ngx_http_request_t *r, db::Outcome &&o) {
        if (!o.ok()) {
            return internal_error(r, o);
        }

        if (PQntuples(o.result.get()) == 0) {
            return provider_not_found(r);
        }

        return send_provider(r, NGX_HTTP_OK, o.result.get());
    });
}


ngx_int_t
create_provider(ngx_http_request_t *r, std::string &&body)
{
    api::ProviderValidation v = api::parse_provider_request(body.data(),
                                                            body.size());
    if (!v.request) {
        return send_errors(r, v.errors);
    }

    return query(r, db::sql::provider_create,
                 db::Params().add(v.request->name),
                 [](ngx_http_request_t *r, db::Outcome &&o) {
        if (!o.ok()) {
            return internal_error(r, o);
        }

        if (PQntuples(o.result.get()) == 0) {
            return send_error(r, api::make_error(
                                     ErrorCode::ProviderNameExists));
        }

        return send_provider(r, NGX_HTTP_CREATED, o.result.get());
    });
}


/* the id of the item the URI names; checked by the caller's parse */
std::string
item_id(ngx_http_request_t *r, std::string_view type)
{
    return std::string(api::parse_resource_path(to_view(r->uri), type).id);
}


ngx_int_t
rename_provider(ngx_http_request_t *r, std::string &&body)
{
    api::ProviderValidation v = api::parse_provider_request(body.data(),
                                                            body.size());
    if (!v.request) {
        return send_errors(r, v.errors);
    }

    return query(r, db::sql::provider_rename,
                 db::Params().add(item_id(r, api::kTypeProviders))
                             .add(v.request->name),
                 [](ngx_http_request_t *r, db::Outcome &&o) {
        if (!o.ok()) {
            if (o.sqlstate == "23505") {
                return send_error(r, api::make_error(
                                         ErrorCode::ProviderNameExists));
            }

            return internal_error(r, o);
        }

        if (PQntuples(o.result.get()) == 0) {
            return provider_not_found(r);
        }

        return send_provider(r, NGX_HTTP_OK, o.result.get());
    });
}


ngx_int_t
delete_provider(ngx_http_request_t *r, std::string_view id)
{
    return query(r, db::sql::provider_delete, db::Params().add(id),
                 [](ngx_http_request_t *r, db::Outcome &&o) {
        api::ErrorList errors;

        if (!o.ok()) {
            if (o.sqlstate != "23503") {
                return internal_error(r, o);
            }

            /* something started using the provider while we looked */
            errors.push_back(api::make_error(
                o.constraint.find("_sub") != std::string::npos
                    ? ErrorCode::ProviderHasSubscriptions
                    : ErrorCode::ProviderHasNotifications));
            return send_errors(r, errors);
        }

        const PGresult *res = o.result.get();

        if (!flag(res, 0, 0)) {
            return provider_not_found(r);
        }

        if (flag(res, 0, 1)) {
            errors.push_back(api::make_error(
                                 ErrorCode::ProviderHasNotifications));
        }

        if (flag(res, 0, 2)) {
            errors.push_back(api::make_error(
                                 ErrorCode::ProviderHasSubscriptions));
        }

        if (!errors.empty()) {
            return send_errors(r, errors);
        }

        return send_reply(r, NGX_HTTP_NO_CONTENT, json_api_type, "");
    });
}


/* subscriptions ---------------------------------------------------------- */

ngx_int_t
create_subscription(ngx_http_request_t *r, std::string &&body)
{
    MainConf *mcf = main_conf(r);

    api::SubscriptionValidation v = api::parse_subscription_request(
        body.data(), body.size(), mcf->objects->subscription_rules);

    if (!v.usable) {
        return send_errors(r, v.errors);
    }

    const api::SubscriptionRequest &s = v.request;

    /* before any SQL: a refused client learns nothing of the database */
    if (!subscription_allowed(r, s)) {
        return send_error(r, api::make_error(
                                 ErrorCode::NotAllowedToSubscribe));
    }

    db::Params params;

    params.add(s.provider_name).add(s.group_name);

    if (s.group_identifier) {
        params.add(*s.group_identifier);

    } else {
        params.add_null();
    }

    params.add(s.payload_stored).add(s.payload_checksum);

    if (s.locale_name) {
        params.add(*s.locale_name);

    } else {
        params.add_null();
    }

    params.add(static_cast<long long>(mcf->subscription_ttl))
          .add(v.errors.empty() ? "true" : "false");

    /* what the reply needs once the row exists */
    api::SubscriptionResource reply;
    reply.provider_name = s.provider_name;
    reply.payload = std::shared_ptr<json_t>(json_incref(s.payload.get()),
                                            json_decref);
    reply.locale_name = s.locale_name;
    reply.group_name = s.group_name;
    reply.group_identifier = s.group_identifier;

    return query(r, db::sql::subscription_create, std::move(params),
                 [errors = std::move(v.errors), reply = std::move(reply)]
                 (ngx_http_request_t *r, db::Outcome &&o) mutable {
        if (!o.ok()) {
            return internal_error(r, o);
        }

        const PGresult *res = o.result.get();

        if (!flag(res, 0, 0)) {
            api::insert_in_code_order(errors, api::make_error(
                                          ErrorCode::ProviderNotFound));
        }

        if (flag(res, 0, 2)) {
            api::insert_in_code_order(errors, api::make_error(
                                          ErrorCode::SubscriptionExists));
        }

        if (!flag(res, 0, 1)) {
            api::insert_in_code_order(errors, api::make_error(
                                          ErrorCode::LocaleNotFound));
        }

        if (!errors.empty()) {
            return send_errors(r, errors);
        }

        reply.uuid = value(res, 0, 3);
        reply.expired_at = value(res, 0, 4);

        return send_document(r, NGX_HTTP_CREATED,
                             api::write_subscription(reply, link_base(
                                 r, api::kTypeSubscriptions)));
    });
}


ngx_int_t
delete_subscription(ngx_http_request_t *r, std::string_view id)
{
    return query(r, db::sql::subscription_delete, db::Params().add(id),
                 [](ngx_http_request_t *r, db::Outcome &&o) {
        if (!o.ok()) {
            return internal_error(r, o);
        }

        if (!flag(o.result.get(), 0, 0)) {
            return item_not_found(r, subscription_not_found);
        }

        return send_reply(r, NGX_HTTP_NO_CONTENT, json_api_type, "");
    });
}


/* notifications ---------------------------------------------------------- */

std::optional<std::string>
nullable(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col)) {
        return std::nullopt;
    }

    return value(res, row, col);
}


/*
 * The request's Idempotency-Key header: found (the last one, if sent more
 * than once) or not.
 */
ngx_table_elt_t *
idempotency_key(ngx_http_request_t *r)
{
    static const ngx_str_t  name = ngx_string("Idempotency-Key");
    ngx_table_elt_t        *found = nullptr;
    ngx_list_part_t        *part = &r->headers_in.headers.part;
    ngx_table_elt_t        *h = static_cast<ngx_table_elt_t *>(part->elts);

    for (ngx_uint_t i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == nullptr) {
                break;
            }

            part = part->next;
            h = static_cast<ngx_table_elt_t *>(part->elts);
            i = 0;
        }

        if (h[i].key.len == name.len
            && ngx_strncasecmp(h[i].key.data, name.data, name.len) == 0)
        {
            found = &h[i];
        }
    }

    return found;
}


ngx_int_t
create_notification(ngx_http_request_t *r, std::string &&body)
{
    MainConf *mcf = main_conf(r);

    std::optional<std::string>  key;
    ngx_table_elt_t            *key_header = idempotency_key(r);

    if (key_header != nullptr) {
        std::string_view k = to_view(key_header->value);

        if (!api::idempotency_key_ok(k)) {
            return send_error(r, api::wrong_request_body(
                "\"Idempotency-Key\" must be 1 to 255 printable ASCII "
                "characters"));
        }

        key = std::string(k);
    }

    api::NotificationValidation v = api::parse_notification_request(
        body.data(), body.size(), mcf->objects->notification_rules);

    if (!v.usable) {
        return send_errors(r, v.errors);
    }

    const api::NotificationRequest &n = v.request;

    api::NotificationResource reply;
    reply.provider_name = n.provider_name;
    reply.group_name = n.group_name;
    reply.group_identifier = n.group_identifier;
    reply.payload_json = n.payload_json;
    reply.ttl = n.ttl ? *n.ttl : static_cast<int64_t>(mcf->message_ttl);

    if (n.urgency) {
        reply.urgency = api::urgency_name(*n.urgency);
    }

    reply.topic = n.topic;
    reply.send_at = n.send_at;
    reply.rate_per_minute = n.rate_per_minute;

    std::string localized;

    if (!n.localized_payloads.empty()) {
        reply.localized_json = api::localized_echo_json(
                                                    n.localized_payloads);
        localized = api::localized_storage_json(n.localized_payloads);

        if (reply.localized_json->empty() || localized.empty()) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "webpush: localizedPayloads could not be "
                          "serialised (out of memory?)");
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    db::Params params;
    params.add(n.provider_name).add(n.group_name);

    if (n.group_identifier) {
        params.add(*n.group_identifier);

    } else {
        params.add_null();
    }

    params.add(n.payload_json);

    if (n.ttl) {
        params.add(static_cast<long long>(*n.ttl));

    } else {
        params.add_null();
    }

    if (reply.urgency) {
        params.add(*reply.urgency);

    } else {
        params.add_null();
    }

    if (n.topic) {
        params.add(*n.topic);

    } else {
        params.add_null();
    }

    if (n.send_at) {
        params.add(static_cast<long long>(*n.send_at));

    } else {
        params.add_null();
    }

    if (key) {
        std::string fingerprint = api::notification_fingerprint(n);

        if (fingerprint.empty()) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "webpush: no fingerprint for an idempotent "
                          "notification (out of memory?)");
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        params.add(*key).add(fingerprint);

    } else {
        params.add_null().add_null();
    }

    if (!localized.empty()) {
        params.add(localized);

    } else {
        params.add_null();
    }

    if (n.rate_per_minute) {
        params.add(static_cast<long long>(*n.rate_per_minute));

    } else {
        params.add_null();
    }

    /*
     * Errors found already (group allow-list, payload): nothing is stored,
     * but whether the provider exists is reported with them, as for
     * subscriptions.
     */
    if (!v.errors.empty()) {
        return query(r, db::sql::provider_by_name,
                     db::Params().add(n.provider_name),
                     [errors = std::move(v.errors)]
                     (ngx_http_request_t *r, db::Outcome &&o) mutable {
            if (!o.ok()) {
                return internal_error(r, o);
            }

            if (PQntuples(o.result.get()) == 0) {
                api::insert_in_code_order(errors, api::make_error(
                                              ErrorCode::ProviderNotFound));
            }

            return send_errors(r, errors);
        });
    }

    return query(r, db::sql::notification_create, std::move(params),
                 [reply = std::move(reply)]
                 (ngx_http_request_t *r, db::Outcome &&o) mutable {
        if (!o.ok()) {
            return internal_error(r, o);
        }

        if (!flag(o.result.get(), 0, 0)) {
            return provider_not_found(r);
        }

        if (flag(o.result.get(), 0, 2)) {
            return send_error(r, api::make_error(
                                     ErrorCode::IdempotencyKeyReused));
        }

        /* a replay (the key's notification) is answered as its creation */
        reply.uuid = value(o.result.get(), 0, 1);

        /* acknowledged: committed, the sender will find it */
        return send_document(r, NGX_HTTP_CREATED,
                             api::write_notification(reply, link_base(
                                 r, api::kTypeNotifications)));
    });
}


ngx_int_t
get_notification(ngx_http_request_t *r, std::string_view id)
{
    return query(r, db::sql::notification_get, db::Params().add(id),
                 [](ngx_http_request_t *r, db::Outcome &&o) {
        if (!o.ok()) {
            return internal_error(r, o);
        }

        const PGresult *res = o.result.get();

        if (PQntuples(res) == 0) {
            return item_not_found(r, notification_not_found);
        }

        MainConf *mcf = main_conf(r);
        api::NotificationResource n;

        n.uuid = value(res, 0, 0);
        n.provider_name = value(res, 0, 1);
        n.group_name = value(res, 0, 2);
        n.group_identifier = nullable(res, 0, 3);
        n.payload_json = value(res, 0, 4);
        n.ttl = PQgetisnull(res, 0, 5)
                ? static_cast<int64_t>(mcf->message_ttl)
                : std::stoll(value(res, 0, 5));
        n.urgency = nullable(res, 0, 6);
        n.topic = nullable(res, 0, 7);

        api::DeliveryCounts c;
        c.targeted = std::stoll(value(res, 0, 8));
        c.sent = std::stoll(value(res, 0, 9));
        c.pending = std::stoll(value(res, 0, 10));
        c.failed = std::stoll(value(res, 0, 11));
        c.gone = std::stoll(value(res, 0, 12));
        c.cancelled = std::stoll(value(res, 0, 13));
        n.delivery = c;

        if (!PQgetisnull(res, 0, 14)) {
            n.send_at = std::stoll(value(res, 0, 14));
        }

        n.state = value(res, 0, 15);
        n.localized_json = nullable(res, 0, 16);

        if (!PQgetisnull(res, 0, 17)) {
            n.rate_per_minute = std::stoll(value(res, 0, 17));
        }

        api::EngagementCounts e;
        e.shown = std::stoll(value(res, 0, 18));
        e.clicked = std::stoll(value(res, 0, 19));
        e.closed = std::stoll(value(res, 0, 20));
        n.engagement = e;

        return send_document(r, NGX_HTTP_OK,
                             api::write_notification(n, link_base(
                                 r, api::kTypeNotifications)));
    });
}


/*
 * DELETE: the notification is cancelled (sql.cpp,
 * webpush_notification_cancel): nothing more is sent; kept for GET.
 */
ngx_int_t
cancel_notification(ngx_http_request_t *r, std::string_view id)
{
    return query(r, db::sql::notification_cancel, db::Params().add(id),
                 [](ngx_http_request_t *r, db::Outcome &&o) {
        if (!o.ok()) {
            return internal_error(r, o);
        }

        if (!flag(o.result.get(), 0, 0)) {
            return item_not_found(r, notification_not_found);
        }

        return send_reply(r, NGX_HTTP_NO_CONTENT, json_api_type, "");
    });
}


ngx_int_t
notification_item(ngx_http_request_t *r, std::string_view id)
{
    if (r->method == NGX_HTTP_DELETE) {
        return cancel_notification(r, id);
    }

    return get_notification(r, id);
}


ngx_int_t
not_found(ngx_http_request_t *r)
{
    return send_error(r, api::custom_error("404", 404, "Not found."));
}

} // namespace


ngx_int_t
providers_handler(ngx_http_request_t *r)
{
    api::ResourcePath path = api::parse_resource_path(to_view(r->uri),
                                                      api::kTypeProviders);

    if (path.kind == api::ResourcePath::NotFound) {
        return not_found(r);
    }

    if (path.kind == api::ResourcePath::Collection) {
        if (r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD)) {
            ngx_int_t rc = ngx_http_discard_request_body(r);
            return rc != NGX_OK ? rc : list_providers(r);
        }

        if (r->method == NGX_HTTP_POST) {
            return read_body(r, create_provider);
        }

        return NGX_HTTP_NOT_ALLOWED;
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_PATCH
                       |NGX_HTTP_DELETE)))
    {
        return NGX_HTTP_NOT_ALLOWED;
    }

    /* a malformed id cannot name a provider: no need to ask the database */
    if (!api::uuid_syntax_ok(path.id)) {
        ngx_int_t rc = ngx_http_discard_request_body(r);
        return rc != NGX_OK ? rc : provider_not_found(r);
    }

    if (r->method == NGX_HTTP_PATCH) {
        return read_body(r, rename_provider);
    }

    ngx_int_t rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (r->method == NGX_HTTP_DELETE) {
        return delete_provider(r, path.id);
    }

    return get_provider(r, path.id);
}


namespace {

/*
 * The shape subscriptions and notifications share: POST on the collection
 * creates, one method on an item (addressed by a uuid) reads or deletes.
 */
ngx_int_t
route(ngx_http_request_t *r, std::string_view type, BodyHandler create,
    ngx_uint_t item_methods,
    ngx_int_t (*item)(ngx_http_request_t *r, std::string_view id),
    const char *missing)
{
    api::ResourcePath path = api::parse_resource_path(to_view(r->uri), type);

    if (path.kind == api::ResourcePath::NotFound) {
        return not_found(r);
    }

    if (path.kind == api::ResourcePath::Collection) {
        if (r->method != NGX_HTTP_POST) {
            return NGX_HTTP_NOT_ALLOWED;
        }

        return read_body(r, create);
    }

    if (!(r->method & item_methods)) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    ngx_int_t rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    /* a malformed id names nothing: no need to ask the database */
    if (!api::uuid_syntax_ok(path.id)) {
        return item_not_found(r, missing);
    }

    return item(r, path.id);
}

} // namespace


ngx_int_t
notifications_handler(ngx_http_request_t *r)
{
    return route(r, api::kTypeNotifications, create_notification,
                 NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_DELETE,
                 notification_item, notification_not_found);
}


ngx_int_t
subscriptions_handler(ngx_http_request_t *r)
{
    return route(r, api::kTypeSubscriptions, create_subscription,
                 NGX_HTTP_DELETE, delete_subscription,
                 subscription_not_found);
}

} // namespace webpush
