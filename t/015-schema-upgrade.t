# The schema at start-up (src/db/sql.cpp, schema_sql()): every worker's
# first connection reads the version recorded and runs the script only
# below this build's version, so that a start (a reload, a respawned
# worker, another node) takes no lock that traffic waits for:
#   - at this build's version nothing of the script runs again (an index
#     it makes, dropped here, stays dropped), and a session holding a
#     table lock (a long report) does not delay the start;
#   - a newer version recorded (a newer module ran): the same, nothing is
#     downgraded, the module serves;
#   - an older version: the script runs and records this one.
# Each start is a new nginx (--- nginx_env differs), 2 workers.
#
# Then an upgrade on data: a database of schema version 4 (the script as
# that version ran it: t/data/schema-v4.sql) holding what such a module
# leaves, at a mock push service (RFC 8291 Appendix A keys):
#   providers   web-push-php, other
#   groups      all/1 (subscriptions 1-8), archive/1 (subscription 9)
#   subscription 7 expired (its push service answered 410), 8 counted
#               once as unreachable (webpush_subscription_state)
#   notification 1  ttl 3600, urgency high, topic n1, fanned out:
#                   deliveries to 1, 2 sent (delivery log rows), 3 ready,
#                   4 ready for a retry, 5 and 6 sending with a lapsed
#                   lease (a worker died), 7 gone, 8 failed
#   notification 2  not fanned out yet
#   notification 3  fanned out up to subscription 4 (sent), the rest to do
# The current module starts on it: the schema reaches this version, no
# row is lost or changed (a snapshot taken before, compared after),
# what waited is sent (once each, attempts counted on), the counts of GET
# are right, and a new notification goes to every live subscription.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;

defaults(
    http_config => <<'EOC',
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
EOC
    config => <<'EOC',
location /push-notification-providers { webpush_providers; }
location /push-notifications { webpush_notifications; }
EOC
);

# the rows the upgrade must keep as they are, one "table row" line each:
# all of the reference's tables, webpush_notification's version-4
# columns (the fan-out's progress only where it was done), the
# deliveries that were over, the versions recorded
our $snapshot = <<'SQL';
SELECT 'provider ' || p::text AS r FROM spy_push_notification_provider p
UNION ALL SELECT 'group ' || g::text FROM spy_push_notification_group g
UNION ALL SELECT 'subscription ' || s::text
    FROM spy_push_notification_subscription s
UNION ALL SELECT 'notification ' || n::text FROM spy_push_notification n
UNION ALL SELECT 'webpush_notification '
        || ROW(w.fk_push_notification, w.ttl, w.urgency, w.topic,
               w.created_at)::text
    FROM webpush_notification w
UNION ALL SELECT 'fan-out done '
        || ROW(w.fk_push_notification, w.fanout_cursor, w.fanout_limit)::text
    FROM webpush_notification w WHERE w.fanout_done
UNION ALL SELECT 'delivery ' || d::text FROM webpush_delivery d
    WHERE d.state IN ('sent', 'failed', 'gone')
UNION ALL SELECT 'delivery log ' || l::text
    FROM spy_push_notification_subscription_delivery_log l
UNION ALL SELECT 'version ' || v::text FROM webpush_schema_version v
SQL

# what a version-4 module left (see the top); $TEST_PORT_A is the mock
our $v4_data = <<'SQL';
INSERT INTO spy_push_notification_provider VALUES
    (nextval('id_push_notification_provider_pk_seq'),
     'b0000000-0000-4000-8000-000000000001', 'web-push-php', now(), now()),
    (nextval('id_push_notification_provider_pk_seq'),
     'b0000000-0000-4000-8000-000000000002', 'other', now(), now());
INSERT INTO spy_push_notification_group VALUES
    (nextval('id_push_notification_group_pk_seq'),
     'c0000000-0000-4000-8000-000000000001', 'all', '1', now(), now()),
    (nextval('id_push_notification_group_pk_seq'),
     'c0000000-0000-4000-8000-000000000002', 'archive', '1', now(), now());
