# Ids come from Spryker's sequences, named after the primary-key column
# (id_push_notification_pk_seq, ...), shared by every writer.  Rows are
# inserted in turn through those sequences with psql (as Propel does) and
# through the module's endpoints (providers, subscriptions, notifications
# and the delivery log rows their sending writes), on
#   (a) a schema the module created,
#   (b) a schema made with Spryker's DDL, holding rows,
#   (c) a schema of version 2 (sequences named after the table), holding
#       rows, upgraded when nginx starts,
#   (d) Spryker's schema on which version 2 ran too (both sets of
#       sequences, a column default on an old one), upgraded likewise.
# Every row must be there, no insert may fail on a duplicate key, new ids
# must continue above every id and sequence value seen before, and the old
# sequences must be gone.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;

defaults(
    config => <<'EOC',
location /api/push-notification-providers { webpush_providers; }
location /api/push-notification-subscriptions { webpush_subscriptions; }
location /api/push-notifications { webpush_notifications; }
EOC
);

# The DDL Spryker's Propel generates for PostgreSQL (spy_locale.schema.xml,
# spy_push_notification.schema.xml): sequences from <id-method-parameter>
# (spy_locale's is spy_locale_pk_seq, the push notification tables' are
# named after their key column), no column defaults.
sub spryker_ddl {
    return <<'SQL';
CREATE SEQUENCE "spy_locale_pk_seq";
CREATE TABLE "spy_locale" ("id_locale" INTEGER NOT NULL,
    "locale_name" VARCHAR(5) NOT NULL, "is_active" BOOLEAN DEFAULT 't' NOT NULL,
    PRIMARY KEY ("id_locale"),
    CONSTRAINT "spy_locale-unique-locale_name" UNIQUE ("locale_name"));
CREATE INDEX "spy_locale-index-locale_name" ON "spy_locale" ("locale_name");
CREATE SEQUENCE "id_push_notification_provider_pk_seq";
CREATE TABLE "spy_push_notification_provider" (
    "id_push_notification_provider" INTEGER NOT NULL, "uuid" VARCHAR(36),
    "name" VARCHAR(255) NOT NULL, "created_at" TIMESTAMP, "updated_at" TIMESTAMP,
    PRIMARY KEY ("id_push_notification_provider"),
    CONSTRAINT "spy_push_notification_provider-name" UNIQUE ("name"));
CREATE SEQUENCE "id_push_notification_group_pk_seq";
CREATE TABLE "spy_push_notification_group" (
    "id_push_notification_group" INTEGER NOT NULL, "uuid" VARCHAR(36),
    "name" VARCHAR(255) NOT NULL, "identifier" VARCHAR(255),
    "created_at" TIMESTAMP, "updated_at" TIMESTAMP,
    PRIMARY KEY ("id_push_notification_group"),
    CONSTRAINT "spy_push_notification_group-name-identifier"
        UNIQUE ("name", "identifier"));
CREATE SEQUENCE "id_push_notification_pk_seq";
CREATE TABLE "spy_push_notification" (
    "id_push_notification" INTEGER NOT NULL, "uuid" VARCHAR(36),
    "fk_push_notification_group" INTEGER NOT NULL,
    "fk_push_notification_provider" INTEGER NOT NULL, "payload" TEXT,
    "created_at" TIMESTAMP, "updated_at" TIMESTAMP,
    PRIMARY KEY ("id_push_notification"));
CREATE INDEX "spy_push_notification-fk_push_notification_group"
    ON "spy_push_notification" ("fk_push_notification_group");
CREATE INDEX "spy_push_notification-fk_push_notification_provider"
    ON "spy_push_notification" ("fk_push_notification_provider");
CREATE SEQUENCE "id_push_notification_subscription_pk_seq";
CREATE TABLE "spy_push_notification_subscription" (
    "id_push_notification_subscription" INTEGER NOT NULL, "uuid" VARCHAR(36),
    "fk_push_notification_group" INTEGER NOT NULL,
    "fk_push_notification_provider" INTEGER NOT NULL, "fk_locale" INTEGER,
    "payload" TEXT, "payload_checksum" VARCHAR(255),
    "expired_at" TIMESTAMP NOT NULL, "created_at" TIMESTAMP,
    "updated_at" TIMESTAMP, PRIMARY KEY ("id_push_notification_subscription"));
CREATE INDEX "spy_push_notification_sub-fk_push_notification_group"
    ON "spy_push_notification_subscription" ("fk_push_notification_group");
CREATE INDEX "spy_push_notification_sub-fk_push_notification_provider"
    ON "spy_push_notification_subscription" ("fk_push_notification_provider");
CREATE SEQUENCE "id_push_notification_subscription_delivery_log_pk_seq";
CREATE TABLE "spy_push_notification_subscription_delivery_log" (
    "id_push_notification_subscription_delivery_log" INTEGER NOT NULL,
    "fk_push_notification" INTEGER NOT NULL,
    "fk_push_notification_subscription" INTEGER NOT NULL,
    "created_at" TIMESTAMP, "updated_at" TIMESTAMP,
    PRIMARY KEY ("id_push_notification_subscription_delivery_log"),
    CONSTRAINT "spy_push_not_subscr_del_log-fk_push_not-fk_push_not_subscr"
        UNIQUE ("fk_push_notification", "fk_push_notification_subscription"));
CREATE INDEX "spy_push_not_sub_delivery_log-fk_push_notification"
    ON "spy_push_notification_subscription_delivery_log"
        ("fk_push_notification");
CREATE INDEX "spy_push_not_sub_delivery_log_delivery_log-fk_push_not_sub"
    ON "spy_push_notification_subscription_delivery_log"
        ("fk_push_notification_subscription");
ALTER TABLE "spy_push_notification" ADD CONSTRAINT
    "spy_push_notification-fk_push_notification_group"
    FOREIGN KEY ("fk_push_notification_group")
    REFERENCES "spy_push_notification_group" ("id_push_notification_group");
ALTER TABLE "spy_push_notification" ADD CONSTRAINT
    "spy_push_notification-fk_push_notification_provider"
    FOREIGN KEY ("fk_push_notification_provider")
    REFERENCES "spy_push_notification_provider"
        ("id_push_notification_provider");
ALTER TABLE "spy_push_notification_subscription" ADD CONSTRAINT
    "spy_push_notification_sub-fk_push_notification_group"
    FOREIGN KEY ("fk_push_notification_group")
    REFERENCES "spy_push_notification_group" ("id_push_notification_group");
ALTER TABLE "spy_push_notification_subscription" ADD CONSTRAINT
    "spy_push_notification_sub-fk_push_notification_provider"
    FOREIGN KEY ("fk_push_notification_provider")
    REFERENCES "spy_push_notification_provider"
        ("id_push_notification_provider");
ALTER TABLE "spy_push_notification_subscription" ADD CONSTRAINT
    "spy_push_notification_sub-fk_locale"
    FOREIGN KEY ("fk_locale") REFERENCES "spy_locale" ("id_locale");
ALTER TABLE "spy_push_notification_subscription_delivery_log" ADD CONSTRAINT
    "spy_push_notification_subscription_delivery_log-fk_push_not"
    FOREIGN KEY ("fk_push_notification")
    REFERENCES "spy_push_notification" ("id_push_notification");
ALTER TABLE "spy_push_notification_subscription_delivery_log" ADD CONSTRAINT
    "spy_push_notification_subscription_delivery_log-fk_push_not_sub"
    FOREIGN KEY ("fk_push_notification_subscription")
    REFERENCES "spy_push_notification_subscription"
        ("id_push_notification_subscription");
INSERT INTO "spy_locale" VALUES (nextval('spy_locale_pk_seq'), 'de_DE', 't');
SQL
}

