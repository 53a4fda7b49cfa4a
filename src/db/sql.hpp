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


/*
 * The schema version this build creates or upgrades to: the highest the
 * script records (INSERT INTO webpush_schema_version; a unit test holds
 * them equal).  Any change to the script is a new version: a database at
 * this version does not run it again.
 */
constexpr int  schema_version = 10;

/*
 * One statement, run by the first connection of every worker.  It reads
 * the version recorded, without locks that traffic would wait for: at
 * schema_version or above (a newer module ran; never downgrade) it does
 * nothing.  Below (a new database, an older version, Spryker's tables
 * without webpush_schema_version: version 0) it takes an advisory lock
 * (many workers and nodes start at once), reads the version again,
 * creates what is missing with the reference's names, and records the
 * version.  Tables that Spryker already created are used as they are.
 */
const std::string &schema_sql();

/*
 * its part of version 9, deliveries as ranges, and the end of the script
 * (sql_ranges.cpp)
 */
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

/*
 * $1 uuid -> found (boolean).  It waits for the fan-out steps under way
 * (any notification's: they are short) and no step starts meanwhile, so
 * that no step of the notification follows it.
 */
extern const Statement  notification_cancel;

/*
 * $1 uuid -> uuid, provider, group, identifier, payload, ttl, urgency,
 * topic, targeted, sent, pending, failed, gone, cancelled, send_at (Unix
 * microseconds or NULL), state, localizedPayloads ({"<locale>":{payload}}
 * text or NULL), ratePerMinute (or NULL), shown, clicked, closed
 * (engagement reports).  targeted counts the deliveries the fan-out made
 * (cancelled mid fan-out: the subscriptions reached before the cancel),
 * the others are parts of it.
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
 * fan-out waits, 0 also when a cancel runs or waits: the step is left for
 * the next try), released (deliveries of a paced notification made due),
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
