# A reload while a fan-out's deliveries wait in the node's queue, over
# HTTP/2 to a push service that answers each push after 400 ms
# (t/bin/fanout-mock-h2 --delay 400).
#
# The workers of the old generation take nothing more from the queue once
# they shut down (Sender::Impl::send_some): the new generation sends what
# waits there.  An old worker that went on popping sent each push on a
# connection of its own (a retiring HTTP/2 connection takes no new
# stream), one handshake after another, hundreds of them, and under load
# (ASan, tests in parallel) some pushes ran past their deadline
# (3 x webpush_timeout) after the push service had them: a transport
# error, retried, sent twice (t/030-durability-h2.t TEST 3 saw 5).  The
# connection count tells it on any build; the duplicates need the load.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;

$ENV{WEBPUSH_FANOUT_MOCK} = 'h2';
require Test::Webpush::FanoutMock;

vars(Test::Webpush::FanoutMock::vars());
defaults(
    http_config => <<'EOC',
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_push_hosts $TEST_PUSH_ORIGIN;
$TEST_PUSH_CONFIG
webpush_timeout 1s;
webpush_lease 10s;
webpush_concurrency 128;
EOC
    config => <<'EOC',
location /api/push-notifications { webpush_notifications; }
location = /ping { return 200 "pong\n"; }
EOC
);

run_tests();

__DATA__

=== TEST 1: 3,000 subscriptions at a push service answering after 400 ms
--- shell
mkdir -p $TEST_NGINX_SERVROOT/mock
$TEST_PUSH_MOCK start $TEST_NGINX_SERVROOT/mock $TEST_PORT_A --delay 400 \
    > $TEST_NGINX_SERVROOT/pids/mock.pid
--- init_sql
INSERT INTO spy_push_notification_provider VALUES (1, '00000000-0000-4000-8000-000000000001', 'web-push-php', now(), now());
INSERT INTO spy_push_notification_group VALUES (1, '00000000-0000-4000-8000-000000000002', 'warehouse', '1', now(), now());
INSERT INTO spy_push_notification_subscription
SELECT i, gen_random_uuid()::text, 1, 1, NULL, p, md5(p),
       now() + interval '7 days', now(), now()
FROM (SELECT i, '{"endpoint":"$TEST_PUSH_ORIGIN/push/' || i || '","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}' AS p
      FROM generate_series(1, 3000) AS i) s;
--- request
GET /ping
--- error_code: 200
--- sql
SELECT count(*) FROM spy_push_notification_subscription
--- sql_result
3000

=== TEST 2: a reload at the 500th delivery: each exactly once
--- shell
log=$TEST_NGINX_SERVROOT/mock/access.log
(
    for _ in $(seq 3000); do
        if [ "$(wc -l < $log)" -ge 500 ]; then
            kill -HUP "$(cat $TEST_NGINX_SERVROOT/logs/nginx.pid)"
            wc -l < $log > $TEST_NGINX_SERVROOT/reloaded.txt
            exit 0
        fi
        sleep 0.01
    done
) > /dev/null 2>&1 &
echo $! > $TEST_NGINX_SERVROOT/pids/reloader.pid
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"warehouse","identifier":"1"},"payload":{"n":1}}}}
--- error_code: 201
--- error_log
gracefully shutting down
--- eventually: 60
--- sql
SELECT state, count(*), count(DISTINCT fk_push_notification_subscription), max(attempts), max(claims)
FROM webpush_deliveries WHERE fk_push_notification = 1 GROUP BY state;
--- sql_result
sent|3000|3000|1|1
--- check
log=$TEST_NGINX_SERVROOT/mock/access.log
[ -s $TEST_NGINX_SERVROOT/reloaded.txt ] && [ "$(cat $TEST_NGINX_SERVROOT/reloaded.txt)" -lt 2900 ] \
    && echo "reloaded mid-send" || echo "reloaded at: $(cat $TEST_NGINX_SERVROOT/reloaded.txt 2>/dev/null)"
echo "requests $(wc -l < $log)"
echo "distinct endpoints $(cut -d' ' -f1 $log | sort -u | wc -l)"
echo "failed pushes $(grep -c 'push request failed' $TEST_NGINX_SERVROOT/logs/error.log)"
# two connections per generation of workers, a few more for their
# handshakes' overlap; an old worker sending on would open one per push
node $TEST_TOP/t/node/mock-push-h2.js stats $TEST_PORT_A > $TEST_NGINX_SERVROOT/mock-stats.json
c=$(perl -MJSON::PP -0ne 'print decode_json($_)->{connections}{h2}' $TEST_NGINX_SERVROOT/mock-stats.json)
[ "$c" -le 16 ] && echo "connections at most 16" || echo "connections $c"
--- check_result
reloaded mid-send
requests 3000
distinct endpoints 3000
failed pushes 0
connections at most 16