# bash: a new database DB, then the SQL on stdin of the command run in it
sub new_db {
    my ($db) = @_;
    return <<"SH";
PGOPTIONS=--client-min-messages=warning \\
\$TEST_TOP/t/bin/pgcluster psql \$TEST_PG_DIR -d postgres \\
    -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
SH
}

sub psql_in {
    my ($db, $sql) = @_;
    return "\$TEST_TOP/t/bin/pgcluster psql \$TEST_PG_DIR -d $db >/dev/null"
           . " <<'SQL'\n$sql\nSQL\n";
}

# bash: rows inserted in turn by psql through Spryker's sequences and by
# the module (HTTP), in the database of CONNINFO.  Every statement and
# request leaves a line in $TEST_NGINX_SERVROOT/TAG.out: "sql ok", "sql
# failed" or the HTTP status.  Subscriptions and notifications of group
# "all" are made first, then the delivery log: a notification of group
# "archive" (no subscriptions) gets a row per subscription from psql while
# the module sends the notifications of "all" and writes its own rows.
sub interleave {
    my ($conninfo, $tag) = @_;
    return <<"SH" . <<'SH';
db="$conninfo"
out=\$TEST_NGINX_SERVROOT/$tag.out
SH
: > $out
q() {
    if $TEST_TOP/t/bin/pgcluster psql $TEST_PG_DIR -d "$db" -At -c "$1" \
        >/dev/null 2>>$out.err
    then
        echo "sql ok" >> $out
    else
        echo "sql failed" >> $out
    fi
}
post() {
    curl -s -o /dev/null -w '%{http_code}\n' -X POST \
        -H 'Content-Type: application/vnd.api+json' --data "$2" \
        http://127.0.0.1:$TEST_NGINX_PORT/api/$1 >> $out
}
keys='"keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}'
payload() {
    echo "{\"endpoint\":\"http://127.0.0.1:$TEST_PORT_A/push/$1\",$keys}"
}
subscribe() {
    post push-notification-subscriptions "{\"data\":{\"type\":\"push-notification-subscriptions\",\"attributes\":{\"providerName\":\"web-push-php\",\"group\":$1,\"payload\":$(payload $2)}}}"
}
notify_http() {
    post push-notifications "{\"data\":{\"type\":\"push-notifications\",\"attributes\":{\"providerName\":\"web-push-php\",\"group\":{\"name\":\"all\"},\"payload\":{\"n\":\"$1\"}}}}"
}
notify_sql() {
    q "INSERT INTO spy_push_notification
       SELECT nextval('id_push_notification_pk_seq'), gen_random_uuid(),
              g.id_push_notification_group, p.id_push_notification_provider,
              '{\"n\":\"$2\"}', now(), now()
       FROM spy_push_notification_group g, spy_push_notification_provider p
       WHERE g.name = '$1' AND g.identifier IS NULL
         AND p.name = 'web-push-php'"
}

q "INSERT INTO spy_push_notification_provider
   VALUES (nextval('id_push_notification_provider_pk_seq'), gen_random_uuid(),
           'web-push-php', now(), now())
   ON CONFLICT (name) DO NOTHING"
q "INSERT INTO spy_push_notification_group
   SELECT nextval('id_push_notification_group_pk_seq'), gen_random_uuid(),
          n, NULL, now(), now() FROM unnest(ARRAY['all', 'archive']) n"

for i in 1 2 3; do
    q "INSERT INTO spy_push_notification_provider
       VALUES (nextval('id_push_notification_provider_pk_seq'),
               gen_random_uuid(), 'sql-p-$i', now(), now())"
    post push-notification-providers \
        "{\"data\":{\"type\":\"push-notification-providers\",\"attributes\":{\"name\":\"http-p-$i\"}}}"
    q "INSERT INTO spy_push_notification_group
       VALUES (nextval('id_push_notification_group_pk_seq'),
               gen_random_uuid(), 'sql-g', '$i', now(), now())"
    subscribe "{\"name\":\"http-g\",\"identifier\":\"$i\"}" h-g-$i
    q "INSERT INTO spy_push_notification_subscription
       SELECT nextval('id_push_notification_subscription_pk_seq'),
              gen_random_uuid(), g.id_push_notification_group,
              p.id_push_notification_provider, NULL, '$(payload s-$i)',
              md5('$(payload s-$i)'), now() + interval '1 day', now(), now()
       FROM spy_push_notification_group g, spy_push_notification_provider p
       WHERE g.name = 'all' AND p.name = 'web-push-php'"
    subscribe '{"name":"all"}' h-$i
done

notify_sql archive archived
subscriptions=$($TEST_TOP/t/bin/pgcluster psql $TEST_PG_DIR -d "$db" -At -c \
    "SELECT id_push_notification_subscription
     FROM spy_push_notification_subscription
     WHERE payload ~ 'push.?/(s|h|h-g)-[0-9]\"' ORDER BY 1")
n=0
for s in $subscriptions; do
    q "INSERT INTO spy_push_notification_subscription_delivery_log
       SELECT nextval('id_push_notification_subscription_delivery_log_pk_seq'),
              n.id_push_notification, $s, now(), now()
       FROM spy_push_notification n
       JOIN spy_push_notification_group g
           ON g.id_push_notification_group = n.fk_push_notification_group
       WHERE g.name = 'archive'"
    n=$((n + 1))
    case $n in
    1) notify_http h-1 ;;
    3) notify_sql all s-1 ;;
    5) notify_http h-2 ;;
    7) notify_sql all s-2 ;;
    esac
