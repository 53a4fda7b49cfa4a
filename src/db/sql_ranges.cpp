/*
 * Schema version 9: deliveries as ranges of subscriptions; see sql.hpp.
 * Its script runs after sql.cpp's and ends the whole: the last version
 * (10) is recorded here.
 *
 * Before, the fan-out wrote a webpush_delivery row for every delivery,
 * the claim updated it, the write-back updated it again and added the
 * reference's delivery log row: four row writes with their index entries,
 * foreign-key checks and WAL: 65-106 µs of PostgreSQL CPU a delivery
 * measured here, more than the encryption costs (issue 16; now 37 µs,
 * bench/RESULTS.md).  Paced notifications (ratePerMinute) keep a row per
 * delivery: their pace is released row by row (sql.cpp,
 * webpush_fanout_step), and a slow pace costs the database little.
 *
 * Now the fan-out writes one webpush_batch row per range of up to 500 of
 * a notification's subscriptions (by id: the range and the notification's
 * group and provider name them).  A claim takes ranges, reads their
 * subscriptions and leases the range; a range larger than the claim wants
 * is split first.  The write-back adds the delivery log row of each
 * delivery sent and counts it on its range.  Only a delivery that is not
 * sent at the first attempt gets a webpush_delivery row, at its
 * write-back: a retry (ready again after its delay), a failure, a
 * subscription gone, or one given back unsent; from there it goes as
 * before.
 *
 * What tells a delivery of a range that is done: a delivery log row (sent)
 * or a webpush_delivery row (handed over).  A range whose lease lapsed
 * (its node died) is claimed again for what has neither; a write-back
 * from the old claim is still logged when it says "sent" (that is true),
 * the rest of it is dropped (the new claim sends those).
 *
 * Counts of a range: targeted (at the fan-out; its claim raises it for
 * subscriptions that appeared inside the range), sent, handed (given a
 * webpush_delivery row, counted there), vanished (expired or deleted
 * before the claim reached it: counted as gone), outstanding (of the
 * current claim, not written back yet).
 */

#include "db/sql.hpp"


namespace webpush::db {

const std::string &
schema_ranges_sql()
{
    static const std::string  ddl = R"SQL(
-- Schema version 9: deliveries as ranges of subscriptions (issue 16).

CREATE TABLE IF NOT EXISTS webpush_batch (
    id                    bigserial PRIMARY KEY,
    fk_push_notification  integer NOT NULL
        REFERENCES webpush_notification (fk_push_notification)
        ON DELETE CASCADE,
    first_subscription    integer NOT NULL,
    last_subscription     integer NOT NULL,
    state                 varchar(9) NOT NULL DEFAULT 'ready'
        CONSTRAINT webpush_batch_state_check
        CHECK (state IN ('ready', 'sending', 'done', 'cancelled')),
    claims                integer NOT NULL DEFAULT 0,
    next_attempt_at       timestamptz NOT NULL DEFAULT now(),
    lease_until           timestamptz,
    targeted              integer NOT NULL,
    outstanding           integer NOT NULL DEFAULT 0,
    sent                  integer NOT NULL DEFAULT 0,
    handed                integer NOT NULL DEFAULT 0,
    vanished              integer NOT NULL DEFAULT 0
) WITH (fillfactor = 50);
-- the counters change with every write-back: room on the page keeps those
-- updates HOT (no index entry)
CREATE INDEX IF NOT EXISTS webpush_batch_due
    ON webpush_batch (next_attempt_at, id) WHERE state = 'ready';
CREATE INDEX IF NOT EXISTS webpush_batch_leased
    ON webpush_batch (lease_until) WHERE state = 'sending';
CREATE INDEX IF NOT EXISTS webpush_batch_notification
    ON webpush_batch (fk_push_notification);

-- With webpush_delivery_log off (version 10): what tells a delivery of a
-- range that was sent, instead of the reference's delivery log row (no
-- sequence, one index).  No foreign key: its check per row locked the
-- range the same write-back updates, walking that row's chain of updated
-- versions, 15 µs a delivery measured; a trigger removes the rows of the
-- ranges deleted instead (with their notification).
CREATE TABLE IF NOT EXISTS webpush_sent (
    fk_batch      bigint NOT NULL,
    subscription  integer NOT NULL,
    PRIMARY KEY (fk_batch, subscription)
);

CREATE OR REPLACE FUNCTION webpush_batch_deleted()
RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    DELETE FROM webpush_sent t
    WHERE t.fk_batch IN (SELECT g.id FROM gone g);
    RETURN NULL;
END
$fn$;

DROP TRIGGER IF EXISTS webpush_batch_deleted ON webpush_batch;
CREATE TRIGGER webpush_batch_deleted
    AFTER DELETE ON webpush_batch
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION webpush_batch_deleted();

-- Claims up to about p_limit deliveries for p_lease seconds: first those
-- with a row (retries due, lapsed leases: webpush_claim), then
-- ranges (ready and due, or sending with a lapsed lease), each returned as
-- its subscriptions.  batch and claim name the range and this claim of it
-- (NULL and 0 for a row); id is the row's (NULL for a range).  A range of
-- a cancelled notification becomes 'cancelled' instead.
CREATE OR REPLACE FUNCTION webpush_claim_work(p_limit integer,
    p_lease integer)
RETURNS TABLE (id bigint, batch bigint, claim integer, notification integer,
               subscription integer, attempts integer, ttl integer,
               urgency text, topic text, created_ms bigint,
               subscription_payload text, payload text)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $fn$
#variable_conflict use_column
DECLARE
    v_left    integer := p_limit;
    v_n       integer;
    v_split   integer;
    b         webpush_batch%ROWTYPE;
    v_group     integer;
    v_provider  integer;
    v_cancelled timestamptz;
BEGIN
    -- The rows first (retries, paced deliveries): webpush_claim, whose
    -- plan is cached since version 10.
    RETURN QUERY
        SELECT c.id, NULL::bigint, 0, c.notification, c.subscription,
               c.attempts, c.ttl, c.urgency, c.topic, c.created_ms,
               c.subscription_payload, c.payload
        FROM webpush_claim(p_limit, p_lease) c;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_left := v_left - v_n;

