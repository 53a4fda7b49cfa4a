-- The schema script of schema version 4 (src/db/sql.cpp as of commit
-- 49449c8, before version 5 added sendAt, cancel and Idempotency-Key),
-- exactly as that version ran it at start-up.  t/015-schema-upgrade.t
-- builds a populated version-4 database with it to test the upgrade.
BEGIN;
SELECT pg_advisory_xact_lock(8675309001);
CREATE TABLE IF NOT EXISTS webpush_schema_script (
    md5         text NOT NULL PRIMARY KEY,
    applied_at  timestamptz NOT NULL DEFAULT now());
DO $webpush_setup$
DECLARE
    v_ddl  constant text := $webpush_ddl$
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
    state            varchar(8) NOT NULL DEFAULT 'ready'
        CHECK (state IN ('ready', 'sending', 'sent', 'failed', 'gone')),
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
-- ones are skipped.  Returns the deliveries created, -1 when no fan-out
-- is waiting.  The row lock (SKIP LOCKED) lets workers and nodes work on
-- different notifications at once.
CREATE OR REPLACE FUNCTION webpush_fanout(p_chunk integer)
RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    v_id        integer;
    v_group     integer;
    v_provider  integer;
    v_cursor    integer;
    v_limit     integer;
    v_count     integer;
    v_last      integer;
    v_limit_reached  boolean;
BEGIN
    SELECT w.fk_push_notification, n.fk_push_notification_group,
           n.fk_push_notification_provider, w.fanout_cursor, w.fanout_limit
        INTO v_id, v_group, v_provider, v_cursor, v_limit
        FROM webpush_notification w
        JOIN spy_push_notification n
            ON n.id_push_notification = w.fk_push_notification
        WHERE NOT w.fanout_done
        ORDER BY w.fk_push_notification
        LIMIT 1
        FOR UPDATE OF w SKIP LOCKED;

    IF v_id IS NULL THEN
        RETURN -1;
    END IF;

    IF v_limit IS NULL THEN
        SELECT coalesce(max(id_push_notification_subscription), 0)
            INTO v_limit FROM spy_push_notification_subscription;
    END IF;

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
            (fk_push_notification, fk_push_notification_subscription)
        SELECT v_id, t.sid FROM targets t
        JOIN spy_push_notification_subscription s
            ON s.id_push_notification_subscription = t.sid
        WHERE s.expired_at > now() AT TIME ZONE 'UTC'
        ON CONFLICT DO NOTHING
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM created), (SELECT max(sid) FROM targets),
           (SELECT count(*) FROM targets) = p_chunk
        INTO v_count, v_last, v_limit_reached;

    UPDATE webpush_notification
        SET fanout_cursor = coalesce(v_last, v_cursor),
            fanout_limit = v_limit,
            fanout_done = NOT v_limit_reached
        WHERE fk_push_notification = v_id;

    -- deliveries are due: every worker of every node may claim them now
    IF v_count > 0 THEN
        PERFORM pg_notify('webpush', '');
    END IF;

    RETURN v_count;
END
$fn$;

-- Claims up to p_limit due deliveries (ready and due, or sending with a
-- lapsed lease: a dead worker's), leases them for p_lease seconds and
-- returns what the sender needs.
CREATE OR REPLACE FUNCTION webpush_claim(p_limit integer, p_lease integer)
RETURNS TABLE (id bigint, notification integer, subscription integer,
               attempts integer, ttl integer, urgency text, topic text,
               created_ms bigint, subscription_payload text,
               payload text)
LANGUAGE sql AS $fn$
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
        SET state = 'sending', attempts = d.attempts + 1,
            lease_until = now() + make_interval(secs => p_lease),
            updated_at = now()
        WHERE d.id IN (SELECT due.id FROM due
                       UNION ALL
                       SELECT lapsed.id FROM lapsed
                       LIMIT p_limit)
        RETURNING d.id, d.fk_push_notification,
                  d.fk_push_notification_subscription, d.attempts
    )
    SELECT c.id, c.fk_push_notification, c.fk_push_notification_subscription,
           c.attempts::integer, w.ttl, w.urgency::text, w.topic::text,
           (extract(epoch FROM w.created_at) * 1000)::bigint,
           s.payload, n.payload
    FROM claimed c
    JOIN webpush_notification w ON w.fk_push_notification = c.fk_push_notification
    JOIN spy_push_notification n ON n.id_push_notification = c.fk_push_notification
    JOIN spy_push_notification_subscription s
        ON s.id_push_notification_subscription =
           c.fk_push_notification_subscription
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