done
SH
}

# the rows and the sequences, one "name|value" line each
our $counts = <<'SQL';
SELECT 'providers|' || count(*) FROM spy_push_notification_provider;
SELECT 'groups|' || count(*) FROM spy_push_notification_group;
SELECT 'subscriptions|' || count(*) FROM spy_push_notification_subscription;
SELECT 'notifications|' || count(*) FROM spy_push_notification;
SELECT 'delivery log|' || count(*)
    FROM spy_push_notification_subscription_delivery_log;
SELECT 'sent|' || count(*) FROM webpush_delivery WHERE state = 'sent';
SELECT 'not sent|' || count(*) FROM webpush_delivery WHERE state <> 'sent';
SELECT 'sequences|' || string_agg(relname, ',' ORDER BY relname)
    FROM pg_class WHERE relkind = 'S' AND relname LIKE '%push_notification%';
SQL

# the ids given to the interleaved rows, in order
our $ids = <<'SQL';
SELECT string_agg(id_push_notification_provider || ':' || name, ','
                  ORDER BY id_push_notification_provider)
    FROM spy_push_notification_provider WHERE name ~ '^(sql|http)-p-';
SELECT string_agg(id_push_notification_subscription
                  || ':' || substring(payload from 'push.?/([a-z0-9-]+)'), ','
                  ORDER BY id_push_notification_subscription)
    FROM spy_push_notification_subscription
    WHERE payload ~ 'push.?/(s|h|h-g)-[0-9]"';
