# A database where Spryker already created its tables (shaped like its
# Propel schema for PostgreSQL: sequences named by <id-method-parameter>,
# after the key column for the push notification tables
# (id_push_notification_pk_seq) and spy_locale_pk_seq for spy_locale,
# without column defaults; quoted constraint names) works as it is: the
# module adds only its own webpush_ objects, uses the reference's
# sequences (no sequence of its own) and checks localeName against
# spy_locale (5009).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;

run_tests();

__DATA__

=== TEST 1: subscribe against Spryker's tables
--- shell
$TEST_TOP/t/bin/pgcluster psql $TEST_PG_DIR -d postgres -c "CREATE DATABASE spryker"
$TEST_TOP/t/bin/pgcluster psql $TEST_PG_DIR -d spryker >/dev/null <<'SQL'
CREATE SEQUENCE "spy_locale_pk_seq";
CREATE TABLE "spy_locale" ("id_locale" INTEGER NOT NULL, "locale_name" VARCHAR(5) NOT NULL,
    "is_active" BOOLEAN DEFAULT 't' NOT NULL, PRIMARY KEY ("id_locale"),
    CONSTRAINT "spy_locale-unique-locale_name" UNIQUE ("locale_name"));
INSERT INTO "spy_locale" VALUES (46, 'de_DE', 't'), (66, 'en_US', 't');
CREATE SEQUENCE "id_push_notification_provider_pk_seq";
CREATE TABLE "spy_push_notification_provider" ("id_push_notification_provider" INTEGER NOT NULL,
    "uuid" VARCHAR(36), "name" VARCHAR(255) NOT NULL, "created_at" TIMESTAMP, "updated_at" TIMESTAMP,
    PRIMARY KEY ("id_push_notification_provider"),
    CONSTRAINT "spy_push_notification_provider-name" UNIQUE ("name"));
CREATE SEQUENCE "id_push_notification_group_pk_seq";
CREATE TABLE "spy_push_notification_group" ("id_push_notification_group" INTEGER NOT NULL,
    "uuid" VARCHAR(36), "name" VARCHAR(255) NOT NULL, "identifier" VARCHAR(255),
    "created_at" TIMESTAMP, "updated_at" TIMESTAMP, PRIMARY KEY ("id_push_notification_group"),
    CONSTRAINT "spy_push_notification_group-name-identifier" UNIQUE ("name","identifier"));
CREATE SEQUENCE "id_push_notification_pk_seq";
CREATE TABLE "spy_push_notification" ("id_push_notification" INTEGER NOT NULL, "uuid" VARCHAR(36),
    "fk_push_notification_group" INTEGER NOT NULL, "fk_push_notification_provider" INTEGER NOT NULL,
    "payload" TEXT, "created_at" TIMESTAMP, "updated_at" TIMESTAMP, PRIMARY KEY ("id_push_notification"));
CREATE INDEX "spy_push_notification-fk_push_notification_group" ON "spy_push_notification" ("fk_push_notification_group");
CREATE SEQUENCE "id_push_notification_subscription_pk_seq";
CREATE TABLE "spy_push_notification_subscription" ("id_push_notification_subscription" INTEGER NOT NULL,
    "uuid" VARCHAR(36), "fk_push_notification_group" INTEGER NOT NULL,
    "fk_push_notification_provider" INTEGER NOT NULL, "fk_locale" INTEGER, "payload" TEXT,
    "payload_checksum" VARCHAR(255), "expired_at" TIMESTAMP NOT NULL, "created_at" TIMESTAMP,
    "updated_at" TIMESTAMP, PRIMARY KEY ("id_push_notification_subscription"));
ALTER TABLE "spy_push_notification_subscription" ADD CONSTRAINT "spy_push_notification_sub-fk_locale"
    FOREIGN KEY ("fk_locale") REFERENCES "spy_locale" ("id_locale");
