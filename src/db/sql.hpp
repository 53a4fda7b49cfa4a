/*
 * The SQL the module runs: the schema (created and upgraded at start-up)
 * and the prepared statements of the API.  Values are always statement
 * parameters; no request data is ever spliced into SQL text.
 */

#pragma once

#include <string>


namespace webpush::db {

/* a statement with a fixed name, prepared on each connection on first use */
struct Statement {
    const char  *name;
    const char  *sql;
};


/* the schema version this build creates or upgrades to */
constexpr int  schema_version = 9;

/*
 * One script, run by the first connection of every worker: takes an
 * advisory lock (many workers and nodes start at once), creates what is
 * missing with the reference's names, and records the version.  Tables
 * that Spryker already created are used as they are.
 */
const std::string &schema_sql();

/* its part of version 9: deliveries as ranges (sql_ranges.cpp) */
const std::string &schema_ranges_sql();


namespace sql {

/* $1 name -> uuid, name; no row when the name is taken */
extern const Statement  provider_create;

/* $1 uuid, $2 name -> uuid, name; no row: unknown; 23505: name taken */
extern const Statement  provider_rename;

/* $1 uuid -> found, has_notifications, has_subscriptions, deleted */
extern const Statement  provider_delete;

/* $1 uuid -> uuid, name */
extern const Statement  provider_get;

/* $1 name -> id */
extern const Statement  provider_by_name;

/*
 * $1 provider, $2 group, $3 identifier, $4 payload, $5 checksum,
 * $6 locale, $7 ttl seconds, $8 insert (false: only check)
 * -> provider_found, locale_found, duplicate, uuid, expired_at
 */
extern const Statement  subscription_create;

/* $1 uuid -> deleted (boolean) */
extern const Statement  subscription_delete;

/*
 * $1 provider, $2 group, $3 identifier, $4 payload, $5 ttl, $6 urgency,
 * $7 topic, $8 send at (Unix microseconds; NULL: now), $9 idempotency key
 * (NULL: none), $10 request fingerprint, $11 localizedPayloads as
 * {"<locale>":"<compact payload>"} (NULL: none), $12 ratePerMinute (NULL:
 * not paced) -> provider_found, uuid, conflict (the key names another
 * request), replayed (the key's notification)
 */
extern const Statement  notification_create;

/* $1 uuid -> found (boolean) */
extern const Statement  notification_cancel;

/*
 * $1 uuid -> uuid, provider, group, identifier, payload, ttl, urgency,
 * topic, targeted, sent, pending, failed, gone, cancelled, send_at (Unix
 * microseconds or NULL), state, localizedPayloads ({"<locale>":{payload}}
 * text or NULL), ratePerMinute (or NULL), shown, clicked, closed
 * (engagement reports)
 */
extern const Statement  notification_get;

/*
 * $1 notification id, $2 subscription id, $3 type (shown, clicked,
 * closed) -> nothing; counted once (a repeat changes nothing), nothing
 * stored when either is gone
 */
extern const Statement  engagement_record;

/*
 * One fan-out step: $1 chunk -> created (deliveries targeted, -1 when no
 * fan-out waits), released (deliveries of a paced notification made due),
 * pace_ms (a paced notification with more to release: milliseconds until
 * its next start slot, when a step should run again; else NULL)
 */
extern const Statement  fanout;

/*
 * $1 limit, $2 lease seconds -> id (a row's, else NULL), batch and claim
 * (a range's, else NULL and 0), notification, subscription, attempts,
 * ttl, urgency, topic, created_ms, subscription_payload, payload (the
 * subscription's locale's localized payload, else the notification's)
 */
extern const Statement  claim;

/*
 * $1 ids, $2 batches (NULL where an id is given), $3 claims,
 * $4 notifications, $5 subscriptions, $6 outcomes, $7 statuses, $8 errors,
 * $9 delays, $10 unreachable (arrays), $11 unreachable failures in a row
 * that expire a subscription
 */
extern const Statement  complete;

/*
 * The idle sender's poll, one round trip: -> a fan-out step waits (a
 * paced notification's only when its next start slot has come),
 * deliveries are due (rows or ranges: ready and due, or a lapsed lease)
 */
extern const Statement  pending;

extern const Statement  listen;

} // namespace sql


/*
 * The provider list: ORDER BY built from whitelisted fragments only
 * (order_by is one of the strings of api::sort_clause), then
 * LIMIT $1 OFFSET $2 (NULL limit: all).
 */
std::string provider_list_sql(const std::string &order_by);

} // namespace webpush::db
