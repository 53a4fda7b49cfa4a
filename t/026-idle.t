# An idle worker sleeps: with the sender on and nothing to send, each
# worker wakes about once a second (the fallback poll of the database),
# not on a fast tick; work still wakes it at once (LISTEN/NOTIFY), and
# work nobody announced (no NOTIFY, or a lost LISTEN connection) is found
# by the poll.
#
# Wake-ups are the workers' voluntary context switches (t/bin/wakeups)
# over 5 s; the bound is an upper one with headroom (the aim is 1 to 2 a
# second), and preemptions are not counted, so a loaded machine does not
# make it fail.

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
webpush_push_hosts http://127.0.0.1:$TEST_PORT_A;
webpush_timeout 5s;
EOC
    config => <<'EOC',
location /api/ {
    webpush_subscriptions;
}
location /api/push-notifications { webpush_notifications; }
location = /status { webpush_status; }
EOC
);

run_tests();

__DATA__

=== TEST 1: a browser subscribes
--- shell
cd $TEST_TOP/t/node
node wpt.js start $TEST_PORT_A $TEST_NGINX_SERVROOT/pids/wpt.pid
node wpt.js subscribe $TEST_PORT_A $TEST_VAPID_PUBLIC_KEY > $TEST_NGINX_SERVROOT/sub1.json
--- init_sql
INSERT INTO spy_push_notification_provider VALUES (1, '00000000-0000-4000-8000-000000000001', 'web-push-php', now(), now());
--- request
GET /status
--- error_code: 200

=== TEST 2: its subscription is stored
--- shell
sub=$(cat $TEST_NGINX_SERVROOT/sub1.json)
curl -s -o /dev/null -w '%{http_code}\n' -X POST \
    -H 'Content-Type: application/vnd.api+json' \
    --data "{\"data\":{\"type\":\"push-notification-subscriptions\",\"attributes\":{\"providerName\":\"web-push-php\",\"group\":{\"name\":\"warehouse\",\"identifier\":\"7\"},\"payload\":$sub}}}" \
    http://127.0.0.1:$TEST_NGINX_PORT/api/push-notification-subscriptions \
    | grep -qx 201
--- request
GET /status
--- error_code: 200
--- sql
SELECT count(*) FROM spy_push_notification_subscription
--- sql_result
1

=== TEST 3: idle, each worker wakes at most about once a second
--- request
GET /status
--- error_code: 200
--- check
sleep 2
$TEST_TOP/t/bin/wakeups $TEST_NGINX_SERVROOT/logs/nginx.pid 5 \
    | awk '{ print ($2 <= 3 ? "idle" : "busy"), $2 " wake-ups/s" }'
--- check_like
\Aidle [\d.]+ wake-ups/s\nidle [\d.]+ wake-ups/s\z

=== TEST 4: a notification wakes the sleeping workers at once (NOTIFY)
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"warehouse","identifier":"7"},"payload":{"n":1}}}}
--- error_code: 201
--- eventually: 20
--- check
cd $TEST_TOP/t/node
node wpt.js messages $TEST_PORT_A $(node -e "console.log(require('$TEST_NGINX_SERVROOT/sub1.json').clientHash)")
--- check_result
"{\"n\":1}"
--- sql
SELECT d.state, d.updated_at - w.created_at < interval '500 ms'
FROM webpush_deliveries d
JOIN webpush_notification w ON w.fk_push_notification = d.fk_push_notification
--- sql_result
sent|t

=== TEST 5: idle again once it is sent
--- request
GET /status
--- error_code: 200
--- check
sleep 2
$TEST_TOP/t/bin/wakeups $TEST_NGINX_SERVROOT/logs/nginx.pid 5 \
    | awk '{ print ($2 <= 3 ? "idle" : "busy"), $2 " wake-ups/s" }'
--- check_like
\Aidle [\d.]+ wake-ups/s\nidle [\d.]+ wake-ups/s\z

=== TEST 6: work nobody announced (no NOTIFY) is found by the poll
--- init_sql
ALTER TABLE spy_push_notification DISABLE TRIGGER webpush_notification_adopt;
INSERT INTO spy_push_notification
    SELECT 100, 'e0000000-0000-4000-8000-000000000001', fk_push_notification_group,
           fk_push_notification_provider, '{"n":2}', now(), now()
    FROM spy_push_notification LIMIT 1;
INSERT INTO webpush_notification (fk_push_notification) VALUES (100);
ALTER TABLE spy_push_notification ENABLE TRIGGER webpush_notification_adopt;
--- request
GET /status
--- error_code: 200
--- eventually: 20
--- sql
SELECT state, updated_at - (SELECT created_at FROM webpush_notification
                             WHERE fk_push_notification = 100)
              < interval '3 s'
FROM webpush_deliveries WHERE fk_push_notification = 100
--- sql_result
sent|t

=== TEST 7: the database connections (LISTEN's among them) are lost
--- init_sql
SELECT count(pg_terminate_backend(pid)) >= 0 FROM pg_stat_activity
WHERE application_name = 'nginx-webpush' AND datname = current_database();
--- request
GET /status
--- error_code: 200
--- wait: 1
--- error_log
database connection

=== TEST 8: meanwhile due work without a NOTIFY is sent by the poll
--- init_sql
INSERT INTO webpush_delivery
    (fk_push_notification, fk_push_notification_subscription, state)
SELECT 100, id_push_notification_subscription, 'ready'
FROM spy_push_notification_subscription
ON CONFLICT (fk_push_notification, fk_push_notification_subscription)
DO UPDATE SET state = 'ready', next_attempt_at = now(), updated_at = now();
--- request
GET /status
--- error_code: 200
--- eventually: 20
--- check
cd $TEST_TOP/t/node
node wpt.js messages $TEST_PORT_A $(node -e "console.log(require('$TEST_NGINX_SERVROOT/sub1.json').clientHash)")
--- check_result
"{\"n\":1}"
"{\"n\":2}"
"{\"n\":2}"

=== TEST 9: reconnected, idle again, and a notification still wakes it
--- request
GET /status
--- error_code: 200
--- check
sleep 2
$TEST_TOP/t/bin/wakeups $TEST_NGINX_SERVROOT/logs/nginx.pid 5 \
    | awk '{ print ($2 <= 3 ? "idle" : "busy"), $2 " wake-ups/s" }'
--- check_like
\Aidle [\d.]+ wake-ups/s\nidle [\d.]+ wake-ups/s\z

=== TEST 10: a notification after the reconnect is sent at once
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"warehouse","identifier":"7"},"payload":{"n":3}}}}
--- error_code: 201
--- eventually: 20
--- sql
SELECT d.state, d.updated_at - w.created_at < interval '500 ms'
FROM webpush_deliveries d
JOIN webpush_notification w ON w.fk_push_notification = d.fk_push_notification
WHERE w.fk_push_notification = (SELECT fk_push_notification FROM webpush_notification
                                ORDER BY created_at DESC LIMIT 1)
--- sql_result
sent|t
