/*
 * Schema and statements; see sql.hpp.
 *
 * Names follow the reference (Spryker's Propel schema for PostgreSQL):
 * tables spy_push_notification*, sequences <table>_pk_seq, identifiers
 * from the sequences on insert (Propel supplies nextval() itself, so the
 * columns have no DEFAULT), timestamps without time zone written in UTC
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
    static const std::string  script = R"SQL(
BEGIN;

-- one migrating session at a time across workers and nodes ("webpush")
SELECT pg_advisory_xact_lock(8675309001);

CREATE TABLE IF NOT EXISTS webpush_schema_version (
    version     integer NOT NULL PRIMARY KEY,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE IF NOT EXISTS spy_push_notification_provider_pk_seq;
CREATE TABLE IF NOT EXISTS spy_push_notification_provider (
    id_push_notification_provider  integer NOT NULL,
    uuid                           varchar(36),
    name                           varchar(255) NOT NULL,
    created_at                     timestamp,
    updated_at                     timestamp,
    PRIMARY KEY (id_push_notification_provider),
    CONSTRAINT "spy_push_notification_provider-name" UNIQUE (name)
);

CREATE SEQUENCE IF NOT EXISTS spy_push_notification_group_pk_seq;
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

CREATE SEQUENCE IF NOT EXISTS spy_push_notification_pk_seq;
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

CREATE SEQUENCE IF NOT EXISTS spy_push_notification_subscription_pk_seq;
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

CREATE SEQUENCE IF NOT EXISTS
    spy_push_notification_subscription_delivery_log_pk_seq;
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

-- the duplicate check of a subscription POST
CREATE INDEX IF NOT EXISTS webpush_subscription_checksum
    ON spy_push_notification_subscription (payload_checksum);

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
        PERFORM pg_advisory_xact_lock(8675302,
            hashtext(p_group || chr(31) || coalesce(p_identifier, '')));

        SELECT g.id_push_notification_group INTO v_group
            FROM spy_push_notification_group g
            WHERE g.name = p_group
              AND g.identifier IS NOT DISTINCT FROM p_identifier
            ORDER BY g.id_push_notification_group LIMIT 1;

        IF v_group IS NULL THEN
            INSERT INTO spy_push_notification_group
                (id_push_notification_group, uuid, name, identifier,
                 created_at, updated_at)
            VALUES (nextval('spy_push_notification_group_pk_seq'),
                    gen_random_uuid()::text, p_group, p_identifier,
                    now(), now())
            RETURNING id_push_notification_group INTO v_group;
        END IF;
    END IF;

    INSERT INTO spy_push_notification_subscription
        (id_push_notification_subscription, uuid, fk_push_notification_group,
         fk_push_notification_provider, fk_locale, payload, payload_checksum,
         expired_at, created_at, updated_at)
    VALUES (nextval('spy_push_notification_subscription_pk_seq'),
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

INSERT INTO webpush_schema_version (version) VALUES (1)
    ON CONFLICT (version) DO NOTHING;

COMMIT;
)SQL";

    return script;
}


namespace sql {

const Statement  provider_create = {
    "webpush_provider_create",
    "INSERT INTO spy_push_notification_provider"
    " (id_push_notification_provider, uuid, name, created_at, updated_at)"
    " VALUES (nextval('spy_push_notification_provider_pk_seq'),"
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

const Statement  status = {
    "webpush_status",
    "SELECT (SELECT max(version) FROM webpush_schema_version),"
    " (SELECT count(*) FROM spy_push_notification_provider),"
    " (SELECT count(*) FROM spy_push_notification_subscription),"
    " (SELECT count(*) FROM spy_push_notification)"
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
