/*
 * Schema and statements; see sql.hpp.
 *
 * Names follow the reference (Spryker's Propel schema for PostgreSQL):
 * tables spy_push_notification*, sequences named after the primary-key
 * column, <pk column>_pk_seq (id_push_notification_pk_seq; versions 1 and
 * 2 used <table>_pk_seq and are upgraded), identifiers from the sequences
 * on insert (Propel supplies nextval() itself, so the columns have no
 * DEFAULT), timestamps without time zone written in UTC
 * (the pool sets TimeZone=UTC).  Module-owned objects start with webpush_.
 *
 * UUIDs are random (v4, gen_random_uuid()), not the reference's v5 of
 * "<table>.<id>": those can be computed from the sequential ids, and a
 * subscription's uuid is what allows deleting it.
 */

#include "db/sql.hpp"


namespace webpush::db {

const std::string &
schema_sql()
{
    static const std::string  ddl = R"SQL(
CREATE TABLE IF NOT EXISTS webpush_schema_version (
    version     integer NOT NULL PRIMARY KEY,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

-- Sequences (schema version 3).  Spryker's Propel schema names them after
-- the primary-key column (<id-method-parameter>), and every writer, Propel
-- and this module, takes ids from them with nextval(); the columns have no
-- DEFAULT.  Versions 1 and 2 named them after the table
-- (spy_push_notification_pk_seq); such a sequence is renamed when the new
-- name is free (its value, owner and grants go with it).  When both exist
-- (a Spryker database that an older module added its own sequences to),
-- the new one is raised past the old one's values, column defaults using
-- the old one are moved, and the old one is dropped.  Then each sequence
-- is raised past the ids in its table, so that one created here for rows
-- already present starts above them.  A sequence is never lowered.
DO $do$
DECLARE
    v_table   text;
    v_column  text;
    v_old     text;
    v_new     text;
    v_next    bigint;
    v_target  bigint;
    v_def     record;
BEGIN
    FOR v_table, v_column IN
        VALUES ('spy_push_notification_provider',
                'id_push_notification_provider'),
               ('spy_push_notification_group', 'id_push_notification_group'),
               ('spy_push_notification', 'id_push_notification'),
               ('spy_push_notification_subscription',
                'id_push_notification_subscription'),
               ('spy_push_notification_subscription_delivery_log',
                'id_push_notification_subscription_delivery_log')
    LOOP
        v_old := v_table || '_pk_seq';
        v_new := v_column || '_pk_seq';

        IF to_regclass(v_old) IS NOT NULL AND to_regclass(v_new) IS NULL
        THEN
            EXECUTE format('ALTER SEQUENCE %I RENAME TO %I', v_old, v_new);
        ELSIF to_regclass(v_new) IS NULL THEN
            EXECUTE format('CREATE SEQUENCE %I', v_new);
        END IF;

        -- the value nextval() would give next
        EXECUTE format('SELECT CASE WHEN is_called THEN last_value + 1'
                       ' ELSE last_value END FROM %I', v_new)
            INTO v_next;
        v_target := v_next;

        IF to_regclass(v_old) IS NOT NULL THEN
            EXECUTE format('SELECT CASE WHEN is_called THEN last_value + 1'
                           ' ELSE last_value END FROM %I', v_old)
                INTO v_target;
            v_target := greatest(v_target, v_next);
        END IF;

        IF to_regclass(v_table) IS NOT NULL THEN
            EXECUTE format('SELECT greatest($1, max(%I) + 1) FROM %I',
                           v_column, v_table)
                INTO v_target USING v_target;
        END IF;

        IF v_target > v_next THEN
            PERFORM setval(v_new::regclass, v_target, false);
        END IF;

        IF to_regclass(v_old) IS NOT NULL THEN
            FOR v_def IN
                SELECT d.adrelid::regclass AS tab, a.attname AS col
                FROM pg_depend p
                JOIN pg_attrdef d ON d.oid = p.objid
                JOIN pg_attribute a
                    ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                WHERE p.classid = 'pg_attrdef'::regclass
                  AND p.refclassid = 'pg_class'::regclass
                  AND p.refobjid = to_regclass(v_old)
            LOOP
                EXECUTE format('ALTER TABLE %s ALTER COLUMN %I'
                               ' SET DEFAULT nextval(%L::regclass)',
                               v_def.tab, v_def.col, v_new);
            END LOOP;

            EXECUTE format('DROP SEQUENCE %I', v_old);
        END IF;
    END LOOP;
END
$do$;

CREATE TABLE IF NOT EXISTS spy_push_notification_provider (
    id_push_notification_provider  integer NOT NULL,
    uuid                           varchar(36),
    name                           varchar(255) NOT NULL,
    created_at                     timestamp,
    updated_at                     timestamp,
    PRIMARY KEY (id_push_notification_provider),
    CONSTRAINT "spy_push_notification_provider-name" UNIQUE (name)
);

CREATE TABLE IF NOT EXISTS spy_push_notification_group (
    id_push_notification_group  integer NOT NULL,
    uuid                        varchar(36),
    name                        varchar(255) NOT NULL,
    identifier                  varchar(255),
    created_at                  timestamp,
    updated_at                  timestamp,
    PRIMARY KEY (id_push_notification_group),
    CONSTRAINT "spy_push_notification_group-name-identifier"
        UNIQUE (name, identifier)
);

CREATE TABLE IF NOT EXISTS spy_push_notification (
    id_push_notification           integer NOT NULL,
    uuid                           varchar(36),
    fk_push_notification_group     integer NOT NULL,
    fk_push_notification_provider  integer NOT NULL,
    payload                        text,
    created_at                     timestamp,
    updated_at                     timestamp,
    PRIMARY KEY (id_push_notification),
    CONSTRAINT "spy_push_notification-fk_push_notification_group"
        FOREIGN KEY (fk_push_notification_group)
        REFERENCES spy_push_notification_group (id_push_notification_group),
    CONSTRAINT "spy_push_notification-fk_push_notification_provider"
        FOREIGN KEY (fk_push_notification_provider)
        REFERENCES spy_push_notification_provider
            (id_push_notification_provider)
);
CREATE INDEX IF NOT EXISTS "spy_push_notification-fk_push_notification_group"
    ON spy_push_notification (fk_push_notification_group);
CREATE INDEX IF NOT EXISTS
    "spy_push_notification-fk_push_notification_provider"
    ON spy_push_notification (fk_push_notification_provider);

CREATE TABLE IF NOT EXISTS spy_push_notification_subscription (
    id_push_notification_subscription  integer NOT NULL,
    uuid                               varchar(36),
    fk_push_notification_group         integer NOT NULL,
    fk_push_notification_provider      integer NOT NULL,
    fk_locale                          integer,
    payload                            text,
    payload_checksum                   varchar(255),
    expired_at                         timestamp NOT NULL,
    created_at                         timestamp,
    updated_at                         timestamp,
    PRIMARY KEY (id_push_notification_subscription),
    CONSTRAINT "spy_push_notification_sub-fk_push_notification_group"
        FOREIGN KEY (fk_push_notification_group)
        REFERENCES spy_push_notification_group (id_push_notification_group),
    CONSTRAINT "spy_push_notification_sub-fk_push_notification_provider"
        FOREIGN KEY (fk_push_notification_provider)
        REFERENCES spy_push_notification_provider
            (id_push_notification_provider)
);
CREATE INDEX IF NOT EXISTS
    "spy_push_notification_sub-fk_push_notification_group"
    ON spy_push_notification_subscription (fk_push_notification_group);
CREATE INDEX IF NOT EXISTS
    "spy_push_notification_sub-fk_push_notification_provider"
    ON spy_push_notification_subscription (fk_push_notification_provider);

CREATE TABLE IF NOT EXISTS spy_push_notification_subscription_delivery_log (
    id_push_notification_subscription_delivery_log  integer NOT NULL,
    fk_push_notification                            integer NOT NULL,
    fk_push_notification_subscription               integer NOT NULL,
    created_at                                      timestamp,
    updated_at                                      timestamp,
    PRIMARY KEY (id_push_notification_subscription_delivery_log),
    CONSTRAINT "spy_push_not_subscr_del_log-fk_push_not-fk_push_not_subscr"
        UNIQUE (fk_push_notification, fk_push_notification_subscription),
    CONSTRAINT "spy_push_not_sub_delivery_log-fk_push_notification"
        FOREIGN KEY (fk_push_notification)
        REFERENCES spy_push_notification (id_push_notification),
    CONSTRAINT "spy_push_not_sub_delivery_log_delivery_log-fk_push_not_sub"
        FOREIGN KEY (fk_push_notification_subscription)
        REFERENCES spy_push_notification_subscription
            (id_push_notification_subscription)
);
CREATE INDEX IF NOT EXISTS
    "spy_push_not_sub_delivery_log-fk_push_notification"
    ON spy_push_notification_subscription_delivery_log
        (fk_push_notification);
CREATE INDEX IF NOT EXISTS
    "spy_push_not_sub_delivery_log_delivery_log-fk_push_not_sub"
    ON spy_push_notification_subscription_delivery_log
        (fk_push_notification_subscription);

-- the duplicate check of a subscription POST: all three columns, so the
-- planner uses it even before the table has statistics
DROP INDEX IF EXISTS webpush_subscription_checksum;
CREATE INDEX IF NOT EXISTS webpush_subscription_duplicate
    ON spy_push_notification_subscription
        (payload_checksum, fk_push_notification_group,
         fk_push_notification_provider);

-- The group (name, identifier): found, or created under a lock on it, so
-- that racing requests create it once even with a NULL identifier (for
-- which the reference's unique constraint does not hold).
CREATE OR REPLACE FUNCTION webpush_group_id(p_group text, p_identifier text)
RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    v_group  integer;
BEGIN
    PERFORM pg_advisory_xact_lock(8675302,
        hashtext(p_group || chr(31) || coalesce(p_identifier, '')));

    SELECT g.id_push_notification_group INTO v_group
        FROM spy_push_notification_group g
        WHERE g.name = p_group AND g.identifier IS NOT DISTINCT FROM p_identifier
        ORDER BY g.id_push_notification_group LIMIT 1;

    IF v_group IS NULL THEN
        INSERT INTO spy_push_notification_group
            (id_push_notification_group, uuid, name, identifier,
             created_at, updated_at)
        VALUES (nextval('id_push_notification_group_pk_seq'),
                gen_random_uuid()::text, p_group, p_identifier, now(), now())
        RETURNING id_push_notification_group INTO v_group;
    END IF;

    RETURN v_group;
END
$fn$;

-- A subscription in one round trip.  Every rule is evaluated so that all
-- errors can be reported together, as the reference does.  Identical
-- subscriptions racing are serialised by a lock on their checksum, group
-- creation by a lock on the group: the same order everywhere, so no
-- deadlock, and the reference's missing unique constraint is not needed.
CREATE OR REPLACE FUNCTION webpush_subscription_create(
    p_provider text, p_group text, p_identifier text, p_payload text,
    p_checksum text, p_locale text, p_ttl bigint, p_insert boolean)
RETURNS TABLE (provider_found boolean, locale_found boolean,
               duplicate boolean, uuid text, expired_at text)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_provider  integer;
    v_group     integer;
    v_locale    integer;
    v_dup       boolean := false;
    v_uuid      text;
    v_expires   timestamp;
BEGIN
    SELECT p.id_push_notification_provider INTO v_provider
        FROM spy_push_notification_provider p WHERE p.name = p_provider;

    -- a Spryker database knows its locales; elsewhere webpush_locales does
    IF p_locale IS NOT NULL AND to_regclass('spy_locale') IS NOT NULL THEN
        EXECUTE 'SELECT id_locale FROM spy_locale WHERE locale_name = $1'
            INTO v_locale USING p_locale;
        IF v_locale IS NULL THEN
            locale_found := false;
        END IF;
    END IF;
    locale_found := coalesce(locale_found, true);

    PERFORM pg_advisory_xact_lock(8675301, hashtext(p_checksum));

    SELECT g.id_push_notification_group INTO v_group
        FROM spy_push_notification_group g
        WHERE g.name = p_group AND g.identifier IS NOT DISTINCT FROM p_identifier
        ORDER BY g.id_push_notification_group LIMIT 1;

    IF v_group IS NOT NULL AND v_provider IS NOT NULL THEN
        v_dup := EXISTS (
            SELECT 1 FROM spy_push_notification_subscription s
            WHERE s.payload_checksum = p_checksum
              AND s.fk_push_notification_group = v_group
              AND s.fk_push_notification_provider = v_provider);
    END IF;

    IF NOT p_insert OR v_provider IS NULL OR NOT locale_found OR v_dup THEN
        RETURN QUERY SELECT v_provider IS NOT NULL, locale_found, v_dup,
                            NULL::text, NULL::text;
        RETURN;
    END IF;

    IF v_group IS NULL THEN
        v_group := webpush_group_id(p_group, p_identifier);
    END IF;

    INSERT INTO spy_push_notification_subscription
        (id_push_notification_subscription, uuid, fk_push_notification_group,
         fk_push_notification_provider, fk_locale, payload, payload_checksum,
         expired_at, created_at, updated_at)
    VALUES (nextval('id_push_notification_subscription_pk_seq'),
            gen_random_uuid()::text, v_group, v_provider, v_locale,
            p_payload, p_checksum,
            now() + make_interval(secs => p_ttl), now(), now())
    RETURNING spy_push_notification_subscription.uuid,
              spy_push_notification_subscription.expired_at
        INTO v_uuid, v_expires;

    RETURN QUERY SELECT true, true, false, v_uuid,
        to_char(v_expires, 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
END
$fn$;

-- the reference deletes a subscription's delivery log with it
CREATE OR REPLACE FUNCTION webpush_subscription_delete(p_uuid text)
RETURNS boolean
LANGUAGE plpgsql AS $fn$
DECLARE
    v_id  integer;
BEGIN
    SELECT s.id_push_notification_subscription INTO v_id
        FROM spy_push_notification_subscription s WHERE s.uuid = p_uuid
        FOR UPDATE;

    IF v_id IS NULL THEN
        RETURN false;
    END IF;

    DELETE FROM spy_push_notification_subscription_delivery_log
        WHERE fk_push_notification_subscription = v_id;
    DELETE FROM spy_push_notification_subscription
        WHERE id_push_notification_subscription = v_id;

    RETURN true;
END
$fn$;


-- Sending (schema version 2) -----------------------------------------------

-- What the reference's notification row lacks: the message options and
-- the fan-out's progress.  ttl NULL: webpush_message_ttl.
CREATE TABLE IF NOT EXISTS webpush_notification (
    fk_push_notification  integer NOT NULL PRIMARY KEY
        REFERENCES spy_push_notification (id_push_notification)
        ON DELETE CASCADE,
    ttl                   integer,
    urgency               varchar(8),
    topic                 varchar(32),
    created_at            timestamptz NOT NULL DEFAULT now(),
    fanout_done           boolean NOT NULL DEFAULT false,
    fanout_cursor         integer NOT NULL DEFAULT 0,
    fanout_limit          integer
);
CREATE INDEX IF NOT EXISTS webpush_notification_fanout
    ON webpush_notification (fk_push_notification) WHERE NOT fanout_done;

-- Schema version 5: when the fan-out may start (NULL: at once) and when
-- the notification was cancelled (DELETE; then fanout_done too).
ALTER TABLE webpush_notification ADD COLUMN IF NOT EXISTS send_at timestamptz;
ALTER TABLE webpush_notification
    ADD COLUMN IF NOT EXISTS cancelled_at timestamptz;

-- Schema version 6: localizedPayloads.  localized_payloads maps each
-- locale name to its compact payload text as a JSON string (->> gives
-- back exactly the bytes posted; GET echoes it); localized_by_locale maps
-- the same payloads by spy_locale.id_locale, resolved when the
-- notification is created, so that the claim finds a subscription's
-- payload by its fk_locale without a join.  NULL: none.
ALTER TABLE webpush_notification
    ADD COLUMN IF NOT EXISTS localized_payloads jsonb;
ALTER TABLE webpush_notification
    ADD COLUMN IF NOT EXISTS localized_by_locale jsonb;

-- Schema version 7: ratePerMinute, pacing that every node obeys together
-- and that survives restarts, so it lives here, on the notification's
-- row, and is applied by the fan-out step (webpush_fanout_step), which
-- already runs one notification at a time under that row's lock.
--
-- A paced notification's deliveries are all created as usual (targeted is
-- the whole target set at once; a DELETE cancels every one not yet
-- started) but parked: next_attempt_at 'infinity', so that neither the
-- claim nor the senders' poll ever meets them.  Each later step releases
-- the next ones in subscription order (next_attempt_at := now(), then
-- any node claims them as usual) as many as their start slots allow: a
-- slot every 60/rate_per_minute seconds from pace_next_at, the time of
-- the next one.  Slots missed (all nodes down, a busy database) are not
-- made up beyond one second's worth: pace_next_at is moved up to at most
-- that far behind now() before counting, so a pause of any length is
-- followed by a burst of at most ceil(rate/60) starts, then the rate.
-- Deliveries released but not started yet (no node claimed them: the
-- senders are saturated by other work) hold back the next release, so
-- that they cannot pile up into a burst either; pace_from..pace_cursor is
-- the subscription id range of the last release.
--
-- Why not give each delivery its own start time when it is created
-- (next_attempt_at = start + k * 60/rate, the claim's due test doing the
-- pacing)?  It is simpler, but every slot missed during an outage is due
-- at once afterwards, and moving them means rewriting every remaining
-- row of the notification.  Why not a token bucket consulted by the
-- claim?  Unreleased deliveries would be due, in the claim's index and
-- the poll's answer, to be skipped by every claim of every worker for as
-- long as the notification takes; and the claim would have to lock
-- notification rows, against the cancel's lock order.
--
-- Retries (429, 5xx...) are not new starts: their next_attempt_at is
-- their backoff, as for any notification.
--   rate_per_minute  NULL: not paced
--   fanout_created   every delivery exists (the fan-out's cursor reached
--                    its end); for a notification that is not paced the
--                    same as fanout_done, for a paced one fanout_done
--                    waits until every delivery was released
--   pace_next_at     the next start slot; NULL until the first release
ALTER TABLE webpush_notification
    ADD COLUMN IF NOT EXISTS rate_per_minute integer;
ALTER TABLE webpush_notification
    ADD COLUMN IF NOT EXISTS fanout_created boolean NOT NULL DEFAULT false;
ALTER TABLE webpush_notification
    ADD COLUMN IF NOT EXISTS pace_next_at timestamptz;
ALTER TABLE webpush_notification
    ADD COLUMN IF NOT EXISTS pace_cursor integer NOT NULL DEFAULT 0;
ALTER TABLE webpush_notification
    ADD COLUMN IF NOT EXISTS pace_from integer NOT NULL DEFAULT 0;

-- One row per (notification, subscription): the unit of work, claimed
-- with FOR UPDATE SKIP LOCKED and a lease so that workers and nodes share
-- it and a dead one's work is claimed again when its lease lapses.
CREATE TABLE IF NOT EXISTS webpush_delivery (
    id                                 bigserial PRIMARY KEY,
    fk_push_notification               integer NOT NULL
        REFERENCES webpush_notification (fk_push_notification)
        ON DELETE CASCADE,
    fk_push_notification_subscription  integer NOT NULL
        REFERENCES spy_push_notification_subscription
            (id_push_notification_subscription)
        ON DELETE CASCADE,
    state            varchar(9) NOT NULL DEFAULT 'ready'
        CONSTRAINT webpush_delivery_state_check
        CHECK (state IN ('ready', 'sending', 'sent', 'failed', 'gone',
                         'cancelled')),
    attempts         smallint NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_until      timestamptz,
    last_status      smallint,
    last_error       text,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (fk_push_notification, fk_push_notification_subscription)
);
CREATE INDEX IF NOT EXISTS webpush_delivery_due
    ON webpush_delivery (next_attempt_at) WHERE state = 'ready';
CREATE INDEX IF NOT EXISTS webpush_delivery_leased
    ON webpush_delivery (lease_until) WHERE state = 'sending';
CREATE INDEX IF NOT EXISTS webpush_delivery_subscription
    ON webpush_delivery (fk_push_notification_subscription);

-- Schema version 5: deliveries of a cancelled notification that were not
-- in flight become 'cancelled'.  A table of an older version gets the
-- longer column and the new check (once: the column's length tells).
DO $do$
BEGIN
    IF (SELECT c.character_maximum_length FROM information_schema.columns c
        WHERE c.table_schema = current_schema()
          AND c.table_name = 'webpush_delivery'
          AND c.column_name = 'state') < 9
    THEN
        ALTER TABLE webpush_delivery
            DROP CONSTRAINT IF EXISTS webpush_delivery_state_check;
        ALTER TABLE webpush_delivery ALTER COLUMN state TYPE varchar(9);
        ALTER TABLE webpush_delivery ADD CONSTRAINT
            webpush_delivery_state_check
            CHECK (state IN ('ready', 'sending', 'sent', 'failed', 'gone',
                             'cancelled'));
    END IF;
END
$do$;

-- the fan-out walks a group's subscriptions in id order
CREATE INDEX IF NOT EXISTS webpush_subscription_target
    ON spy_push_notification_subscription
        (fk_push_notification_group, fk_push_notification_provider,
         id_push_notification_subscription);

-- A notification row from anyone (Spryker's facade, psql) is adopted and
-- announced; the module's own insert sets its options right after.
CREATE OR REPLACE FUNCTION webpush_notification_adopt() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO webpush_notification (fk_push_notification)
        VALUES (NEW.id_push_notification) ON CONFLICT DO NOTHING;
    PERFORM pg_notify('webpush', '');
    RETURN NULL;
END
$fn$;

DROP TRIGGER IF EXISTS webpush_notification_adopt ON spy_push_notification;
CREATE TRIGGER webpush_notification_adopt
    AFTER INSERT ON spy_push_notification
    FOR EACH ROW EXECUTE FUNCTION webpush_notification_adopt();

-- Installed on a database with history: what the reference would still
-- send (no delivery log row at all) is adopted once.
DO $do$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webpush_schema_version WHERE version >= 2)
    THEN
        INSERT INTO webpush_notification (fk_push_notification)
            SELECT n.id_push_notification FROM spy_push_notification n
            WHERE NOT EXISTS (
                SELECT 1 FROM spy_push_notification_subscription_delivery_log l
                WHERE l.fk_push_notification = n.id_push_notification)
            ON CONFLICT DO NOTHING;
    END IF;
END
$do$;

CREATE OR REPLACE FUNCTION webpush_notification_create(
    p_provider text, p_group text, p_identifier text, p_payload text,
    p_ttl integer, p_urgency text, p_topic text)
RETURNS TABLE (provider_found boolean, uuid text)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_provider  integer;
    v_id        integer;
    v_uuid      text;
BEGIN
    SELECT p.id_push_notification_provider INTO v_provider
        FROM spy_push_notification_provider p WHERE p.name = p_provider;

    IF v_provider IS NULL THEN
        RETURN QUERY SELECT false, NULL::text;
        RETURN;
    END IF;

    INSERT INTO spy_push_notification
        (id_push_notification, uuid, fk_push_notification_group,
         fk_push_notification_provider, payload, created_at, updated_at)
    VALUES (nextval('id_push_notification_pk_seq'), gen_random_uuid()::text,
            webpush_group_id(p_group, p_identifier), v_provider, p_payload,
            now(), now())
    RETURNING id_push_notification, spy_push_notification.uuid
        INTO v_id, v_uuid;

    INSERT INTO webpush_notification (fk_push_notification, ttl, urgency, topic)
        VALUES (v_id, p_ttl, p_urgency, p_topic)
        ON CONFLICT (fk_push_notification) DO UPDATE
        SET ttl = EXCLUDED.ttl, urgency = EXCLUDED.urgency,
            topic = EXCLUDED.topic;

    RETURN QUERY SELECT true, v_uuid;
END
$fn$;

-- One step of one notification's fan-out: up to p_chunk deliveries, in
-- subscription id order from where the last step stopped.  The target set
-- is frozen at the first step (subscriptions that exist then); expired
-- ones are skipped.  The row lock (SKIP LOCKED) lets workers and nodes
-- work on different notifications at once.  Returns the deliveries
-- created (-1 when no fan-out is waiting), those of a paced notification
-- released (schema version 7, see rate_per_minute above), and for a paced
-- notification with more to release the milliseconds until its next
-- start slot (NULL otherwise), for the sender to step again then.
--
-- A paced notification's creation goes on at the usual pace, steps that
-- only release wait for the next slot; the latter come first: they are
-- small and late they would make a burst (bounded, see above) or a gap.
CREATE OR REPLACE FUNCTION webpush_fanout_step(p_chunk integer)
RETURNS TABLE (created integer, released integer, pace_ms integer)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_id        integer;
    v_group     integer;
    v_provider  integer;
    v_cursor    integer;
    v_limit     integer;
    v_all       boolean;
    v_rate      integer;
    v_pace_at   timestamptz;
    v_pace_cursor  integer;
    v_pace_from    integer;
    v_count     integer := 0;
    v_last      integer;
    v_limit_reached  boolean;
    v_slot      interval;
    v_slot_s    double precision;
    v_tat       timestamptz;
    v_allowed   integer;
    v_released  integer := 0;
    v_done      boolean := false;
    v_wait      integer;
BEGIN
    SELECT w.fk_push_notification, n.fk_push_notification_group,
           n.fk_push_notification_provider, w.fanout_cursor, w.fanout_limit,
           w.fanout_created, w.rate_per_minute, w.pace_next_at,
           w.pace_cursor, w.pace_from
        INTO v_id, v_group, v_provider, v_cursor, v_limit, v_all, v_rate,
             v_pace_at, v_pace_cursor, v_pace_from
        FROM webpush_notification w
        JOIN spy_push_notification n
            ON n.id_push_notification = w.fk_push_notification
        WHERE NOT w.fanout_done
          AND (w.send_at IS NULL OR w.send_at <= now())
          AND (NOT w.fanout_created OR w.pace_next_at IS NULL
               OR w.pace_next_at <= now())
        ORDER BY w.fanout_created DESC, w.fk_push_notification
        LIMIT 1
        -- NO KEY: a claim splitting one of its ranges inserts a
        -- webpush_batch row whose foreign-key check takes KEY SHARE on
        -- this row; FOR UPDATE would make that claim wait for the step
        FOR NO KEY UPDATE OF w SKIP LOCKED;

    IF v_id IS NULL THEN
        RETURN QUERY SELECT -1, 0, NULL::integer;
        RETURN;
    END IF;

    IF NOT v_all THEN
        IF v_limit IS NULL THEN
            SELECT coalesce(max(id_push_notification_subscription), 0)
                INTO v_limit FROM spy_push_notification_subscription;
        END IF;

        IF v_rate IS NULL THEN
            -- not paced: ranges of up to 500 subscriptions, a row each
            -- (schema version 9, sql_ranges.cpp), not a row per delivery
            WITH targets AS (
                SELECT s.id_push_notification_subscription AS sid
                FROM spy_push_notification_subscription s
                WHERE s.fk_push_notification_group = v_group
                  AND s.fk_push_notification_provider = v_provider
                  AND s.id_push_notification_subscription > v_cursor
                  AND s.id_push_notification_subscription <= v_limit
                  AND s.expired_at > now() AT TIME ZONE 'UTC'
                ORDER BY s.id_push_notification_subscription
                LIMIT p_chunk
            ), numbered AS (
                SELECT t.sid,
                       (row_number() OVER (ORDER BY t.sid) - 1) / 500 AS part
                FROM targets t
            ), created AS (
                INSERT INTO webpush_batch
                    (fk_push_notification, first_subscription,
                     last_subscription, targeted)
                SELECT v_id, min(x.sid), max(x.sid), count(*)
                FROM numbered x GROUP BY x.part
                RETURNING targeted
            )
            SELECT coalesce((SELECT sum(c.targeted) FROM created c), 0),
                   (SELECT max(t.sid) FROM targets t),
                   (SELECT count(*) FROM targets t) = p_chunk
                INTO v_count, v_last, v_limit_reached;
        ELSE
            WITH targets AS (
                SELECT s.id_push_notification_subscription AS sid
                FROM spy_push_notification_subscription s
                WHERE s.fk_push_notification_group = v_group
                  AND s.fk_push_notification_provider = v_provider
                  AND s.id_push_notification_subscription > v_cursor
                  AND s.id_push_notification_subscription <= v_limit
                ORDER BY s.id_push_notification_subscription
                LIMIT p_chunk
            ), created AS (
                INSERT INTO webpush_delivery
                    (fk_push_notification, fk_push_notification_subscription,
                     next_attempt_at)
                -- paced: parked until a step releases them
                SELECT v_id, t.sid, timestamptz 'infinity'
                FROM targets t
                JOIN spy_push_notification_subscription s
                    ON s.id_push_notification_subscription = t.sid
                WHERE s.expired_at > now() AT TIME ZONE 'UTC'
                ON CONFLICT DO NOTHING
                RETURNING 1
            )
            SELECT (SELECT count(*) FROM created),
                   (SELECT max(sid) FROM targets),
                   (SELECT count(*) FROM targets) = p_chunk
                INTO v_count, v_last, v_limit_reached;
        END IF;

        v_cursor := coalesce(v_last, v_cursor);
        v_all := NOT v_limit_reached;
    END IF;

    -- paced: release what the slots since pace_next_at allow, unless the
    -- last release is still waiting to be started
    IF v_rate IS NOT NULL AND (v_pace_at IS NULL OR v_pace_at <= now())
       AND NOT EXISTS (
           SELECT 1 FROM webpush_delivery d
           WHERE d.fk_push_notification = v_id
             AND d.fk_push_notification_subscription > v_pace_from
             AND d.fk_push_notification_subscription <= v_pace_cursor
             AND d.state = 'ready' AND d.attempts = 0)
    THEN
        v_slot_s := 60.0 / v_rate;
        v_slot := make_interval(secs => v_slot_s);
        -- at most one second's worth of slots missed is made up
        v_tat := greatest(coalesce(v_pace_at, now()),
                          now() - (ceil(v_rate / 60.0)::integer - 1)
                                  * v_slot);
        v_allowed := least(p_chunk::bigint, floor(
            extract(epoch FROM now() - v_tat) / v_slot_s + 1e-6)::bigint
            + 1)::integer;

        WITH picked AS (
            SELECT d.id, d.fk_push_notification_subscription AS sid
            FROM webpush_delivery d
            WHERE d.fk_push_notification = v_id
              AND d.fk_push_notification_subscription > v_pace_cursor
              AND d.state = 'ready'
              AND d.next_attempt_at = timestamptz 'infinity'
            ORDER BY d.fk_push_notification_subscription
            LIMIT v_allowed
        ), moved AS (
            UPDATE webpush_delivery d
            SET next_attempt_at = now(), updated_at = now()
            FROM picked p
            WHERE d.id = p.id AND d.state = 'ready'
            RETURNING p.sid
        )
        SELECT count(*), max(moved.sid) INTO v_released, v_last FROM moved;

        v_pace_at := v_tat + v_released * v_slot;
        v_pace_from := v_pace_cursor;
        v_pace_cursor := coalesce(v_last, v_pace_cursor);
    END IF;

    -- every delivery exists and none is parked any more: all released
    IF v_rate IS NOT NULL AND v_all THEN
        v_done := NOT EXISTS (
            SELECT 1 FROM webpush_delivery d
            WHERE d.fk_push_notification = v_id
              AND d.fk_push_notification_subscription > v_pace_cursor
              AND d.state = 'ready'
              AND d.next_attempt_at = timestamptz 'infinity');
    END IF;

    UPDATE webpush_notification
        SET fanout_cursor = v_cursor,
            fanout_limit = v_limit,
            fanout_created = v_all,
            fanout_done = v_all AND (v_rate IS NULL OR v_done),
            pace_next_at = v_pace_at,
            pace_cursor = v_pace_cursor,
            pace_from = v_pace_from
        WHERE fk_push_notification = v_id;

    -- deliveries are due: every worker of every node may claim them now
    IF (v_rate IS NULL AND v_count > 0) OR v_released > 0 THEN
        PERFORM pg_notify('webpush', '');
    END IF;

    IF v_rate IS NOT NULL AND NOT v_done THEN
        v_wait := greatest(0, ceil(extract(epoch FROM
                      coalesce(v_pace_at, now()) - now()) * 1000))::integer;
    END IF;

    RETURN QUERY SELECT v_count, v_released, v_wait;
END
$fn$;

-- The form of versions 2 to 6: one step, the deliveries created (or -1).
-- Modules of those versions on this database during a rolling upgrade
-- step paced notifications too (their poll sees them as waiting until
-- they are done: a step a second that releases what is due).
CREATE OR REPLACE FUNCTION webpush_fanout(p_chunk integer)
RETURNS integer
LANGUAGE sql AS $fn$
    SELECT s.created FROM webpush_fanout_step(p_chunk) s
$fn$;

-- Claims up to p_limit due deliveries (ready and due, or sending with a
-- lapsed lease: a dead worker's), leases them for p_lease seconds and
-- returns what the sender needs (the payload: the one for the
-- subscription's locale when the notification has one, else its own).
-- Those of a cancelled notification that
-- it meets (a retry written back as the cancel ran, a lapsed lease)
-- become 'cancelled' instead and are not returned.
-- PL/pgSQL with a generic plan since version 10 (SQL before, planned at
-- every call): webpush_claim_work calls it at every claim of version 10
-- modules, modules of version 8 call it themselves.
CREATE OR REPLACE FUNCTION webpush_claim(p_limit integer, p_lease integer)
RETURNS TABLE (id bigint, notification integer, subscription integer,
               attempts integer, ttl integer, urgency text, topic text,
               created_ms bigint, subscription_payload text,
               payload text)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $fn$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH due AS (
        SELECT d.id FROM webpush_delivery d
        WHERE d.state = 'ready' AND d.next_attempt_at <= now()
        ORDER BY d.next_attempt_at
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    ), lapsed AS (
        SELECT d.id FROM webpush_delivery d
        WHERE d.state = 'sending' AND d.lease_until < now()
        ORDER BY d.lease_until
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    ), claimed AS (
        UPDATE webpush_delivery d
        SET state = CASE WHEN x.cancelled_at IS NULL THEN 'sending'
                         ELSE 'cancelled' END,
            attempts = CASE WHEN x.cancelled_at IS NULL THEN d.attempts + 1
                            ELSE d.attempts END,
            lease_until = CASE WHEN x.cancelled_at IS NULL
                THEN now() + make_interval(secs => p_lease) END,
            updated_at = now()
        FROM webpush_notification x
        WHERE x.fk_push_notification = d.fk_push_notification
          AND d.id IN (SELECT due.id FROM due
                       UNION ALL
                       SELECT lapsed.id FROM lapsed
                       LIMIT p_limit)
        RETURNING d.id, d.fk_push_notification,
                  d.fk_push_notification_subscription, d.attempts, d.state
    )
    SELECT c.id, c.fk_push_notification, c.fk_push_notification_subscription,
           c.attempts::integer, w.ttl, w.urgency::text, w.topic::text,
           (extract(epoch FROM w.created_at) * 1000)::bigint,
           s.payload,
           coalesce(w.localized_by_locale ->> s.fk_locale::text, n.payload)
    FROM claimed c
    JOIN webpush_notification w ON w.fk_push_notification = c.fk_push_notification
    JOIN spy_push_notification n ON n.id_push_notification = c.fk_push_notification
    JOIN spy_push_notification_subscription s
        ON s.id_push_notification_subscription =
           c.fk_push_notification_subscription
    WHERE c.state = 'sending';
END
$fn$;

INSERT INTO webpush_schema_version (version) VALUES (1), (2), (3)
    ON CONFLICT (version) DO NOTHING;

-- Schema version 4: endpoints that cannot be reached.  A subscription
-- whose deliveries fail for good with NXDOMAIN or a refused connection
-- for p_unreachable_limit notifications in a row (webpush_max_attempts)
-- expires like one a push service answered 404/410 for; any HTTP answer
-- from its push service starts the count again.  The count lives in a
-- module-owned table (Spryker's tables keep their meaning); a row exists
-- only while a count runs.  Idempotent, like the rest of this script.
CREATE TABLE IF NOT EXISTS webpush_subscription_state (
    fk_push_notification_subscription  integer NOT NULL PRIMARY KEY
        REFERENCES spy_push_notification_subscription
            (id_push_notification_subscription)
        ON DELETE CASCADE,
    unreachable_count  integer NOT NULL DEFAULT 0,
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- Schema version 10: what the outcomes written back tell of their
-- subscriptions, one function for webpush_complete (rows) and
-- webpush_complete_work (ranges).  Per outcome that took effect: its
-- subscription, outcome, HTTP status (0: no answer) and whether it failed
-- for good because its endpoint is unreachable.  Any answer from the push
-- service ends the subscription's count of unreachable failures in a row;
-- an unreachable failure counts one (none when the same batch has an
-- answer for it); a subscription gone, or unreachable p_unreachable_limit
-- times in a row, expires, and its deliveries waiting as rows ('ready')
-- become 'gone'.
--
-- Its callers run it as a statement of its own, after the one that wrote
-- the deliveries back, so it sees what that statement made 'ready' (a
-- retry, a release, a range's delivery handed over to a row) and drops
-- those of a subscription that died too.  Versions 4 to 9 ran it in the
-- same statement, whose snapshot predates them: they stayed 'ready', to
-- be claimed and sent to an expired subscription's endpoint again.
CREATE OR REPLACE FUNCTION webpush_subscription_outcomes(p_sids integer[],
    p_outcomes text[], p_statuses integer[], p_unreachable boolean[],
    p_unreachable_limit integer)
RETURNS void
LANGUAGE plpgsql
-- planned once per session, as the write-backs that call it
SET plan_cache_mode = force_generic_plan
AS $fn$
BEGIN
    -- the common case: every delivery sent, no subscription counted as
    -- unreachable: nothing to reset, count or expire (the statement
    -- below cost 4 µs a delivery for nothing, issue 16)
    IF NOT EXISTS (SELECT 1 FROM unnest(p_outcomes) AS o(outcome)
                   WHERE o.outcome IS DISTINCT FROM 'sent')
       AND NOT EXISTS (SELECT 1 FROM webpush_subscription_state)
    THEN
        RETURN;
    END IF;

    WITH o AS (
        SELECT o.sid, o.outcome, o.status,
               coalesce(o.unreachable, false) AS unreachable
        FROM unnest(p_sids, p_outcomes, p_statuses, p_unreachable)
            AS o(sid, outcome, status, unreachable)
    ), answered AS (
        DELETE FROM webpush_subscription_state st
        WHERE st.fk_push_notification_subscription IN
            (SELECT o.sid FROM o WHERE o.status > 0)
    ), counted AS (
        INSERT INTO webpush_subscription_state AS st
            (fk_push_notification_subscription, unreachable_count,
             updated_at)
        SELECT o.sid, count(*), now() FROM o
        WHERE o.unreachable AND o.outcome = 'failed'
          AND o.sid NOT IN (SELECT a.sid FROM o a WHERE a.status > 0)
        GROUP BY o.sid
        ORDER BY o.sid
        ON CONFLICT (fk_push_notification_subscription) DO UPDATE
        SET unreachable_count = st.unreachable_count
                                + EXCLUDED.unreachable_count,
            updated_at = now()
        RETURNING st.fk_push_notification_subscription AS sid,
                  st.unreachable_count AS n
    ), dead AS (
        SELECT o.sid FROM o WHERE o.outcome = 'gone'
        UNION
        SELECT counted.sid FROM counted
        WHERE counted.n >= p_unreachable_limit
    ), expired AS (
        UPDATE spy_push_notification_subscription s
        SET expired_at = least(s.expired_at, now() AT TIME ZONE 'UTC'),
            updated_at = now() AT TIME ZONE 'UTC'
        WHERE s.id_push_notification_subscription IN (SELECT sid FROM dead)
    )
    -- the CTEs that modify run to completion whether read or not
    UPDATE webpush_delivery d
    SET state = 'gone', updated_at = now()
    WHERE d.state = 'ready' AND d.fk_push_notification_subscription IN
        (SELECT sid FROM dead);
END
$fn$;

-- Writes a batch of outcomes back: sent (plus the reference's delivery
-- log row), failed, gone (the subscription expires at once and its other
-- waiting deliveries are dropped), retry (ready again after p_delay ms) or
-- release (claimed but never sent: ready again, the attempt not counted).
-- A retry or release of a cancelled notification becomes 'cancelled'.
-- Only rows still 'sending' change: a lapsed lease claimed again by
-- someone else is not overwritten twice.  p_unreachable (per outcome: the
-- delivery failed for good because its endpoint is unreachable) and
-- p_unreachable_limit count toward expiring an unreachable subscription
-- (webpush_subscription_outcomes, for the outcomes that changed a row).
-- PL/pgSQL since version 10 (SQL before): the second statement takes the
-- first one's rows.
-- p_log false (webpush_delivery_log off, version 10): no delivery log
-- row, the row's state 'sent' says it; the default keeps the seven-
-- argument calls of version 4-9 modules working (that form is replaced).
DROP FUNCTION IF EXISTS webpush_complete(bigint[], text[], integer[],
    text[], integer[], boolean[], integer);
CREATE OR REPLACE FUNCTION webpush_complete(p_ids bigint[], p_outcomes text[],
    p_statuses integer[], p_errors text[], p_delays integer[],
    p_unreachable boolean[], p_unreachable_limit integer,
    p_log boolean DEFAULT true)
RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    v_done         integer;
    v_sids         integer[];
    v_outcomes     text[];
    v_statuses     integer[];
    v_unreachable  boolean[];
BEGIN
    WITH r AS (
        SELECT * FROM unnest(p_ids, p_outcomes, p_statuses, p_errors,
                             p_delays, p_unreachable)
            AS r(id, outcome, status, error, delay, unreachable)
        WHERE r.id IS NOT NULL
    ), done AS (
        UPDATE webpush_delivery d
        SET state = CASE
                WHEN r.outcome NOT IN ('retry', 'release') THEN r.outcome
                WHEN x.cancelled_at IS NULL THEN 'ready'
                ELSE 'cancelled' END,
            attempts = CASE r.outcome
                WHEN 'release' THEN d.attempts - 1 ELSE d.attempts END,
            next_attempt_at = CASE
                WHEN r.outcome IN ('retry', 'release')
                    THEN now() + r.delay * interval '1 millisecond'
                ELSE d.next_attempt_at END,
            lease_until = NULL, last_status = r.status, last_error = r.error,
            updated_at = now()
        FROM r, webpush_notification x
        WHERE d.id = r.id AND d.state = 'sending'
          AND x.fk_push_notification = d.fk_push_notification
        RETURNING d.fk_push_notification AS nid,
                  d.fk_push_notification_subscription AS sid, r.outcome,
                  r.status, r.unreachable
    ), logged AS (
        INSERT INTO spy_push_notification_subscription_delivery_log
            (id_push_notification_subscription_delivery_log,
             fk_push_notification, fk_push_notification_subscription,
             created_at, updated_at)
        SELECT nextval(
                   'id_push_notification_subscription_delivery_log_pk_seq'),
               done.nid, done.sid, now() AT TIME ZONE 'UTC',
               now() AT TIME ZONE 'UTC'
        FROM done WHERE done.outcome = 'sent' AND p_log
        ON CONFLICT DO NOTHING
    )
    -- one pass over done: the arrays stay aligned (logged runs to
    -- completion unread)
    SELECT count(*)::integer, array_agg(done.sid), array_agg(done.outcome),
           array_agg(done.status), array_agg(done.unreachable)
        INTO v_done, v_sids, v_outcomes, v_statuses, v_unreachable
        FROM done;

    IF v_done > 0 THEN
        PERFORM webpush_subscription_outcomes(v_sids, v_outcomes,
                                              v_statuses, v_unreachable,
                                              p_unreachable_limit);
    END IF;

    RETURN v_done;
END
$fn$;

-- The five-argument form of version 3, for modules of that version on this
-- database during a rolling upgrade: the same write-back, counting nothing
-- as unreachable.
CREATE OR REPLACE FUNCTION webpush_complete(p_ids bigint[], p_outcomes text[],
    p_statuses integer[], p_errors text[], p_delays integer[])
RETURNS integer
LANGUAGE sql AS $fn$
    SELECT webpush_complete(p_ids, p_outcomes, p_statuses, p_errors,
                            p_delays, '{}'::boolean[], 0)
$fn$;

INSERT INTO webpush_schema_version (version) VALUES (4)
    ON CONFLICT (version) DO NOTHING;

-- Schema version 5: the lifecycle of a notification (issue 15).

-- Idempotency-Key of POST /push-notifications: a key names one
-- notification for 24 hours; request_hash is the fingerprint of the
-- request (api/idempotency.hpp) that created it.  The primary key makes
-- racing requests with one key wait for each other (INSERT ... ON
-- CONFLICT) in the transaction that creates the notification.
CREATE TABLE IF NOT EXISTS webpush_idempotency (
    idempotency_key       varchar(255) NOT NULL PRIMARY KEY,
    request_hash          varchar(64) NOT NULL,
    fk_push_notification  integer
        REFERENCES spy_push_notification (id_push_notification)
        ON DELETE CASCADE,
    created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS webpush_idempotency_created
    ON webpush_idempotency (created_at);

-- DELETE /push-notifications/{uuid}: false when unknown.  The fan-out
-- stops (it holds the notification's row while a step runs, so this waits
-- for a step under way and then sees its deliveries); deliveries waiting
-- in the database become 'cancelled', rows and ranges not claimed (schema
-- version 9, webpush_batch); NOTIFY "cancel <id>" makes the senders give
-- back unsent what their queues hold of it; those in flight finish
-- (the write-backs and the claims cancel what comes back or what they
-- meet of it).
CREATE OR REPLACE FUNCTION webpush_notification_cancel(p_uuid text)
RETURNS boolean
LANGUAGE plpgsql AS $fn$
DECLARE
    v_id  integer;
BEGIN
    SELECT n.id_push_notification INTO v_id
        FROM spy_push_notification n WHERE n.uuid = p_uuid;

    IF v_id IS NULL THEN
        RETURN false;
    END IF;

    INSERT INTO webpush_notification (fk_push_notification, fanout_done,
                                      cancelled_at)
        VALUES (v_id, true, now())
        ON CONFLICT (fk_push_notification) DO UPDATE
        SET fanout_done = true,
            cancelled_at = coalesce(webpush_notification.cancelled_at,
                                    now());

    UPDATE webpush_delivery d
        SET state = 'cancelled', updated_at = now()
        WHERE d.fk_push_notification = v_id AND d.state = 'ready';

    -- its ranges not claimed become 'cancelled' too.  webpush_batch is
    -- created further down (sql_ranges.cpp): PL/pgSQL looks the table up
    -- when this runs, not when it is created.
    UPDATE webpush_batch b
        SET state = 'cancelled'
        WHERE b.fk_push_notification = v_id AND b.state = 'ready';

    -- every worker of every node drops what it holds of it unsent
    PERFORM pg_notify('webpush', 'cancel ' || v_id);

    RETURN true;
END
$fn$;

INSERT INTO webpush_schema_version (version) VALUES (5)
    ON CONFLICT (version) DO NOTHING;

-- Schema version 6: localized payloads (issue 15, localizedPayloads).
-- Schema version 7: ratePerMinute (p_rate).

-- A notification with its options, its start (p_send_at, NULL: now), its
-- localized payloads (p_localized: {"<locale name>":"<compact payload>"},
-- NULL: none), its pace (p_rate deliveries started a minute at most,
-- NULL: not paced) and, with p_key, idempotently: the key's notification
-- when the key was used within 24 hours with the same p_hash (replayed),
-- nothing and conflict when with another.  Each call also removes a few
-- expired keys: the table stays as small as a day's keys without a job
-- to clean it.
CREATE OR REPLACE FUNCTION webpush_notification_create(
    p_provider text, p_group text, p_identifier text, p_payload text,
    p_ttl integer, p_urgency text, p_topic text, p_send_at timestamptz,
    p_key text, p_hash text, p_localized jsonb, p_rate integer)
RETURNS TABLE (provider_found boolean, uuid text, conflict boolean,
               replayed boolean)
LANGUAGE plpgsql AS $fn$
DECLARE
    v_provider  integer;
    v_id        integer;
    v_uuid      text;
    v_hash      text;
    v_owned     boolean;
    v_by_locale jsonb;
BEGIN
    SELECT p.id_push_notification_provider INTO v_provider
        FROM spy_push_notification_provider p WHERE p.name = p_provider;

    IF v_provider IS NULL THEN
        RETURN QUERY SELECT false, NULL::text, false, false;
        RETURN;
    END IF;

    IF p_key IS NOT NULL THEN
        DELETE FROM webpush_idempotency i
            WHERE i.idempotency_key IN (
                SELECT x.idempotency_key FROM webpush_idempotency x
                WHERE x.created_at < now() - interval '24 hours'
                  AND x.idempotency_key <> p_key
                ORDER BY x.created_at
                LIMIT 10
                FOR UPDATE SKIP LOCKED);

        -- waits for a racing request with this key to commit or roll back
        INSERT INTO webpush_idempotency AS i
            (idempotency_key, request_hash, created_at)
        VALUES (p_key, p_hash, now())
        ON CONFLICT (idempotency_key) DO UPDATE
            SET request_hash = EXCLUDED.request_hash,
                fk_push_notification = NULL,
                created_at = EXCLUDED.created_at
            WHERE i.created_at < now() - interval '24 hours'
        RETURNING true INTO v_owned;

        IF v_owned IS NULL THEN
            SELECT i.request_hash, n.uuid INTO v_hash, v_uuid
                FROM webpush_idempotency i
                LEFT JOIN spy_push_notification n
                    ON n.id_push_notification = i.fk_push_notification
                WHERE i.idempotency_key = p_key;

            IF v_hash IS DISTINCT FROM p_hash THEN
                RETURN QUERY SELECT true, NULL::text, true, false;
            ELSE
                RETURN QUERY SELECT true, v_uuid, false, true;
            END IF;
            RETURN;
        END IF;
    END IF;

    -- the claim looks payloads up by the subscription's fk_locale; names
    -- that spy_locale does not know have no subscriptions
    IF p_localized IS NOT NULL AND to_regclass('spy_locale') IS NOT NULL
    THEN
        EXECUTE 'SELECT jsonb_object_agg(l.id_locale::text, p.value)'
                || ' FROM jsonb_each($1) p'
                || ' JOIN spy_locale l ON l.locale_name = p.key'
            INTO v_by_locale USING p_localized;
    END IF;

    INSERT INTO spy_push_notification
        (id_push_notification, uuid, fk_push_notification_group,
         fk_push_notification_provider, payload, created_at, updated_at)
    VALUES (nextval('id_push_notification_pk_seq'), gen_random_uuid()::text,
            webpush_group_id(p_group, p_identifier), v_provider, p_payload,
            now(), now())
    RETURNING id_push_notification, spy_push_notification.uuid
        INTO v_id, v_uuid;

    INSERT INTO webpush_notification
        (fk_push_notification, ttl, urgency, topic, send_at,
         localized_payloads, localized_by_locale, rate_per_minute)
        VALUES (v_id, p_ttl, p_urgency, p_topic, p_send_at, p_localized,
                v_by_locale, p_rate)
        ON CONFLICT (fk_push_notification) DO UPDATE
        SET ttl = EXCLUDED.ttl, urgency = EXCLUDED.urgency,
            topic = EXCLUDED.topic, send_at = EXCLUDED.send_at,
            localized_payloads = EXCLUDED.localized_payloads,
            localized_by_locale = EXCLUDED.localized_by_locale,
            rate_per_minute = EXCLUDED.rate_per_minute;

    IF p_key IS NOT NULL THEN
        UPDATE webpush_idempotency i SET fk_push_notification = v_id
            WHERE i.idempotency_key = p_key;
    END IF;

    RETURN QUERY SELECT true, v_uuid, false, false;
END
$fn$;

-- The eleven-argument form of version 6 and the ten-argument form of
-- version 5, for modules of those versions on this database during a
-- rolling upgrade: not paced (and no localized payloads).
CREATE OR REPLACE FUNCTION webpush_notification_create(
    p_provider text, p_group text, p_identifier text, p_payload text,
    p_ttl integer, p_urgency text, p_topic text, p_send_at timestamptz,
    p_key text, p_hash text, p_localized jsonb)
RETURNS TABLE (provider_found boolean, uuid text, conflict boolean,
               replayed boolean)
LANGUAGE sql AS $fn$
    SELECT * FROM webpush_notification_create(p_provider, p_group,
        p_identifier, p_payload, p_ttl, p_urgency, p_topic, p_send_at,
        p_key, p_hash, p_localized, NULL::integer)
$fn$;

CREATE OR REPLACE FUNCTION webpush_notification_create(
    p_provider text, p_group text, p_identifier text, p_payload text,
    p_ttl integer, p_urgency text, p_topic text, p_send_at timestamptz,
    p_key text, p_hash text)
RETURNS TABLE (provider_found boolean, uuid text, conflict boolean,
               replayed boolean)
LANGUAGE sql AS $fn$
    SELECT * FROM webpush_notification_create(p_provider, p_group,
        p_identifier, p_payload, p_ttl, p_urgency, p_topic, p_send_at,
        p_key, p_hash, NULL::jsonb, NULL::integer)
$fn$;

INSERT INTO webpush_schema_version (version) VALUES (6)
    ON CONFLICT (version) DO NOTHING;

INSERT INTO webpush_schema_version (version) VALUES (7)
    ON CONFLICT (version) DO NOTHING;

-- Schema version 8: engagement (issue 15, webpush_events).  What the
-- service workers reported of each delivery: one row per (notification,
-- subscription, type), so that each type counts once however often it is
-- reported.  The pair is what the signed token names (not a
-- webpush_delivery row: one need not be kept).  Rows go with their
-- notification or subscription, as the deliveries do; the index serves
-- that cascade when a subscription is deleted.
CREATE TABLE IF NOT EXISTS webpush_engagement (
    fk_push_notification               integer NOT NULL
        REFERENCES spy_push_notification (id_push_notification)
        ON DELETE CASCADE,
    fk_push_notification_subscription  integer NOT NULL
        REFERENCES spy_push_notification_subscription
            (id_push_notification_subscription)
        ON DELETE CASCADE,
    type                               varchar(7) NOT NULL
        CONSTRAINT webpush_engagement_type_check
        CHECK (type IN ('shown', 'clicked', 'closed')),
    at                                 timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (fk_push_notification, fk_push_notification_subscription,
                 type)
);
CREATE INDEX IF NOT EXISTS webpush_engagement_subscription
    ON webpush_engagement (fk_push_notification_subscription);

INSERT INTO webpush_schema_version (version) VALUES (8)
    ON CONFLICT (version) DO NOTHING;
)SQL";

    /*
     * Every worker runs this when it starts (a respawn, a reload, another
     * node), often while others are sending.  The DDL takes table locks
     * even when there is nothing to do (ALTER TABLE ... IF NOT EXISTS: an
     * AccessExclusiveLock; CREATE INDEX IF NOT EXISTS: a ShareLock), which
     * queue behind running transactions and every other session behind
     * them.  So the script first reads the version recorded, taking only
     * an AccessShareLock on webpush_schema_version (which DDL alone
     * conflicts with): at schema_version or above there is nothing to do
     * (above: a newer module ran; never downgrade).  Below it (a new
     * database, one with Spryker's tables only: version 0), the DDL runs
     * under an advisory lock, one migrating session at a time across
     * workers and nodes, after reading the version again: the session it
     * waited for may have done it.  The table is looked for in pg_class
     * itself: a name looked up in the caches before the lock could stay
     * "missing" after it.  webpush_schema_script gets the script's md5,
     * which modules before this check looked for (the same script is not
     * run again by them).
     */
    static const std::string  script =
        "DO $webpush_setup$\n"
        "DECLARE\n"
        "    v_ddl       constant text := $webpush_ddl$" + ddl
        + schema_ranges_sql() + "$webpush_ddl$;\n"
        "    v_version   constant integer := "
        + std::to_string(schema_version) + ";\n"
        "    v_recorded  integer;\n"
        "BEGIN\n"
        "    FOR v_pass IN 1..2 LOOP\n"
        "        v_recorded := 0;\n"
        "        IF EXISTS (SELECT 1 FROM pg_catalog.pg_class c\n"
        "                   WHERE c.relname = 'webpush_schema_version'\n"
        "                     AND pg_catalog.pg_table_is_visible(c.oid))\n"
        "        THEN\n"
        "            EXECUTE 'SELECT coalesce(max(version), 0)'\n"
        "                || ' FROM webpush_schema_version' INTO v_recorded;\n"
        "        END IF;\n"
        "\n"
        "        IF v_recorded >= v_version THEN\n"
        "            RETURN;\n"
        "        END IF;\n"
        "\n"
        "        IF v_pass = 1 THEN\n"
        "            PERFORM pg_advisory_xact_lock(8675309001);\n"
        "        END IF;\n"
        "    END LOOP;\n"
        "\n"
        "    EXECUTE v_ddl;\n"
        "\n"
        "    CREATE TABLE IF NOT EXISTS webpush_schema_script (\n"
        "        md5         text NOT NULL PRIMARY KEY,\n"
        "        applied_at  timestamptz NOT NULL DEFAULT now());\n"
        "    INSERT INTO webpush_schema_script (md5) VALUES (md5(v_ddl))\n"
        "        ON CONFLICT (md5) DO NOTHING;\n"
        "END\n"
        "$webpush_setup$;\n";

    return script;
}

} // namespace webpush::db