INSERT INTO spy_push_notification_subscription
SELECT nextval('id_push_notification_subscription_pk_seq'),
       'a0000000-0000-4000-8000-' || lpad(i::text, 12, '0'),
       CASE WHEN i = 9 THEN 2 ELSE 1 END, 1, NULL,
       '{"endpoint":"http://127.0.0.1:$TEST_PORT_A/push/'
       || CASE WHEN i = 7 THEN 'gone' ELSE 'ok' END || '/' || i
       || '","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}',
       md5(i::text),
       now() AT TIME ZONE 'UTC' + CASE WHEN i = 7 THEN interval '-1 hour'
                                       ELSE interval '7 days' END,
       now(), now()
FROM generate_series(1, 9) i;
-- the adopt trigger gives each its webpush_notification row
INSERT INTO spy_push_notification
SELECT nextval('id_push_notification_pk_seq'),
       'e0000000-0000-4000-8000-' || lpad(i::text, 12, '0'), 1, 1,
       '{"n":' || i || '}', now(), now()
FROM generate_series(1, 3) i;
UPDATE webpush_notification
    SET ttl = 3600, urgency = 'high', topic = 'n1', fanout_done = true,
        fanout_cursor = 8, fanout_limit = 9
    WHERE fk_push_notification = 1;
UPDATE webpush_notification SET fanout_cursor = 4, fanout_limit = 9
    WHERE fk_push_notification = 3;
INSERT INTO webpush_delivery
    (fk_push_notification, fk_push_notification_subscription, state,
     attempts, next_attempt_at, lease_until, last_status, last_error)
VALUES
    (1, 1, 'sent', 1, now() - interval '2 minutes', NULL, 201, NULL),
    (1, 2, 'sent', 1, now() - interval '2 minutes', NULL, 201, NULL),
    (1, 3, 'ready', 0, now() - interval '2 minutes', NULL, NULL, NULL),
    (1, 4, 'ready', 1, now() - interval '1 minute', NULL, 503,
     'Service Unavailable'),
    (1, 5, 'sending', 1, now() - interval '2 minutes',
     now() - interval '1 minute', NULL, NULL),
    (1, 6, 'sending', 2, now() - interval '2 minutes',
     now() - interval '1 minute', 503, 'Service Unavailable'),
    (1, 7, 'gone', 1, now() - interval '2 minutes', NULL, 410, NULL),
    (1, 8, 'failed', 5, now() - interval '2 minutes', NULL, 0,
     'connect() to 127.0.0.1:9 failed (111: Connection refused)'),
    (3, 1, 'sent', 1, now() - interval '2 minutes', NULL, 201, NULL),
    (3, 2, 'sent', 1, now() - interval '2 minutes', NULL, 201, NULL),
    (3, 3, 'sent', 1, now() - interval '2 minutes', NULL, 201, NULL),
    (3, 4, 'sent', 1, now() - interval '2 minutes', NULL, 201, NULL);
INSERT INTO spy_push_notification_subscription_delivery_log
SELECT nextval('id_push_notification_subscription_delivery_log_pk_seq'),
       d.fk_push_notification, d.fk_push_notification_subscription,
       now(), now()
FROM webpush_delivery d WHERE d.state = 'sent' ORDER BY d.id;
INSERT INTO webpush_subscription_state
    (fk_push_notification_subscription, unreachable_count) VALUES (8, 1);
SQL

my $psql = '$TEST_TOP/t/bin/pgcluster psql $TEST_PG_DIR -d "$TEST_PG_CONNINFO" -At';

vars(
    TEST_PSQL => $psql,
    # a session holding ACCESS SHARE on webpush_notification (what any
    # query of it takes) until it is terminated: ALTER TABLE waits for it
    TEST_HOLD_LOCK => <<"SH",
PGAPPNAME=t015-holder $psql -c "BEGIN" \\
    -c "LOCK TABLE webpush_notification IN ACCESS SHARE MODE" \\
    -c "SELECT pg_sleep(300)" > /dev/null 2>&1 &
echo \$! > \$TEST_NGINX_SERVROOT/pids/holder.pid
for _ in \$(seq 200); do
    [ "\$($psql -c "SELECT count(*) FROM pg_locks l
                    JOIN pg_stat_activity a ON a.pid = l.pid
                    WHERE a.application_name = 't015-holder'
                      AND l.relation = 'webpush_notification'::regclass
                      AND l.granted")" = 1 ] && break
    sleep 0.05
done
SH
    TEST_V4_HTTP_CONFIG => <<'EOC',
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "host=$TEST_PG_DIR port=5432 user=postgres dbname=t015_v4";
webpush_push_hosts http://127.0.0.1:$TEST_PORT_A;
webpush_timeout 3s;
EOC
    TEST_GET => 'curl -s http://127.0.0.1:$TEST_NGINX_PORT/push-notifications',
);

