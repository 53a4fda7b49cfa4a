# What a push service or the network must not be able to do to the
# sender: a redirect is not followed (a 3xx is a failed delivery), a
# resolver that never answers and a TLS handshake that never completes
# make deliveries fail in bounded time, and no request field can add a
# header to what goes out.

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
webpush_push_hosts http://127.0.0.1:$TEST_PORT_A http://push.test:$TEST_PORT_A
                   127.0.0.1:$TEST_PORT_B;
webpush_timeout 1s;
webpush_max_attempts 2;
resolver 127.0.0.1:$TEST_PORT_C;
resolver_timeout 1s;
EOC
    config => <<'EOC',
location /api/push-notifications { webpush_notifications; }
EOC
);

run_tests();

__DATA__

=== TEST 1: a redirect is a failed delivery and is not followed; a dead resolver fails in bounded time
--- shell
node $TEST_TOP/t/node/mock-push.js --port $TEST_PORT_A --pidfile $TEST_NGINX_SERVROOT/pids/mock.pid
--- init_sql
INSERT INTO spy_push_notification_provider VALUES (1, '00000000-0000-4000-8000-000000000001', 'web-push-php', now(), now());
INSERT INTO spy_push_notification_group VALUES (1, 'c0000000-0000-4000-8000-000000000001', 'net', NULL, now(), now());
INSERT INTO spy_push_notification_subscription
    SELECT id, 'a0000000-0000-4000-8000-00000000000' || id, 1, 1, NULL,
           '{"endpoint":"' || endpoint || '","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}',
           md5(endpoint), now() + interval '1 day', now(), now()
    FROM (VALUES (1, 'http://127.0.0.1:$TEST_PORT_A/push/redirect/1'),
                 (2, 'http://push.test:$TEST_PORT_A/push/ok/2')) v(id, endpoint);
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"net"},"payload":{"n":1}}}}
--- error_code: 201
--- eventually: 20
--- sql
SELECT fk_push_notification_subscription, state, attempts, last_status,
       rtrim(coalesce(substring(last_error from '^[^(]*'), ''))
FROM webpush_deliveries ORDER BY 1
--- sql_result
1|failed|1|301|301
2|failed|2|0|no answer: resolver error: Operation timed out
--- check
node $TEST_TOP/t/node/mock-push.js log $TEST_PORT_A --fields path,status
--- check_result
/push/redirect/1 301

=== TEST 2: a topic with a line break cannot reach the wire
--- request eval
"POST /api/push-notifications\n"
. '{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"net"},"payload":{"n":2},"topic":"a\r\nX-Evil: 1"}}}'
--- error_code: 400
--- response_body_like
"code":"5400"
--- sql
SELECT count(*) FROM spy_push_notification
--- sql_result
1

=== TEST 3: nor can an urgency that is not one of the four words
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"net"},"payload":{"n":3},"urgency":"high\r\nX-Evil: 1"}}}
--- error_code: 400
--- response_body_like
"code":"5400"

=== TEST 4: a push service that accepts the connection and never answers the TLS handshake
--- shell
node -e "require('net').createServer(() => {}).listen($TEST_PORT_B, '127.0.0.1')" &
echo $! > $TEST_NGINX_SERVROOT/pids/stall.pid
sleep 0.3
--- init_sql
INSERT INTO spy_push_notification_group VALUES (2, 'c0000000-0000-4000-8000-000000000002', 'stall', NULL, now(), now());
INSERT INTO spy_push_notification_subscription VALUES (3, 'a0000000-0000-4000-8000-000000000003', 2, 1, NULL,
    '{"endpoint":"https://127.0.0.1:$TEST_PORT_B/push/3","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}',
    'x3', now() + interval '1 day', now(), now());
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"stall"},"payload":{"n":4}}}}
--- error_code: 201
--- eventually: 20
--- sql
SELECT state, attempts, last_error LIKE '%timed out%' FROM webpush_deliveries
WHERE fk_push_notification_subscription = 3
--- sql_result
failed|2|t
