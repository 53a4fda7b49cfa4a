# A worker stalled (SIGSTOP here; a paused VM, a swapped-out process in the
# field) for longer than webpush_timeout while its requests are in flight.
# The push services answer during the stall; when the worker runs again,
# nginx's epoll_wait() returns EINTR (or the ready sockets), the clock jumps
# past every timer and nginx expires the timers before it handles those
# sockets.  The answers arrived in time: each delivery must read "sent",
# not "timed out" (with webpush_max_attempts 1 a timeout is final, with
# more attempts it would send the message twice).  CI found this in
# t/038 TEST 14 (4 of 120 failed).
#
# HTTP/1.1 to t/node/mock-push.js, h2 over TLS to t/node/mock-push-h2.js;
# both answer each push 400 ms after it arrives (slow-400), so every
# request is in flight when the test stops the workers.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;

vars(
    # stops every worker once N pushes reached the mock, 3 s (webpush_timeout
    # 2s), then lets them run; "stopped" on success
    TEST_STALL => q{stall() {
    for _ in $(seq 300); do
        read n < <(eval "$1" | wc -l)
        [ $n -ge $2 ] && break
        sleep 0.05
    done
    w=$(pgrep -P $(cat $TEST_NGINX_SERVROOT/logs/nginx.pid))
    kill -STOP $w
    sleep 3
    kill -CONT $w
    echo stopped
}; stall},
    TEST_ROWS_OF => q{SELECT d.state, coalesce(d.last_error, '-'), count(*)
FROM webpush_deliveries d
JOIN spy_push_notification_subscription s
  ON s.id_push_notification_subscription = d.fk_push_notification_subscription
WHERE s.fk_push_notification_group = },
);

defaults(
    http_config => <<'EOC',
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_push_hosts http://127.0.0.1:$TEST_PORT_A 127.0.0.1:$TEST_PORT_B;
webpush_ssl_trusted_certificate $TEST_NGINX_SERVROOT/tls/ca.pem;
webpush_http2 on;
webpush_timeout 2s;
webpush_max_attempts 1;
EOC
    config => <<'EOC',
location /api/push-notifications { webpush_notifications; }
location = /ping { return 200 "pong\n"; }
EOC
);

run_tests();

__DATA__

=== TEST 1: the push services (HTTP/1.1 and h2), 40 subscriptions each
--- shell
$TEST_TOP/t/bin/test-ca $TEST_NGINX_SERVROOT/tls
node $TEST_TOP/t/node/mock-push.js --port $TEST_PORT_A --pidfile $TEST_NGINX_SERVROOT/pids/mock-a.pid
cd $TEST_NGINX_SERVROOT/tls
node $TEST_TOP/t/node/mock-push-h2.js --tls server.pem,server.key --port $TEST_PORT_B --decrypt --pidfile $TEST_NGINX_SERVROOT/pids/mock-b.pid
--- init_sql
INSERT INTO spy_push_notification_provider VALUES (1, '00000000-0000-4000-8000-000000000001', 'web-push-php', now(), now());
INSERT INTO spy_push_notification_group VALUES
    (1, NULL, 'http1', '1', now(), now()), (2, NULL, 'h2', '1', now(), now());
INSERT INTO spy_push_notification_subscription
SELECT id, NULL, grp, 1, NULL,
       '{"endpoint":"' || url || '/push/slow-400/' || id
       || '","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}',
       md5(id::text), now() AT TIME ZONE 'UTC' + interval '1 day', now(), now()
FROM (SELECT i, 1, 'http://127.0.0.1:$TEST_PORT_A' FROM generate_series(1, 40) i
      UNION ALL
      SELECT i, 2, 'https://127.0.0.1:$TEST_PORT_B' FROM generate_series(101, 140) i)
     AS s(id, grp, url);
--- request
GET /ping
--- error_code: 200

=== TEST 2: HTTP/1.1: the workers stopped for 3 s while 40 pushes wait for their answers: all sent, none timed out
--- shell
curl -s -o /dev/null -X POST -H "Content-Type: application/vnd.api+json" \
    http://127.0.0.1:$TEST_NGINX_PORT/api/push-notifications \
    -d '{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"http1","identifier":"1"},"payload":{"title":"stall"}}}}'
$TEST_STALL "node $TEST_TOP/t/node/mock-push.js log $TEST_PORT_A --fields path" 40 \
    > $TEST_NGINX_SERVROOT/stall-1.txt
grep -qx stopped $TEST_NGINX_SERVROOT/stall-1.txt
--- request
GET /ping
--- error_code: 200
--- eventually: 20
--- sql
$TEST_ROWS_OF 1 GROUP BY 1, 2 ORDER BY 1, 2
--- sql_result
sent|-|40
--- check
# the stall happened with answers waiting (the shell ran before the
# block's part of the log begins, so the whole log is read)
grep -q 'timer fired with the answer unread in the socket (the worker was stalled): reading it while reading response' \
    $TEST_NGINX_SERVROOT/logs/error.log && echo "read after the stall"
--- check_result
read after the stall

=== TEST 3: h2: the same, 40 streams in flight
--- shell
curl -s -o /dev/null -X POST -H "Content-Type: application/vnd.api+json" \
    http://127.0.0.1:$TEST_NGINX_PORT/api/push-notifications \
    -d '{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"h2","identifier":"1"},"payload":{"title":"stall"}}}}'
cd $TEST_NGINX_SERVROOT/tls
$TEST_STALL "node $TEST_TOP/t/node/mock-push-h2.js log $TEST_PORT_B --fields path" 40 \
    > $TEST_NGINX_SERVROOT/stall-2.txt
grep -qx stopped $TEST_NGINX_SERVROOT/stall-2.txt
--- request
GET /ping
--- error_code: 200
--- eventually: 20
--- sql
$TEST_ROWS_OF 2 GROUP BY 1, 2 ORDER BY 1, 2
--- sql_result
sent|-|40
--- check
grep -q 'timer fired with the answer unread in the socket (the worker was stalled): reading it while talking HTTP/2' \
    $TEST_NGINX_SERVROOT/logs/error.log && echo "read after the stall"
node $TEST_TOP/t/node/mock-push-h2.js log $TEST_PORT_B --fields path | sort -u | wc -l
--- check_result
read after the stall
40