run_tests();

__DATA__

=== TEST 1: a new database gets every version
--- request
GET /push-notification-providers
--- error_code: 200
--- sql
SELECT string_agg(version::text, ',' ORDER BY version) FROM webpush_schema_version;
SELECT to_regclass('webpush_delivery_subscription') IS NOT NULL
--- sql_result
1,2,3,4,5,6,7,8,9,10
t

=== TEST 2: started again at its version under a table lock: served at once, the script does not run
--- shell
$TEST_PSQL -c "DROP INDEX webpush_delivery_subscription" > /dev/null
$TEST_HOLD_LOCK
--- nginx_env
T015_START=2
--- request
GET /push-notification-providers
--- error_code: 200
--- sql
SELECT to_regclass('webpush_delivery_subscription') IS NULL;
SELECT string_agg(version::text, ',' ORDER BY version) FROM webpush_schema_version;
SELECT count(*) FROM pg_stat_activity WHERE application_name = 't015-holder'
--- sql_result
t
1,2,3,4,5,6,7,8,9,10
1
--- no_error_log
schema setup failed

=== TEST 3: a newer module ran: served at once under the lock, nothing downgraded
--- shell
$TEST_PSQL -c "INSERT INTO webpush_schema_version (version) VALUES (1000)" \
    -c "UPDATE webpush_schema_script SET md5 = 'the newer script'" > /dev/null
--- nginx_env
T015_START=3
--- request
GET /push-notification-providers
--- error_code: 200
--- sql
SELECT to_regclass('webpush_delivery_subscription') IS NULL;
SELECT string_agg(version::text, ',' ORDER BY version) FROM webpush_schema_version;
SELECT md5 FROM webpush_schema_script;
SELECT count(*) FROM pg_stat_activity WHERE application_name = 't015-holder'
--- sql_result
t
1,2,3,4,5,6,7,8,9,10,1000
the newer script
1
--- no_error_log
schema setup failed

=== TEST 4: an older version recorded: the script runs and records this one
--- shell
$TEST_PSQL -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
               WHERE application_name = 't015-holder'" > /dev/null
$TEST_PSQL -c "DELETE FROM webpush_schema_version WHERE version >= 6" \
    -c "DROP FUNCTION webpush_subscription_outcomes" > /dev/null
--- nginx_env
T015_START=4
--- request
GET /push-notification-providers
--- error_code: 200
--- sql
SELECT to_regclass('webpush_delivery_subscription') IS NOT NULL;
SELECT to_regproc('webpush_subscription_outcomes') IS NOT NULL;
SELECT string_agg(version::text, ',' ORDER BY version) FROM webpush_schema_version;
SELECT count(*) FROM webpush_schema_script
--- sql_result
t
t
1,2,3,4,5,6,7,8,9,10
2

=== TEST 5: a populated version-4 database: the module starts on it and upgrades it
--- shell eval
<<'SH' . $main::v4_data . <<'SH' . $main::snapshot . ";\nSQL\n"
node $TEST_TOP/t/node/mock-push.js --port $TEST_PORT_A --pidfile $TEST_NGINX_SERVROOT/pids/mock.pid
PGOPTIONS=--client-min-messages=warning \
$TEST_TOP/t/bin/pgcluster psql $TEST_PG_DIR -d postgres \
    -c "DROP DATABASE IF EXISTS t015_v4 WITH (FORCE)" -c "CREATE DATABASE t015_v4"
PGOPTIONS=--client-min-messages=warning \
$TEST_TOP/t/bin/pgcluster psql $TEST_PG_DIR -d t015_v4 >/dev/null \
    -f $TEST_TOP/t/data/schema-v4.sql
