# A push service that holds the sender's slots: each phase timer
# (webpush_timeout) restarts with every byte, so a service answering one
# byte at a time is stopped by the request's deadline (3 x webpush_timeout,
# 3 s here), and one streaming an endless chunk extension or endless
# trailers by the cap on bytes read per response (80 KiB).  Both end as
# retryable failures, logged.

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
webpush_timeout 1s;
webpush_max_attempts 2;
EOC
    config => <<'EOC',
location /api/push-notifications { webpush_notifications; }
EOC
);

run_tests();

__DATA__

=== TEST 1: a trickled answer ends at the deadline; endless chunk extensions and trailers at the byte cap
--- shell
node $TEST_TOP/t/node/mock-push.js --port $TEST_PORT_A --pidfile $TEST_NGINX_SERVROOT/pids/mock.pid
--- init_sql
INSERT INTO spy_push_notification_provider VALUES (1, '00000000-0000-4000-8000-000000000001', 'web-push-php', now(), now());
INSERT INTO spy_push_notification_group VALUES (1, 'c0000000-0000-4000-8000-000000000001', 'hostile', NULL, now(), now());
INSERT INTO spy_push_notification_subscription
    SELECT id, 'a0000000-0000-4000-8000-00000000000' || id, 1, 1, NULL,
           '{"endpoint":"http://127.0.0.1:$TEST_PORT_A/push/' || scenario || '/' || id || '","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}',
           md5(scenario), now() + interval '1 day', now(), now()
    FROM (VALUES (1, 'trickle'), (2, 'chunkext'), (3, 'chunktrailer'),
                 (4, 'ok')) v(id, scenario);
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"hostile"},"payload":{"n":1}}}}
--- error_code: 201
--- eventually: 30
--- sql
SELECT fk_push_notification_subscription, state, attempts, last_status,
       regexp_replace(coalesce(last_error, ''), '127\.0\.0\.1:[0-9]+', 'PEER')
FROM webpush_deliveries ORDER BY 1
--- sql_result
1|failed|2|0|no answer: timed out (no complete answer within 3000 ms from PEER)
2|failed|2|503|503: response larger than 81920 bytes from PEER
3|failed|2|503|503: response larger than 81920 bytes from PEER
4|sent|1||
--- check
# each attempt was given up: the trickle after 3 s (each byte came within
# webpush_timeout), the endless ones long before
node $TEST_TOP/t/node/mock-push.js log $TEST_PORT_A --fields path,closed,sent \
| awk '$1 ~ /trickle/ { print $1, ($2 >= 2900 && $2 < 4500) ? "3s" : $2, ($3 < 30) ? "short" : $3 }
       $1 ~ /chunk/   { print $1, ($2 < 1000) ? "soon" : $2, ($3 >= 81920) ? "capped" : $3 }
       $1 ~ /ok/      { print $1 }' | sort
grep -c 'delivery [0-9/]* to http://127.0.0.1:[0-9]*/push/trickle/1: no answer: timed out (no complete answer within 3000 ms' \
    $TEST_NGINX_SERVROOT/logs/error.log | sed 's/^[1-9][0-9]*$/logged/'
grep -c 'delivery [0-9/]* to http://127.0.0.1:[0-9]*/push/chunkext/2: 503: response larger than 81920 bytes' \
    $TEST_NGINX_SERVROOT/logs/error.log | sed 's/^[1-9][0-9]*$/logged/'
--- check_result
/push/chunkext/2 soon capped
/push/chunkext/2 soon capped
/push/chunktrailer/3 soon capped
/push/chunktrailer/3 soon capped
/push/ok/4
/push/trickle/1 3s short
/push/trickle/1 3s short
logged
logged