SELECT string_agg(id_push_notification_group || ':' || name || '/'
                  || coalesce(identifier, ''), ','
                  ORDER BY id_push_notification_group)
    FROM spy_push_notification_group
    WHERE name IN ('all', 'archive', 'sql-g', 'http-g');
SQL

# the id each sequence gives next, one "name|value" line each
our $next_ids = join '', map {
    "SELECT 'next $_->[0]|' || CASE WHEN is_called THEN last_value + 1"
    . " ELSE last_value END FROM id_push_notification$_->[1]_pk_seq;\n"
} (['provider', '_provider'], ['group', '_group'], ['notification', ''],
   ['subscription', '_subscription'],
   ['log', '_subscription_delivery_log']);

our $report = <<'SH';
sort $TEST_NGINX_SERVROOT/TAG.out | uniq -c | sed 's/^ *//'
cat $TEST_NGINX_SERVROOT/TAG.out.err
SH

sub report {
    my ($tag) = @_;
    (my $r = $report) =~ s/TAG/$tag/g;
    return $r;
}

run_tests();

__DATA__

=== TEST 1: (a) a schema the module creates has Spryker's sequence names
--- shell
$TEST_TOP/bench/fanout/mock-push start $TEST_NGINX_SERVROOT/mock $TEST_PORT_A \
    > $TEST_NGINX_SERVROOT/pids/mock.pid
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_push_hosts http://127.0.0.1:$TEST_PORT_A;
--- request
GET /api/push-notification-providers
--- error_code: 200
--- sql
SELECT string_agg(relname, ',' ORDER BY relname)
    FROM pg_class WHERE relkind = 'S' AND relname LIKE '%push_notification%';