    WHILE v_left > 0 LOOP
        SELECT x.* INTO b FROM webpush_batch x
            WHERE x.state = 'ready' AND x.next_attempt_at <= now()
            ORDER BY x.next_attempt_at, x.id
            LIMIT 1
            FOR UPDATE SKIP LOCKED;

        IF NOT FOUND THEN
            SELECT x.* INTO b FROM webpush_batch x
                WHERE x.state = 'sending' AND x.lease_until < now()
                ORDER BY x.lease_until
                LIMIT 1
                FOR UPDATE SKIP LOCKED;

            EXIT WHEN NOT FOUND;
        END IF;

        SELECT n.fk_push_notification_group, n.fk_push_notification_provider,
               w.cancelled_at
            INTO v_group, v_provider, v_cancelled
            FROM webpush_notification w
            JOIN spy_push_notification n
                ON n.id_push_notification = w.fk_push_notification
            WHERE w.fk_push_notification = b.fk_push_notification;

        IF v_cancelled IS NOT NULL THEN
            UPDATE webpush_batch x
                SET state = 'cancelled', lease_until = NULL, outstanding = 0
                WHERE x.id = b.id;
            CONTINUE;
        END IF;

        -- a range never claimed that holds more than is wanted: its first
        -- v_left subscriptions are claimed, the rest is a new range
        IF b.claims = 0 AND b.targeted > v_left THEN
            SELECT s.id_push_notification_subscription INTO v_split
                FROM spy_push_notification_subscription s
                WHERE s.fk_push_notification_group = v_group
                  AND s.fk_push_notification_provider = v_provider
                  AND s.id_push_notification_subscription
                      BETWEEN b.first_subscription AND b.last_subscription
                  AND s.expired_at > now() AT TIME ZONE 'UTC'
                ORDER BY s.id_push_notification_subscription
                OFFSET v_left - 1
                LIMIT 1;

            IF v_split IS NOT NULL AND v_split < b.last_subscription THEN
                INSERT INTO webpush_batch
                    (fk_push_notification, first_subscription,
                     last_subscription, targeted, next_attempt_at)
                VALUES (b.fk_push_notification, v_split + 1,
                        b.last_subscription, b.targeted - v_left,
                        b.next_attempt_at);

                b.last_subscription := v_split;
                b.targeted := v_left;
            END IF;
        END IF;