$TEST_TOP/t/bin/pgcluster psql $TEST_PG_DIR -d t015_v4 >/dev/null <<'SQL'
SH
SQL
$TEST_TOP/t/bin/pgcluster psql $TEST_PG_DIR -d t015_v4 >/dev/null <<'SQL'
CREATE TABLE t015_before AS
SH
--- http_config
$TEST_V4_HTTP_CONFIG
--- request
GET /push-notification-providers?sort=name
--- error_code: 200
--- response_body_like
"name":"other".*"name":"web-push-php"
--- sql_db: t015_v4
--- sql
SELECT string_agg(version::text, ',' ORDER BY version) FROM webpush_schema_version;
SELECT string_agg(column_name, ',' ORDER BY column_name)
    FROM information_schema.columns
    WHERE table_name = 'webpush_notification'
      AND column_name IN ('send_at', 'cancelled_at', 'localized_payloads',
                          'localized_by_locale');
SELECT character_maximum_length FROM information_schema.columns
    WHERE table_name = 'webpush_delivery' AND column_name = 'state';
SELECT to_regclass('webpush_idempotency') IS NOT NULL;
SELECT count(*) FROM t015_before
--- sql_result
1,2,3,4,5,6,7,8,9,10
cancelled_at,localized_by_locale,localized_payloads,send_at
9
t
38

=== TEST 6: no row lost or changed; what waited is sent, once each
--- http_config
$TEST_V4_HTTP_CONFIG
--- request
GET /push-notification-providers
--- error_code: 200
--- eventually: 30
--- sql_db: t015_v4
--- sql eval
"SELECT 'lost or changed: ' || r FROM (SELECT r FROM t015_before\n"
. "EXCEPT ALL (\n$main::snapshot)) x;\n" . <<'SQL'
SELECT fk_push_notification || ': ' || string_agg(
           fk_push_notification_subscription || ' ' || state || ' '
           || attempts, ', ' ORDER BY fk_push_notification_subscription)
    FROM webpush_deliveries GROUP BY fk_push_notification
    ORDER BY fk_push_notification;
SELECT count(*), min(id_push_notification_subscription_delivery_log),
       max(id_push_notification_subscription_delivery_log)
    FROM spy_push_notification_subscription_delivery_log;
SELECT count(*) FROM webpush_deliveries d
    WHERE d.state = 'sent' AND NOT EXISTS (
        SELECT 1 FROM spy_push_notification_subscription_delivery_log l
        WHERE l.fk_push_notification = d.fk_push_notification
          AND l.fk_push_notification_subscription
              = d.fk_push_notification_subscription);
SELECT count(*) FROM webpush_subscription_state;
SELECT string_agg(fk_push_notification || ' ' || fanout_done || ' '
                  || fanout_cursor, ', ' ORDER BY fk_push_notification)
    FROM webpush_notification
SQL
--- sql_result
1: 1 sent 1, 2 sent 1, 3 sent 1, 4 sent 2, 5 sent 2, 6 sent 3, 7 gone 1, 8 failed 5
2: 1 sent 1, 2 sent 1, 3 sent 1, 4 sent 1, 5 sent 1, 6 sent 1, 8 sent 1
3: 1 sent 1, 2 sent 1, 3 sent 1, 4 sent 1, 5 sent 1, 6 sent 1, 8 sent 1
20|1|20
0
0
1 true 8, 2 true 8, 3 true 8
--- check
node $TEST_TOP/t/node/mock-push.js log $TEST_PORT_A --fields path,status,urgency,topic,payload | LC_ALL=C sort
--- check_result
/push/ok/1 201 - - {"n":2}
/push/ok/2 201 - - {"n":2}
/push/ok/3 201 - - {"n":2}
/push/ok/3 201 high n1 {"n":1}
/push/ok/4 201 - - {"n":2}
/push/ok/4 201 high n1 {"n":1}
/push/ok/5 201 - - {"n":2}
/push/ok/5 201 - - {"n":3}
/push/ok/5 201 high n1 {"n":1}
/push/ok/6 201 - - {"n":2}
/push/ok/6 201 - - {"n":3}
/push/ok/6 201 high n1 {"n":1}
/push/ok/8 201 - - {"n":2}
/push/ok/8 201 - - {"n":3}

