/*
 * The prepared statements of the API and the sender; see sql.hpp.  The
 * schema they run against is sql.cpp's (and sql_ranges.cpp's).
 */

#include "db/sql.hpp"


namespace webpush::db {

namespace sql {

const Statement  provider_create = {
    "webpush_provider_create",
    "INSERT INTO spy_push_notification_provider"
    " (id_push_notification_provider, uuid, name, created_at, updated_at)"
    " VALUES (nextval('id_push_notification_provider_pk_seq'),"
    " gen_random_uuid()::text, $1, now(), now())"
    " ON CONFLICT (name) DO NOTHING"
    " RETURNING uuid, name"
};

const Statement  provider_rename = {
    "webpush_provider_rename",
    "UPDATE spy_push_notification_provider"
    " SET name = $2, updated_at = now()"
    " WHERE uuid = $1"
    " RETURNING uuid, name"
};

/*
 * One statement: the checks and the delete see the same snapshot; a
 * subscription or notification added meanwhile makes the delete fail on
 * its foreign key (23503), which the handler reports like the check.
 */
const Statement  provider_delete = {
    "webpush_provider_delete",
    "WITH p AS (SELECT id_push_notification_provider AS id"
    "           FROM spy_push_notification_provider WHERE uuid = $1),"
    " n AS (SELECT EXISTS (SELECT 1 FROM spy_push_notification x, p"
    "       WHERE x.fk_push_notification_provider = p.id) AS v),"
    " s AS (SELECT EXISTS (SELECT 1 FROM spy_push_notification_subscription x,"
    "       p WHERE x.fk_push_notification_provider = p.id) AS v),"
    " d AS (DELETE FROM spy_push_notification_provider"
    "       WHERE id_push_notification_provider IN (SELECT id FROM p)"
    "         AND NOT (SELECT v FROM n) AND NOT (SELECT v FROM s)"
    "       RETURNING 1)"
    " SELECT EXISTS (SELECT 1 FROM p), (SELECT v FROM n), (SELECT v FROM s),"
    "        EXISTS (SELECT 1 FROM d)"
};

const Statement  provider_get = {
    "webpush_provider_get",
    "SELECT uuid, name FROM spy_push_notification_provider WHERE uuid = $1"
};

const Statement  provider_by_name = {
    "webpush_provider_by_name",
    "SELECT id_push_notification_provider FROM spy_push_notification_provider"
    " WHERE name = $1"
};

const Statement  subscription_create = {
    "webpush_subscription_create",
    "SELECT provider_found, locale_found, duplicate, uuid, expired_at"
    " FROM webpush_subscription_create($1, $2, $3, $4, $5, $6, $7, $8)"
};

const Statement  subscription_delete = {
    "webpush_subscription_delete",
    "SELECT webpush_subscription_delete($1)"
};

const Statement  notification_create = {
    "webpush_notification_create7",
    "SELECT provider_found, uuid, conflict, replayed"
    " FROM webpush_notification_create($1, $2, $3, $4, $5, $6, $7,"
    "      timestamptz 'epoch' + $8::bigint * interval '1 microsecond',"
    "      $9, $10, $11::jsonb, $12::integer)"
};

/*
 * The fan-out lock first (see fanout below): the cancel waits for the
 * steps under way, and no step starts from when it waits until it is
 * done, so that it lands between two steps of its notification.
 */
const Statement  notification_cancel = {
    "webpush_notification_cancel",
    "WITH l AS MATERIALIZED (SELECT pg_advisory_xact_lock(8675303))"
    " SELECT webpush_notification_cancel($1) FROM l"
};

const Statement  notification_get = {
    "webpush_notification_get",
    "SELECT n.uuid, p.name, g.name, g.identifier, n.payload, w.ttl,"
    "       w.urgency, w.topic, c.targeted, c.sent, c.pending, c.failed,"
    "       c.gone, c.cancelled,"
    "       (extract(epoch FROM w.send_at) * 1000000)::bigint,"
    "       CASE WHEN w.cancelled_at IS NOT NULL THEN 'cancelled'"
    "            WHEN w.send_at > now() THEN 'scheduled'"
    "            WHEN NOT coalesce(w.fanout_done, true) OR c.pending > 0"
    "                THEN 'sending'"
    "            ELSE 'done' END,"
    "       (SELECT '{' || string_agg(to_json(e.key)::text || ':' || e.value,"
    "                                 ',' ORDER BY e.key COLLATE \"C\")"
    "               || '}'"
    "        FROM jsonb_each_text(w.localized_payloads) e),"
    "       w.rate_per_minute,"
    "       x.shown, x.clicked, x.closed"
    " FROM spy_push_notification n"
    " JOIN spy_push_notification_provider p"
    "   ON p.id_push_notification_provider = n.fk_push_notification_provider"
    " JOIN spy_push_notification_group g"
    "   ON g.id_push_notification_group = n.fk_push_notification_group"
    " LEFT JOIN webpush_notification w"
    "   ON w.fk_push_notification = n.id_push_notification"
    " CROSS JOIN LATERAL"
    "   webpush_notification_counts(n.id_push_notification) c"
    " CROSS JOIN LATERAL ("
    "   SELECT count(*) FILTER (WHERE e.type = 'shown') AS shown,"
    "          count(*) FILTER (WHERE e.type = 'clicked') AS clicked,"
    "          count(*) FILTER (WHERE e.type = 'closed') AS closed"
    "   FROM webpush_engagement e"
    "   WHERE e.fk_push_notification = n.id_push_notification) x"
    " WHERE n.uuid = $1"
};

/*
 * A report for a delivery whose notification or subscription is gone
 * stores nothing (and a delete racing it fails the insert on its foreign
 * key, 23503: the handler treats both alike).
 */
const Statement  engagement_record = {
    "webpush_engagement_record",
    "INSERT INTO webpush_engagement"
    " (fk_push_notification, fk_push_notification_subscription, type)"
    " SELECT $1::bigint, $2::bigint, $3"
    " WHERE EXISTS (SELECT 1 FROM spy_push_notification"
    "               WHERE id_push_notification = $1::bigint)"
    "   AND EXISTS (SELECT 1 FROM spy_push_notification_subscription"
    "               WHERE id_push_notification_subscription = $2::bigint)"
    " ON CONFLICT DO NOTHING"
};

/*
 * A step holds the fan-out lock shared; while a cancel holds or waits
 * for it, no step starts (0: try again).  Waiting for the notification's
 * row alone, the cancel could be overtaken by the next step: it takes
 * the row once the step under way commits, and another step may take it
 * first.
 */
const Statement  fanout = {
    "webpush_fanout_step",
    "SELECT c.created, c.released, c.pace_ms"
    " FROM (SELECT pg_try_advisory_xact_lock_shared(8675303) AS ok) l"
    " CROSS JOIN LATERAL ("
    "   SELECT * FROM webpush_fanout_step($1) WHERE l.ok"
    "   UNION ALL SELECT 0, 0, NULL::integer WHERE NOT l.ok) c"
};

const Statement  claim = {
    "webpush_claim_work",
    "SELECT id, batch, claim, notification, subscription, attempts, ttl,"
    "       urgency, topic, created_ms, subscription_payload, payload"
    " FROM webpush_claim_work($1, $2)"
};

const Statement  complete = {
    "webpush_complete_work10",
    "SELECT webpush_complete_work($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
    "                             $11, $12)"
};

/*
 * Answered from the partial indexes: fanout, due and leased.  A paced
 * notification waits for a fan-out step only once its next start slot
 * has come (webpush_fanout_step).
 */
const Statement  pending = {
    "webpush_pending9",
    "SELECT EXISTS (SELECT 1 FROM webpush_notification WHERE NOT fanout_done"
    "               AND (send_at IS NULL OR send_at <= now())"
    "               AND (NOT fanout_created OR pace_next_at IS NULL"
    "                    OR pace_next_at <= now())),"
    "       EXISTS (SELECT 1 FROM webpush_delivery"
    "               WHERE state = 'ready' AND next_attempt_at <= now())"
    "       OR EXISTS (SELECT 1 FROM webpush_delivery"
    "                  WHERE state = 'sending' AND lease_until < now())"
    "       OR EXISTS (SELECT 1 FROM webpush_batch"
    "                  WHERE state = 'ready' AND next_attempt_at <= now())"
    "       OR EXISTS (SELECT 1 FROM webpush_batch"
    "                  WHERE state = 'sending' AND lease_until < now())"
};

const Statement  listen = {
    "webpush_listen",
    "LISTEN webpush"
};

} // namespace sql


std::string
provider_list_sql(const std::string &order_by)
{
    std::string sql = "SELECT uuid, name FROM spy_push_notification_provider"
                      " ORDER BY ";

    if (!order_by.empty()) {
        sql += order_by + ", ";
    }

    return sql + "id_push_notification_provider LIMIT $1 OFFSET $2";
}

} // namespace webpush::db