-- Writes a batch of outcomes back: sent (plus the reference's delivery
-- log row), failed, gone (the subscription expires at once and its other
-- waiting deliveries are dropped), retry (ready again after p_delay ms) or
-- release (claimed but never sent: ready again, the attempt not counted).
-- Only rows still 'sending' change: a lapsed lease claimed again by
-- someone else is not overwritten twice.  p_unreachable (per outcome: the
-- delivery failed for good because its endpoint is unreachable) and
-- p_unreachable_limit count toward expiring an unreachable subscription.
CREATE OR REPLACE FUNCTION webpush_complete(p_ids bigint[], p_outcomes text[],
    p_statuses integer[], p_errors text[], p_delays integer[],
    p_unreachable boolean[], p_unreachable_limit integer)
RETURNS integer
LANGUAGE sql AS $fn$
    WITH r AS (
        SELECT * FROM unnest(p_ids, p_outcomes, p_statuses, p_errors,
                             p_delays, p_unreachable)
            AS r(id, outcome, status, error, delay, unreachable)
        WHERE r.id IS NOT NULL
    ), done AS (
        UPDATE webpush_delivery d
        SET state = CASE WHEN r.outcome IN ('retry', 'release') THEN 'ready'
                         ELSE r.outcome END,
            attempts = CASE r.outcome
                WHEN 'release' THEN d.attempts - 1 ELSE d.attempts END,
            next_attempt_at = CASE
                WHEN r.outcome IN ('retry', 'release')
                    THEN now() + r.delay * interval '1 millisecond'
                ELSE d.next_attempt_at END,
            lease_until = NULL, last_status = r.status, last_error = r.error,
            updated_at = now()
        FROM r
        WHERE d.id = r.id AND d.state = 'sending'
        RETURNING d.fk_push_notification AS nid,
                  d.fk_push_notification_subscription AS sid, r.outcome,
                  r.status, coalesce(r.unreachable, false) AS unreachable
    ), logged AS (
        INSERT INTO spy_push_notification_subscription_delivery_log
            (id_push_notification_subscription_delivery_log,
             fk_push_notification, fk_push_notification_subscription,
             created_at, updated_at)
        SELECT nextval(
                   'id_push_notification_subscription_delivery_log_pk_seq'),
               done.nid, done.sid, now() AT TIME ZONE 'UTC',
               now() AT TIME ZONE 'UTC'
        FROM done WHERE done.outcome = 'sent'
        ON CONFLICT DO NOTHING
        RETURNING 1
    ), answered AS (
        DELETE FROM webpush_subscription_state st
        WHERE st.fk_push_notification_subscription IN
            (SELECT done.sid FROM done WHERE done.status > 0)
        RETURNING 1
    ), counted AS (
        INSERT INTO webpush_subscription_state AS st
            (fk_push_notification_subscription, unreachable_count,
             updated_at)
        SELECT done.sid, count(*), now() FROM done
        WHERE done.unreachable AND done.outcome = 'failed'
          AND done.sid NOT IN (SELECT a.sid FROM done a WHERE a.status > 0)
        GROUP BY done.sid
        ORDER BY done.sid
        ON CONFLICT (fk_push_notification_subscription) DO UPDATE
        SET unreachable_count = st.unreachable_count
                                + EXCLUDED.unreachable_count,
            updated_at = now()
        RETURNING st.fk_push_notification_subscription AS sid,
                  st.unreachable_count AS n
    ), dead AS (
        SELECT done.sid FROM done WHERE done.outcome = 'gone'
        UNION
        SELECT counted.sid FROM counted
        WHERE counted.n >= p_unreachable_limit
    ), expired AS (
        UPDATE spy_push_notification_subscription s
        SET expired_at = least(s.expired_at, now() AT TIME ZONE 'UTC'),
            updated_at = now() AT TIME ZONE 'UTC'
        WHERE s.id_push_notification_subscription IN (SELECT sid FROM dead)
        RETURNING 1
    ), dropped AS (
        UPDATE webpush_delivery d
        SET state = 'gone', updated_at = now()
        WHERE d.state = 'ready' AND d.fk_push_notification_subscription IN
            (SELECT sid FROM dead)
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM done)::integer
           + 0 * ((SELECT count(*) FROM logged) + (SELECT count(*) FROM expired)
                  + (SELECT count(*) FROM dropped)
                  + (SELECT count(*) FROM answered)
                  + (SELECT count(*) FROM counted))::integer
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
$webpush_ddl$;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webpush_schema_script s
                   WHERE s.md5 = md5(v_ddl)) THEN
        EXECUTE v_ddl;
        INSERT INTO webpush_schema_script (md5) VALUES (md5(v_ddl));
    END IF;
END
$webpush_setup$;
COMMIT;