SELECT max(version) FROM webpush_schema_version;
SELECT count(*) FROM pg_attrdef d
    JOIN pg_class c ON c.oid = d.adrelid WHERE c.relname LIKE 'spy_push%';
--- sql_result
id_push_notification_group_pk_seq,id_push_notification_pk_seq,id_push_notification_provider_pk_seq,id_push_notification_subscription_delivery_log_pk_seq,id_push_notification_subscription_pk_seq
8
0

=== TEST 2: (a) psql and the module insert in turn, every row is kept
--- shell eval
main::interleave('$TEST_PG_CONNINFO', 'a')
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_push_hosts http://127.0.0.1:$TEST_PORT_A;
--- eventually: 30
--- sql eval
$main::counts . $main::ids
--- sql_result
providers|7
groups|8
subscriptions|9
notifications|5
delivery log|33
sent|24
not sent|0
sequences|id_push_notification_group_pk_seq,id_push_notification_pk_seq,id_push_notification_provider_pk_seq,id_push_notification_subscription_delivery_log_pk_seq,id_push_notification_subscription_pk_seq
2:sql-p-1,3:http-p-1,4:sql-p-2,5:http-p-2,6:sql-p-3,7:http-p-3
1:h-g-1,2:s-1,3:h-1,4:h-g-2,5:s-2,6:h-2,7:h-g-3,8:s-3,9:h-3
1:all/,2:archive/,3:sql-g/1,4:http-g/1,5:sql-g/2,6:http-g/2,7:sql-g/3,8:http-g/3
--- check eval
main::report('a')
--- check_result
11 201
23 sql ok
--- no_error_log
duplicate key
failed

=== TEST 3: (b) Spryker's schema with rows: its sequences are used, not lowered
--- shell eval
main::new_db('t014_spryker') . main::psql_in('t014_spryker',
    main::spryker_ddl() . <<'SQL')
-- Spryker's rows, through its sequences; some were deleted since
SELECT nextval('id_push_notification_provider_pk_seq')
    FROM generate_series(1, 4);
INSERT INTO spy_push_notification_provider VALUES
    (nextval('id_push_notification_provider_pk_seq'), gen_random_uuid(),
     'web-push-php', now(), now());
INSERT INTO spy_push_notification_group VALUES
    (nextval('id_push_notification_group_pk_seq'), gen_random_uuid(),
     'warehouse', 'w-1', now(), now());
INSERT INTO spy_push_notification_subscription VALUES
    (nextval('id_push_notification_subscription_pk_seq'), gen_random_uuid(),
     1, 5, 1, '{"endpoint":"http://127.0.0.1:1/push/pre-1"}', 'x',
     now() + interval '1 day', now(), now()),
    (nextval('id_push_notification_subscription_pk_seq'), gen_random_uuid(),
     1, 5, 1, '{"endpoint":"http://127.0.0.1:1/push/pre-2"}', 'y',
     now() + interval '1 day', now(), now());
INSERT INTO spy_push_notification VALUES
    (nextval('id_push_notification_pk_seq'), gen_random_uuid(), 1, 5,
     '{"action":"create"}', now(), now());
INSERT INTO spy_push_notification_subscription_delivery_log VALUES
    (nextval('id_push_notification_subscription_delivery_log_pk_seq'),
     1, 1, now(), now()),
    (nextval('id_push_notification_subscription_delivery_log_pk_seq'),
     1, 2, now(), now());
