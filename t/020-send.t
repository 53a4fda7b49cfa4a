# End to end against a real push service: npm web-push-testing decrypts
# every message (aes128gcm and aesgcm) and verifies the VAPID JWT itself.
# A subscription it expires answers 410: the module expires it at once
# and never sends to it again.

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

=== TEST 1: three browsers subscribe at the push service
--- shell
cd $TEST_TOP/t/node
node wpt.js start $TEST_PORT_A $TEST_NGINX_SERVROOT/pids/wpt.pid
node wpt.js subscribe $TEST_PORT_A $TEST_VAPID_PUBLIC_KEY > $TEST_NGINX_SERVROOT/sub1.json
node wpt.js subscribe $TEST_PORT_A $TEST_VAPID_PUBLIC_KEY > $TEST_NGINX_SERVROOT/sub2.json
node wpt.js subscribe $TEST_PORT_A $TEST_VAPID_PUBLIC_KEY aesgcm > $TEST_NGINX_SERVROOT/sub3.json
--- init_sql
INSERT INTO spy_push_notification_provider VALUES (1, '00000000-0000-4000-8000-000000000001', 'web-push-php', now(), now());
--- request
GET /api/push-notification-subscriptions/x
--- error_code: 405

=== TEST 2: their subscriptions reach the module, a notification reaches them
--- shell
for i in 1 2 3; do
    sub=$(cat $TEST_NGINX_SERVROOT/sub$i.json)
    curl -s -o /dev/null -w '%{http_code}\n' -X POST \
        -H 'Content-Type: application/vnd.api+json' \
        --data "{\"data\":{\"type\":\"push-notification-subscriptions\",\"attributes\":{\"providerName\":\"web-push-php\",\"group\":{\"name\":\"warehouse\",\"identifier\":\"7\"},\"payload\":$sub}}}" \
        http://127.0.0.1:$TEST_NGINX_PORT/api/push-notification-subscriptions
done > $TEST_NGINX_SERVROOT/subscribed.txt
grep -c 201 $TEST_NGINX_SERVROOT/subscribed.txt | grep -qx 3
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"warehouse","identifier":"7"},"payload":{"title":"Picking list","body":"Order 42 is ready","url":"/orders/42"},"ttl":600,"urgency":"high","topic":"order-42"}}}
--- error_code: 201
--- response_json
{"data":{"type":"push-notifications","id":"~^[0-9a-f-]{36}$",
 "attributes":{"providerName":"web-push-php","group":{"name":"warehouse","identifier":"7"},
   "payload":{"title":"Picking list","body":"Order 42 is ready","url":"/orders/42"},
   "ttl":600,"urgency":"high","topic":"order-42"},
 "links":{"self":"~/api/push-notifications/[0-9a-f-]{36}$"}}}
--- eventually: 20
--- check
cd $TEST_TOP/t/node
for i in 1 2 3; do
    hash=$(node -e "console.log(require('$TEST_NGINX_SERVROOT/sub$i.json').clientHash)")
    node wpt.js messages $TEST_PORT_A $hash
done
--- check_result
"{\"title\":\"Picking list\",\"body\":\"Order 42 is ready\",\"url\":\"/orders/42\"}"
"{\"title\":\"Picking list\",\"body\":\"Order 42 is ready\",\"url\":\"/orders/42\"}"
"{\"title\":\"Picking list\",\"body\":\"Order 42 is ready\",\"url\":\"/orders/42\"}"
--- sql
SELECT count(*) FROM spy_push_notification_subscription_delivery_log
--- sql_result
3

=== TEST 3: the delivery counts of the notification
--- init_sql
UPDATE spy_push_notification SET uuid = 'd0000000-0000-4000-8000-000000000001';
--- request
GET /api/push-notifications/d0000000-0000-4000-8000-000000000001
--- error_code: 200
--- response_json
{"data":{"type":"push-notifications","id":"d0000000-0000-4000-8000-000000000001",
 "attributes":{"providerName":"web-push-php","group":{"name":"warehouse","identifier":"7"},
   "payload":{"title":"Picking list","body":"Order 42 is ready","url":"/orders/42"},
   "ttl":600,"urgency":"high","topic":"order-42",
   "delivery":{"targeted":3,"sent":3,"pending":0,"failed":0,"gone":0,"cancelled":0},
   "state":"done",
   "engagement":{"shown":0,"clicked":0,"closed":0}},
 "links":{"self":"*"}}}

=== TEST 4: an unsubscribed browser answers 410: expired at once, never again
--- shell
cd $TEST_TOP/t/node
node wpt.js expire $TEST_PORT_A $(node -e "console.log(require('$TEST_NGINX_SERVROOT/sub1.json').clientHash)")
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"warehouse","identifier":"7"},"payload":{"n":2}}}}
--- error_code: 201
--- eventually: 20
--- sql
SELECT d.state, count(*) FROM webpush_deliveries d
WHERE d.fk_push_notification = (SELECT max(id_push_notification) FROM spy_push_notification)
GROUP BY d.state ORDER BY d.state;
SELECT count(*) FROM spy_push_notification_subscription WHERE expired_at <= now() AT TIME ZONE 'UTC';
--- sql_result
gone|1
sent|2
1

=== TEST 5: a row inserted by someone else is sent too, not to the gone one
# (the gone browser's last message is still the first notification)
--- init_sql
INSERT INTO spy_push_notification
    SELECT 100, 'e0000000-0000-4000-8000-000000000001', fk_push_notification_group,
           fk_push_notification_provider, '{"from":"psql"}', now(), now()
    FROM spy_push_notification LIMIT 1;
--- request
GET /api/push-notifications/e0000000-0000-4000-8000-000000000001
--- error_code: 200
--- eventually: 20
--- check
cd $TEST_TOP/t/node
for i in 1 2 3; do
    hash=$(node -e "console.log(require('$TEST_NGINX_SERVROOT/sub$i.json').clientHash)")
    node wpt.js messages $TEST_PORT_A $hash | tail -n 1
done
--- check_result
"{\"title\":\"Picking list\",\"body\":\"Order 42 is ready\",\"url\":\"/orders/42\"}"
"{\"from\":\"psql\"}"
"{\"from\":\"psql\"}"
--- sql
SELECT state, count(*) FROM webpush_deliveries WHERE fk_push_notification = 100 GROUP BY state
--- sql_result
sent|2

=== TEST 6: the node's counters: 7 sent, 1 gone; per-origin figures
--- request
GET /status
--- error_code: 200
--- response_body_like
"queue":\{"depth":0,.*"in_flight":0,"sent":7,"failed":0,"retried":0,"gone":1,"expired":0,"pushed":8,"popped":8,.*"origins":\{("http://127\.0\.0\.1:\d+":\{"sent":\d+,"failed":0,"retried":0,"gone":[01],"no_answer":0\})?\}