ALTER TABLE "spy_push_notification_subscription" ADD CONSTRAINT "spy_push_notification_sub-fk_push_notification_provider"
    FOREIGN KEY ("fk_push_notification_provider") REFERENCES "spy_push_notification_provider" ("id_push_notification_provider");
CREATE SEQUENCE "id_push_notification_subscription_delivery_log_pk_seq";
CREATE TABLE "spy_push_notification_subscription_delivery_log" ("id_push_notification_subscription_delivery_log" INTEGER NOT NULL,
    "fk_push_notification" INTEGER NOT NULL, "fk_push_notification_subscription" INTEGER NOT NULL,
    "created_at" TIMESTAMP, "updated_at" TIMESTAMP, PRIMARY KEY ("id_push_notification_subscription_delivery_log"),
    CONSTRAINT "spy_push_not_subscr_del_log-fk_push_not-fk_push_not_subscr" UNIQUE ("fk_push_notification","fk_push_notification_subscription"));
SELECT setval('id_push_notification_provider_pk_seq', 40);
INSERT INTO "spy_push_notification_provider" VALUES (40, '2a304ddf-d51b-514f-bd11-6e818a27fe23', 'web-push-php', now(), now());
SQL
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "host=$TEST_PG_DIR port=5432 user=postgres dbname=spryker";
--- config
location /push-notification-providers { webpush_providers; }
location /push-notification-subscriptions { webpush_subscriptions; }
--- request
POST /push-notification-subscriptions
{"data":{"type":"push-notification-subscriptions","attributes":{"providerName":"web-push-php","group":{"name":"warehouse","identifier":"w-1"},"localeName":"de_DE","payload":{"endpoint":"https://fcm.googleapis.com/fcm/send/s1","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}}}}
--- error_code: 201
--- sql
SELECT s.fk_locale, s.fk_push_notification_provider, g.name, g.identifier
FROM spy_push_notification_subscription s
JOIN spy_push_notification_group g ON g.id_push_notification_group = s.fk_push_notification_group
--- sql_db: spryker
--- sql_result
46|40|warehouse|w-1

=== TEST 2: a locale Spryker does not know is 5009
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "host=$TEST_PG_DIR port=5432 user=postgres dbname=spryker";
--- config
location /push-notification-providers { webpush_providers; }
location /push-notification-subscriptions { webpush_subscriptions; }
--- request
POST /push-notification-subscriptions
{"data":{"type":"push-notification-subscriptions","attributes":{"providerName":"web-push-php","group":{"name":"warehouse","identifier":"w-1"},"localeName":"fr_FR","payload":{"endpoint":"https://fcm.googleapis.com/fcm/send/s2","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}}}}
--- error_code: 400
--- response_json
{"errors":[{"code":"5009","status":400,"message":"Provided locale not found."}]}

=== TEST 3: the reference's provider is listed; a new one continues its sequence
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "host=$TEST_PG_DIR port=5432 user=postgres dbname=spryker";
--- config
location /push-notification-providers { webpush_providers; }
location /push-notification-subscriptions { webpush_subscriptions; }
--- request
POST /push-notification-providers
{"data":{"type":"push-notification-providers","attributes":{"name":"second"}}}
--- error_code: 201
--- sql
SELECT string_agg(id_push_notification_provider || ':' || name, ',' ORDER BY 1) FROM spy_push_notification_provider;
SELECT max(version) FROM webpush_schema_version;
SELECT count(*) FROM pg_constraint WHERE conrelid = 'spy_push_notification_provider'::regclass;
SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class WHERE relkind = 'S' AND relname NOT LIKE 'webpush%';
--- sql_db: spryker
--- sql_result
40:web-push-php,41:second
8
2
id_push_notification_group_pk_seq,id_push_notification_pk_seq,id_push_notification_provider_pk_seq,id_push_notification_subscription_delivery_log_pk_seq,id_push_notification_subscription_pk_seq,spy_locale_pk_seq