SELECT setval('id_push_notification_subscription_pk_seq', 100);
SQL
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "host=$TEST_PG_DIR port=5432 user=postgres dbname=t014_spryker";
webpush_push_hosts http://127.0.0.1:$TEST_PORT_A;
--- request
GET /api/push-notification-providers
--- error_code: 200
--- response_body_like
"name":"web-push-php"
--- sql_db: t014_spryker
--- sql eval
"SELECT max(version) FROM webpush_schema_version;\n" . $main::next_ids
. "SELECT count(*) FROM pg_class WHERE relkind = 'S'"
. " AND relname LIKE 'spy_push_notification%';"
--- sql_result
8
next provider|6
next group|2
next notification|2
next subscription|101
next log|3
0

=== TEST 4: (b) psql and the module insert in turn on Spryker's schema
--- shell eval
main::interleave('host=$TEST_PG_DIR port=5432 user=postgres dbname=t014_spryker',
                 'b')
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "host=$TEST_PG_DIR port=5432 user=postgres dbname=t014_spryker";
webpush_push_hosts http://127.0.0.1:$TEST_PORT_A;
--- eventually: 30
--- sql_db: t014_spryker
--- sql eval
$main::counts . $main::ids
--- sql_result
providers|7
groups|9
subscriptions|11
notifications|6
delivery log|35
sent|24
not sent|0
sequences|id_push_notification_group_pk_seq,id_push_notification_pk_seq,id_push_notification_provider_pk_seq,id_push_notification_subscription_delivery_log_pk_seq,id_push_notification_subscription_pk_seq
7:sql-p-1,8:http-p-1,9:sql-p-2,10:http-p-2,11:sql-p-3,12:http-p-3
101:h-g-1,102:s-1,103:h-1,104:h-g-2,105:s-2,106:h-2,107:h-g-3,108:s-3,109:h-3
2:all/,3:archive/,4:sql-g/1,5:http-g/1,6:sql-g/2,7:http-g/2,8:sql-g/3,9:http-g/3
--- check eval
main::report('b')
--- check_result
11 201
23 sql ok
--- no_error_log
duplicate key
failed

=== TEST 5: (c) a version 2 schema with rows is upgraded at start
--- shell eval
main::new_db('t014_old')
. "PGOPTIONS=--client-min-messages=warning"
. " \$TEST_TOP/t/bin/pgcluster psql \$TEST_PG_DIR -d t014_old >/dev/null"
. " -f \$TEST_TOP/t/data/schema-v2.sql\n"
. main::psql_in('t014_old', <<'SQL')
-- rows the old module and others wrote through the old sequences:
-- providers 1-10, of which 6-10 deleted (the sequence is ahead of the
-- ids); subscriptions 1-2 and one with an explicit id, 50 (the ids are
-- ahead of the sequence); delivery log rows, the sequence moved on to 20
INSERT INTO spy_push_notification_provider
    SELECT nextval('spy_push_notification_provider_pk_seq'),
           gen_random_uuid(), CASE i WHEN 1 THEN 'web-push-php'
                                     ELSE 'old-p-' || i END, now(), now()
    FROM generate_series(1, 10) i;
DELETE FROM spy_push_notification_provider
    WHERE id_push_notification_provider > 5;
INSERT INTO spy_push_notification_group
    SELECT nextval('spy_push_notification_group_pk_seq'), gen_random_uuid(),
           n, NULL, now(), now() FROM unnest(ARRAY['old', 'old-archive']) n;
INSERT INTO spy_push_notification_subscription
    SELECT CASE WHEN i < 3
                THEN nextval('spy_push_notification_subscription_pk_seq')
                ELSE 50 END,
           gen_random_uuid(), 1, 1, NULL,
           '{"endpoint":"http://127.0.0.1:$TEST_PORT_A/push/old-' || i
           || '","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}',
           md5('old' || i), now() + interval '1 day', now(), now()
    FROM generate_series(1, 3) i;
-- the pending one (group "old") is sent after the upgrade, its delivery
-- log rows taking ids above the old sequence; the other was sent
INSERT INTO spy_push_notification
    SELECT nextval('spy_push_notification_pk_seq'), gen_random_uuid(), g, 1,
           '{"n":"old"}', now(), now()
    FROM generate_series(1, 2) g;