        b.claims := b.claims + 1;

        RETURN QUERY
            SELECT NULL::bigint, b.id, b.claims, b.fk_push_notification,
                   s.id_push_notification_subscription, 1, w.ttl,
                   w.urgency::text, w.topic::text,
                   (extract(epoch FROM w.created_at) * 1000)::bigint,
                   s.payload::text,
                   coalesce(w.localized_by_locale ->> s.fk_locale::text,
                            n.payload)::text
            FROM spy_push_notification_subscription s
            JOIN webpush_notification w
                ON w.fk_push_notification = b.fk_push_notification
            JOIN spy_push_notification n
                ON n.id_push_notification = b.fk_push_notification
            WHERE s.fk_push_notification_group = v_group
              AND s.fk_push_notification_provider = v_provider
              AND s.id_push_notification_subscription
                  BETWEEN b.first_subscription AND b.last_subscription
              AND s.expired_at > now() AT TIME ZONE 'UTC'
              -- claimed before: what is done already is not sent again
              AND (b.claims = 1 OR NOT EXISTS (
                  SELECT 1
                  FROM spy_push_notification_subscription_delivery_log l
                  WHERE l.fk_push_notification = b.fk_push_notification
                    AND l.fk_push_notification_subscription =
                        s.id_push_notification_subscription))
              AND (b.claims = 1 OR NOT EXISTS (
                  SELECT 1 FROM webpush_sent t
                  WHERE t.fk_batch = b.id
                    AND t.subscription = s.id_push_notification_subscription))
              AND (b.claims = 1 OR NOT EXISTS (
                  SELECT 1 FROM webpush_delivery d
                  WHERE d.fk_push_notification = b.fk_push_notification
                    AND d.fk_push_notification_subscription =
                        s.id_push_notification_subscription))
            ORDER BY s.id_push_notification_subscription;
        GET DIAGNOSTICS v_n = ROW_COUNT;

        UPDATE webpush_batch x
            SET state = CASE WHEN v_n = 0 THEN 'done' ELSE 'sending' END,
                claims = b.claims,
                last_subscription = b.last_subscription,
                targeted = greatest(b.targeted, b.sent + b.handed + v_n),
                vanished = greatest(0, b.targeted - b.sent - b.handed - v_n),
                outstanding = v_n,
                lease_until = CASE WHEN v_n > 0
                    THEN now() + make_interval(secs => p_lease) END
            WHERE x.id = b.id;