=== TEST 7: the old notification's TTL is the one it was stored with
--- http_config
$TEST_V4_HTTP_CONFIG
--- request
GET /push-notification-providers
--- error_code: 200
--- check
node $TEST_TOP/t/node/mock-push.js log $TEST_PORT_A --fields topic,ttl \
    | awk '$1 == "n1" { n++; if ($2 > 3500 && $2 <= 3600) ok++ }
           END { print n " with topic n1, " ok + 0 " with a TTL of 3500-3600" }'
--- check_result
4 with topic n1, 4 with a TTL of 3500-3600

=== TEST 8: GET of the notification that was half sent: the counts of every state
--- http_config
$TEST_V4_HTTP_CONFIG
--- request
GET /push-notifications/e0000000-0000-4000-8000-000000000001
--- error_code: 200
--- response_json
{"data":{"type":"push-notifications","id":"e0000000-0000-4000-8000-000000000001",
 "attributes":{"providerName":"web-push-php","group":{"name":"all","identifier":"1"},
   "payload":{"n":1},"ttl":3600,"urgency":"high","topic":"n1",
   "delivery":{"targeted":8,"sent":6,"pending":0,"failed":1,"gone":1,"cancelled":0},
   "state":"done",
   "engagement":{"shown":0,"clicked":0,"closed":0}},
 "links":"*"}}

=== TEST 9: GET of the notifications fanned out after the upgrade
--- http_config
$TEST_V4_HTTP_CONFIG
--- request
GET /push-notifications/e0000000-0000-4000-8000-000000000002
--- error_code: 200
--- response_json
{"data":{"type":"push-notifications","id":"e0000000-0000-4000-8000-000000000002",
 "attributes":{"providerName":"web-push-php","group":{"name":"all","identifier":"1"},
   "payload":{"n":2},"ttl":2419200,"urgency":null,"topic":null,
   "delivery":{"targeted":7,"sent":7,"pending":0,"failed":0,"gone":0,"cancelled":0},
   "state":"done",
   "engagement":{"shown":0,"clicked":0,"closed":0}},
 "links":"*"}}
--- check
$TEST_GET/e0000000-0000-4000-8000-000000000003 | grep -o '"delivery":{[^}]*},"state":"[a-z]*"'
--- check_result
"delivery":{"targeted":7,"sent":7,"pending":0,"failed":0,"gone":0,"cancelled":0},"state":"done"

=== TEST 10: a new notification on the upgraded database
--- http_config
$TEST_V4_HTTP_CONFIG
--- request
POST /push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"all","identifier":"1"},"payload":{"n":5},"ttl":60,"urgency":"low"}}}
--- error_code: 201
--- response_json
{"data":{"type":"push-notifications","id":"~^[0-9a-f-]{36}$",
 "attributes":{"providerName":"web-push-php","group":{"name":"all","identifier":"1"},
   "payload":{"n":5},"ttl":60,"urgency":"low","topic":null},
 "links":"*"}}

=== TEST 11: it goes to every live subscription of the group, and GET counts it
--- http_config
$TEST_V4_HTTP_CONFIG
--- shell
$TEST_TOP/t/bin/pgcluster psql $TEST_PG_DIR -d t015_v4 >/dev/null -c "
    UPDATE spy_push_notification
    SET uuid = 'e0000000-0000-4000-8000-000000000005'
    WHERE payload = '{\"n\":5}'"
--- request
GET /push-notifications/x
--- error_code: 404
--- eventually: 30
--- check
node $TEST_TOP/t/node/mock-push.js log $TEST_PORT_A --fields path,status,urgency,payload | grep '"n":5' | LC_ALL=C sort
$TEST_GET/e0000000-0000-4000-8000-000000000005 | grep -o '"delivery":{[^}]*},"state":"[a-z]*"'
--- check_result
/push/ok/1 201 low {"n":5}
/push/ok/2 201 low {"n":5}
/push/ok/3 201 low {"n":5}
/push/ok/4 201 low {"n":5}
/push/ok/5 201 low {"n":5}
/push/ok/6 201 low {"n":5}
/push/ok/8 201 low {"n":5}
"delivery":{"targeted":7,"sent":7,"pending":0,"failed":0,"gone":0,"cancelled":0},"state":"done"