INSERT INTO spy_push_notification_subscription_delivery_log
    SELECT nextval('spy_push_notification_subscription_delivery_log_pk_seq'),
           2, id_push_notification_subscription, now(), now()
    FROM spy_push_notification_subscription;
SELECT setval('spy_push_notification_subscription_delivery_log_pk_seq', 20);
SQL
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "host=$TEST_PG_DIR port=5432 user=postgres dbname=t014_old";
webpush_push_hosts http://127.0.0.1:$TEST_PORT_A;
--- request
GET /api/push-notification-providers?sort=name
--- error_code: 200
--- response_body_like
"old-p-5".*"web-push-php"
--- sql_db: t014_old
--- eventually: 30
--- sql eval
<<'SQL' . $main::next_ids . <<'SQL'
SELECT string_agg(version::text, ',' ORDER BY version)
    FROM webpush_schema_version;
SELECT count(*) FROM pg_class
    WHERE relkind = 'S' AND relname LIKE 'spy_push_notification%';
SQL
SELECT 'providers|' || count(*) FROM spy_push_notification_provider;
SELECT 'subscriptions|' || count(*) FROM spy_push_notification_subscription;
SELECT 'notifications|' || count(*) FROM spy_push_notification;
SELECT 'delivery log|' || string_agg(
        id_push_notification_subscription_delivery_log::text, ','
        ORDER BY id_push_notification_subscription_delivery_log)
    FROM spy_push_notification_subscription_delivery_log;
SQL
--- sql_result
1,2,3,4,5,6,7,8
0
next provider|11
next group|3
next notification|3
next subscription|51
next log|24
providers|5
subscriptions|3
notifications|2
delivery log|1,2,3,21,22,23

=== TEST 6: (c) psql and the module insert in turn on the upgraded schema
--- shell eval
main::interleave('host=$TEST_PG_DIR port=5432 user=postgres dbname=t014_old',
                 'c')
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "host=$TEST_PG_DIR port=5432 user=postgres dbname=t014_old";
webpush_push_hosts http://127.0.0.1:$TEST_PORT_A;
--- eventually: 30
--- sql_db: t014_old
--- sql eval
$main::counts . $main::ids . <<'SQL'
SELECT min(id_push_notification_subscription_delivery_log)
    FROM spy_push_notification_subscription_delivery_log
    WHERE id_push_notification_subscription_delivery_log > 3;
SQL
--- sql_result
providers|11
groups|10
subscriptions|12
notifications|7
delivery log|39
sent|27
not sent|0
sequences|id_push_notification_group_pk_seq,id_push_notification_pk_seq,id_push_notification_provider_pk_seq,id_push_notification_subscription_delivery_log_pk_seq,id_push_notification_subscription_pk_seq
12:sql-p-1,13:http-p-1,14:sql-p-2,15:http-p-2,16:sql-p-3,17:http-p-3
51:h-g-1,52:s-1,53:h-1,54:h-g-2,55:s-2,56:h-2,57:h-g-3,58:s-3,59:h-3
3:all/,4:archive/,5:sql-g/1,6:http-g/1,7:sql-g/2,8:http-g/2,9:sql-g/3,10:http-g/3
21
--- check eval
main::report('c')
--- check_result
11 201
23 sql ok
--- no_error_log
duplicate key
failed

=== TEST 7: (d) Spryker's schema on which version 2 ran: both sequences
--- shell eval
main::new_db('t014_both') . main::psql_in('t014_both',
    main::spryker_ddl() . <<'SQL')
-- Spryker's rows through its sequences
INSERT INTO spy_push_notification_provider
    SELECT nextval('id_push_notification_provider_pk_seq'), gen_random_uuid(),
           CASE i WHEN 1 THEN 'web-push-php' ELSE 'spryker-p-' || i END,
           now(), now()
    FROM generate_series(1, 3) i;