        v_left := v_left - v_n;
    END LOOP;
END
$fn$;

-- Writes a batch of outcomes back, of rows (p_ids) and of ranges
-- (p_batches, p_claims with p_notifications, p_subscriptions).  Rows go
-- as in webpush_complete.  Of a range's: "sent" adds the delivery log row
-- (whichever claim it came from: it was sent); the others, of the range's
-- current claim only, become webpush_delivery rows: failed, gone, retry
-- (ready after p_delay ms, one attempt made) or release (ready at once,
-- none made; cancelled when the notification is).  Then the range counts
-- them and is done when its claim has nothing outstanding.  What the
-- outcomes of current claims tell of their subscriptions is applied as
-- for rows (webpush_subscription_outcomes): a subscription gone, or
-- unreachable p_unreachable_limit times in a row, expires.  With p_log
-- false (webpush_delivery_log off) a range's "sent" leaves a webpush_sent
-- row instead of the delivery log's, and a row's none (its state says).
-- Version 10 added p_log: the eleven-argument form of version 9 goes.
DROP FUNCTION IF EXISTS webpush_complete_work(bigint[], bigint[],
    integer[], integer[], integer[], text[], integer[], text[], integer[],
    boolean[], integer);
CREATE OR REPLACE FUNCTION webpush_complete_work(p_ids bigint[],
    p_batches bigint[], p_claims integer[], p_notifications integer[],
    p_subscriptions integer[], p_outcomes text[], p_statuses integer[],
    p_errors text[], p_delays integer[], p_unreachable boolean[],
    p_unreachable_limit integer, p_log boolean DEFAULT true)
RETURNS integer
LANGUAGE plpgsql
-- planned once per session: a custom plan of its twelve-part statement
-- at every call cost milliseconds, more than the rows it writes
SET plan_cache_mode = force_generic_plan
AS $fn$
DECLARE
    v_ids          bigint[];
    v_sids         integer[];
    v_outcomes     text[];
    v_statuses     integer[];
    v_errors       text[];
    v_delays       integer[];
    v_unreachable  boolean[];
    v_rows         integer := 0;
    v_ranged       integer := 0;
BEGIN
    -- rows first, as before (a statement of its own: both parts may touch
    -- one subscription's state)
    SELECT array_agg(r.id), array_agg(r.outcome), array_agg(r.status),
           array_agg(r.error), array_agg(r.delay), array_agg(r.unreachable)
        INTO v_ids, v_outcomes, v_statuses, v_errors, v_delays,
             v_unreachable
        FROM unnest(p_ids, p_outcomes, p_statuses, p_errors, p_delays,
                    p_unreachable)
            AS r(id, outcome, status, error, delay, unreachable)
        WHERE r.id IS NOT NULL;

    IF v_ids IS NOT NULL THEN
        v_rows := webpush_complete(v_ids, v_outcomes, v_statuses, v_errors,
                                   v_delays, v_unreachable,
                                   p_unreachable_limit, p_log);
    END IF;

    -- The ranges written back to are locked first (in id order: two
    -- write-backs never wait for each other in a circle).  A claim of one
    -- (SKIP LOCKED) then passes it by until this write-back is done, and
    -- the statement below sees whichever claim is current: without the
    -- lock a range claimed again between this statement's start and its
    -- update of the range had its new claim's count taken down by this
    -- old claim's outcomes (t/042 TEST 2: gone 356 of 3000)
    PERFORM 1 FROM webpush_batch b
        WHERE b.id = ANY (ARRAY(SELECT DISTINCT x FROM unnest(p_batches) x
                                WHERE x IS NOT NULL))
        ORDER BY b.id
        FOR NO KEY UPDATE OF b;

    WITH ranged AS (
        SELECT r.* FROM unnest(p_ids, p_batches, p_claims, p_notifications,
                               p_subscriptions, p_outcomes, p_statuses,
                               p_errors, p_delays, p_unreachable)
            AS r(id, batch, claim, nid, sid, outcome, status, error, delay,
                 unreachable)
        WHERE r.id IS NULL AND r.batch IS NOT NULL
    ), claims AS (
        -- the ranges' current claims (a few rows): live are the outcomes
        -- of those, the others come from a claim that lapsed
        SELECT b.id AS batch, b.claims AS claim, b.claims > 1 AS again,
               w.cancelled_at
        FROM (SELECT DISTINCT x.batch FROM ranged x) r
        JOIN webpush_batch b ON b.id = r.batch
        JOIN webpush_notification w
            ON w.fk_push_notification = b.fk_push_notification
        WHERE b.state = 'sending'
    ), live AS (
        SELECT x.*, c.cancelled_at
        FROM ranged x
        JOIN claims c ON c.batch = x.batch AND c.claim = x.claim
    ), logged AS (
        INSERT INTO spy_push_notification_subscription_delivery_log
            (id_push_notification_subscription_delivery_log,
             fk_push_notification, fk_push_notification_subscription,
             created_at, updated_at)
        SELECT nextval(
                   'id_push_notification_subscription_delivery_log_pk_seq'),
               x.nid, x.sid, now() AT TIME ZONE 'UTC',
               now() AT TIME ZONE 'UTC'
        FROM ranged x WHERE x.outcome = 'sent' AND p_log
        ON CONFLICT DO NOTHING
        RETURNING 1
    ), marked AS (
        INSERT INTO webpush_sent (fk_batch, subscription)
        SELECT x.batch, x.sid
        FROM ranged x WHERE x.outcome = 'sent' AND NOT p_log
        ON CONFLICT DO NOTHING
        RETURNING fk_batch AS batch
    ), handed AS (
        INSERT INTO webpush_delivery
            (fk_push_notification, fk_push_notification_subscription, state,
             attempts, next_attempt_at, last_status, last_error)
        SELECT c.nid, c.sid,
               CASE WHEN c.outcome NOT IN ('retry', 'release') THEN c.outcome
                    WHEN c.cancelled_at IS NULL THEN 'ready'
                    ELSE 'cancelled' END,
               CASE c.outcome WHEN 'release' THEN 0 ELSE 1 END,
               now() + coalesce(c.delay, 0) * interval '1 millisecond',
               c.status, c.error
        FROM live c WHERE c.outcome <> 'sent'
        ON CONFLICT DO NOTHING
        RETURNING 1
    ), sent_per AS (
        -- sent now, not before (a delivery written back by a lapsed claim
        -- and by the next one counts once).  Logged: a range claimed once
        -- has nothing logged by another claim, so only one claimed again
        -- is looked up (joining the insert's RETURNING rows back to ranged
        -- was planned as a nested loop, 500 x 500 a write-back: 30 µs a
        -- delivery).  Marked: what the insert added, with its range.
        SELECT x.batch, count(*) AS n
        FROM ranged x
        LEFT JOIN claims c ON c.batch = x.batch
        WHERE x.outcome = 'sent' AND p_log
          AND (NOT coalesce(c.again, true) OR NOT EXISTS (
              SELECT 1 FROM spy_push_notification_subscription_delivery_log l
              WHERE l.fk_push_notification = x.nid
                AND l.fk_push_notification_subscription = x.sid))
        GROUP BY x.batch
        UNION ALL
        SELECT m.batch, count(*) FROM marked m GROUP BY m.batch
    ), live_per AS (
        SELECT c.batch, count(*) AS answered,
               count(*) FILTER (WHERE c.outcome <> 'sent') AS handed
        FROM live c
        GROUP BY c.batch
    ), per_batch AS (
        SELECT coalesce(s.batch, l.batch) AS batch,
               coalesce(s.n, 0) AS sent, coalesce(l.handed, 0) AS handed,
               coalesce(l.answered, 0) AS answered
        FROM sent_per s
        FULL JOIN live_per l ON l.batch = s.batch
    ), counted AS (
        UPDATE webpush_batch b
        SET sent = b.sent + p.sent,
            handed = b.handed + p.handed,
            outstanding = b.outstanding - p.answered,
            state = CASE WHEN b.state = 'sending'
                          AND b.outstanding - p.answered <= 0
                     THEN 'done' ELSE b.state END,
            lease_until = CASE WHEN b.state = 'sending'
                                AND b.outstanding - p.answered <= 0
                     THEN NULL ELSE b.lease_until END
        FROM per_batch p
        WHERE b.id = p.batch
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM ranged)::integer
           + 0 * ((SELECT count(*) FROM counted)
                  + (SELECT count(*) FROM logged)
                  + (SELECT count(*) FROM marked)
                  + (SELECT count(*) FROM handed))::integer,
           l.sids, l.outcomes, l.statuses, l.unreachable
        INTO v_ranged, v_sids, v_outcomes, v_statuses, v_unreachable
        -- one pass over live: the arrays stay aligned
        FROM (SELECT array_agg(c.sid) AS sids,
                     array_agg(c.outcome) AS outcomes,
                     array_agg(c.status) AS statuses,
                     array_agg(c.unreachable) AS unreachable
              FROM live c) l;

    -- the outcomes of the current claims, as the rows' in webpush_complete
    -- (a statement of its own, after this one: it sees what this one
    -- handed over to rows)
    IF v_sids IS NOT NULL THEN
        PERFORM webpush_subscription_outcomes(v_sids, v_outcomes,
                                              v_statuses, v_unreachable,
                                              p_unreachable_limit);
    END IF;

    RETURN v_rows + v_ranged;
END
$fn$;

-- A notification's counts for GET /push-notifications/{uuid}: its rows
-- and its ranges together.  A range's deliveries handed over to rows are
-- counted there; the rest of a range not done is pending, or cancelled
-- with it; what vanished before its claim counts as gone.
CREATE OR REPLACE FUNCTION webpush_notification_counts(p_id integer)
RETURNS TABLE (targeted bigint, sent bigint, pending bigint, failed bigint,
               gone bigint, cancelled bigint)
LANGUAGE sql STABLE AS $fn$
    WITH d AS (
        SELECT count(*) AS targeted,
               count(*) FILTER (WHERE d.state = 'sent') AS sent,
               count(*) FILTER (WHERE d.state IN ('ready', 'sending'))
                   AS pending,
               count(*) FILTER (WHERE d.state = 'failed') AS failed,
               count(*) FILTER (WHERE d.state = 'gone') AS gone,
               count(*) FILTER (WHERE d.state = 'cancelled') AS cancelled
        FROM webpush_delivery d
        WHERE d.fk_push_notification = p_id
    ), b AS (
        SELECT coalesce(sum(b.targeted - b.handed), 0) AS targeted,
               coalesce(sum(b.sent), 0) AS sent,
               coalesce(sum(b.targeted - b.sent - b.handed - b.vanished)
                   FILTER (WHERE b.state IN ('ready', 'sending')), 0)
                   AS pending,
               coalesce(sum(b.vanished), 0) AS gone,
               coalesce(sum(b.targeted - b.sent - b.handed - b.vanished)
                   FILTER (WHERE b.state = 'cancelled'), 0) AS cancelled
        FROM webpush_batch b
        WHERE b.fk_push_notification = p_id
    )
    SELECT d.targeted + b.targeted, d.sent + b.sent, d.pending + b.pending,
           d.failed, d.gone + b.gone, d.cancelled + b.cancelled
    FROM d, b
$fn$;

-- Every delivery with its state, as one row each, as webpush_delivery
-- held them before version 9: for operators and tests.  claims: how often
-- it was claimed (its range's claims; a row's attempts).  It expands the
-- ranges, so it reads every subscription of a range: not for hot paths.
CREATE OR REPLACE VIEW webpush_deliveries AS
    SELECT d.fk_push_notification, d.fk_push_notification_subscription,
           d.state::text AS state, d.attempts::integer AS attempts,
           d.last_status::integer AS last_status, d.last_error,
           d.next_attempt_at, d.updated_at, d.attempts::integer AS claims
    FROM webpush_delivery d
    UNION ALL
    SELECT b.fk_push_notification, s.id_push_notification_subscription,
           CASE WHEN l.fk_push_notification IS NOT NULL
                     OR t.fk_batch IS NOT NULL THEN 'sent'
                WHEN b.state = 'done' THEN 'gone'
                ELSE b.state::text END,
           CASE WHEN l.fk_push_notification IS NOT NULL
                     OR t.fk_batch IS NOT NULL THEN 1
                WHEN b.state = 'sending' THEN 1 ELSE 0 END,
           NULL::integer, NULL::text, b.next_attempt_at,
           l.created_at AT TIME ZONE 'UTC', b.claims
    FROM webpush_batch b
    JOIN spy_push_notification n
        ON n.id_push_notification = b.fk_push_notification
    JOIN spy_push_notification_subscription s
        ON s.fk_push_notification_group = n.fk_push_notification_group
       AND s.fk_push_notification_provider = n.fk_push_notification_provider
       AND s.id_push_notification_subscription
           BETWEEN b.first_subscription AND b.last_subscription
    LEFT JOIN spy_push_notification_subscription_delivery_log l
        ON l.fk_push_notification = b.fk_push_notification
       AND l.fk_push_notification_subscription =
           s.id_push_notification_subscription
    LEFT JOIN webpush_sent t
        ON t.fk_batch = b.id
       AND t.subscription = s.id_push_notification_subscription
    WHERE NOT EXISTS (
            SELECT 1 FROM webpush_delivery d
            WHERE d.fk_push_notification = b.fk_push_notification
              AND d.fk_push_notification_subscription =
                  s.id_push_notification_subscription)
      AND (l.fk_push_notification IS NOT NULL OR t.fk_batch IS NOT NULL
           OR (b.state <> 'done' AND s.expired_at > now() AT TIME ZONE 'UTC'));

INSERT INTO webpush_schema_version (version) VALUES (9)
    ON CONFLICT (version) DO NOTHING;

-- Schema version 10: one definition of each function.
-- webpush_notification_cancel (sql.cpp) cancels ranges too, instead of a
-- copy here; webpush_subscription_outcomes (sql.cpp) is what
-- webpush_complete and webpush_complete_work did each in their own copy;
-- webpush_claim is PL/pgSQL (its plan cached) and webpush_claim_work
-- calls it at every claim instead of probing for due rows first.  A
-- database at 9 gets them as every upgrade does: the whole script runs.
INSERT INTO webpush_schema_version (version) VALUES (10)
    ON CONFLICT (version) DO NOTHING;
)SQL";

    return ddl;
}

} // namespace webpush::db