INSERT INTO spy_push_notification_group VALUES
    (nextval('id_push_notification_group_pk_seq'), gen_random_uuid(),
     'warehouse', 'w-1', now(), now());
SELECT setval('id_push_notification_subscription_pk_seq', 100);
SELECT setval('id_push_notification_pk_seq', 4);
SQL
. "PGOPTIONS=--client-min-messages=warning"
. " \$TEST_TOP/t/bin/pgcluster psql \$TEST_PG_DIR -d t014_both >/dev/null"
. " -f \$TEST_TOP/t/data/schema-v2.sql\n"
. main::psql_in('t014_both', <<'SQL')
-- then the old module: its own sequences, rows through them (after
-- inserts that failed on Spryker's ids and used values up), and someone
-- put one of them in a column default
SELECT setval('spy_push_notification_provider_pk_seq', 7);
INSERT INTO spy_push_notification_provider VALUES
    (nextval('spy_push_notification_provider_pk_seq'), gen_random_uuid(),
     'old-p-8', now(), now());
SELECT setval('spy_push_notification_subscription_pk_seq', 10);
SELECT setval('spy_push_notification_pk_seq', 30);
ALTER TABLE spy_push_notification ALTER COLUMN id_push_notification
    SET DEFAULT nextval('spy_push_notification_pk_seq'::regclass);
SQL
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "host=$TEST_PG_DIR port=5432 user=postgres dbname=t014_both";
webpush_push_hosts http://127.0.0.1:$TEST_PORT_A;
--- request
GET /api/push-notification-providers
--- error_code: 200
--- sql_db: t014_both
--- sql eval
<<'SQL' . $main::next_ids . <<'SQL'
SELECT count(*) FROM pg_class
    WHERE relkind = 'S' AND relname LIKE 'spy_push_notification%';
SQL
SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d
    JOIN pg_class c ON c.oid = d.adrelid WHERE c.relname LIKE 'spy_push%';
SQL
--- sql_result
0
next provider|9
next group|2
next notification|31
next subscription|101
next log|1
nextval('id_push_notification_pk_seq'::regclass)

=== TEST 8: (d) psql, the moved default and the module insert in turn
--- shell eval
main::interleave('host=$TEST_PG_DIR port=5432 user=postgres dbname=t014_both',
                 'd')
. <<'SH'
$TEST_TOP/t/bin/pgcluster psql $TEST_PG_DIR -d t014_both -c \
    "INSERT INTO spy_push_notification (uuid, fk_push_notification_group,
         fk_push_notification_provider, payload, created_at, updated_at)
     SELECT gen_random_uuid(), id_push_notification_group, 1, '{}', now(),
            now()
     FROM spy_push_notification_group WHERE name = 'warehouse'" >/dev/null
SH
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "host=$TEST_PG_DIR port=5432 user=postgres dbname=t014_both";
webpush_push_hosts http://127.0.0.1:$TEST_PORT_A;
--- eventually: 30
--- sql_db: t014_both
--- sql eval
$main::counts . $main::ids . <<'SQL'
SELECT string_agg(id_push_notification::text, ','
                  ORDER BY id_push_notification) FROM spy_push_notification;
SQL
--- sql_result
providers|10
groups|9
subscriptions|9
notifications|6
delivery log|33
sent|24
not sent|0
sequences|id_push_notification_group_pk_seq,id_push_notification_pk_seq,id_push_notification_provider_pk_seq,id_push_notification_subscription_delivery_log_pk_seq,id_push_notification_subscription_pk_seq
10:sql-p-1,11:http-p-1,12:sql-p-2,13:http-p-2,14:sql-p-3,15:http-p-3
101:h-g-1,102:s-1,103:h-1,104:h-g-2,105:s-2,106:h-2,107:h-g-3,108:s-3,109:h-3
2:all/,3:archive/,4:sql-g/1,5:http-g/1,6:sql-g/2,7:http-g/2,8:sql-g/3,9:http-g/3
31,32,33,34,35,36
--- check eval
main::report('d')
--- check_result
11 201
23 sql ok
--- no_error_log
duplicate key
failed
