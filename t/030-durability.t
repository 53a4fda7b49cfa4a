# Durability of a fan-out (issue 5, INTERFACE.md §5): a worker killed
# with SIGKILL, and reloads, while 5,000 deliveries go out.
#
# The push service is a stock nginx (bench/fanout/mock-push) answering
# 201 and logging "$request_uri $status" per request: each subscription
# has its own endpoint /push/<id>, so the log counts deliveries per
# subscription.  t/030-durability-h2.t runs this file again against
# t/node/mock-push-h2.js over TLS, decrypting every push, with the module
# speaking HTTP/2 (Test::Webpush::FanoutMock; its log has the same lines).
#
# What kill -9 can duplicate (ngx_webpush_sender.cpp): a popped delivery
# is posted in the same event handler that popped it and the shared-memory
# queue outlives the worker, so the dead worker loses exactly the rows it
# held leased: requests in flight (<= webpush_concurrency, 128 here), outcomes
# answered but not yet written back (the batch being written, <= 500, and
# results_, written at 500 or after 50 ms) and the answer of a claim not
# yet read (<= 500, never sent).  Those rows stay 'sending' until their
# lease (webpush_lease 10s here) lapses and are then claimed again
# (attempts 2) and sent once more.  So: duplicates only among the rows
# claimed twice, none more than twice, at most 128 + 2 x 500 duplicates.
# Deliveries are claimed as ranges of up to 500 subscriptions (schema
# version 9): what the dead worker held lies in a few ranges, each claimed
# again whole (what it sent and recorded is skipped), so the bound on what
# is claimed twice is in ranges.
#
# A reload (SIGHUP) must lose nothing and duplicate nothing: old workers
# finish what they hold and write it back, the queue zone is kept.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;
use Test::Webpush::FanoutMock;

vars(Test::Webpush::FanoutMock::vars());
defaults(
    http_config => <<'EOC',
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_push_hosts $TEST_PUSH_ORIGIN;
$TEST_PUSH_CONFIG
webpush_timeout 2s;
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

=== TEST 1: 5,000 subscriptions at a fast mock push service
--- shell
mkdir -p $TEST_NGINX_SERVROOT/mock
$TEST_PUSH_MOCK start $TEST_NGINX_SERVROOT/mock $TEST_PORT_A \
    > $TEST_NGINX_SERVROOT/pids/mock.pid
--- init_sql
INSERT INTO spy_push_notification_provider VALUES (1, '00000000-0000-4000-8000-000000000001', 'web-push-php', now(), now());
INSERT INTO spy_push_notification_group VALUES (1, '00000000-0000-4000-8000-000000000002', 'warehouse', '1', now(), now());
INSERT INTO spy_push_notification_subscription
SELECT i, gen_random_uuid()::text, 1, 1, NULL, p, md5(p),
       now() + interval '7 days', now(), now()
FROM (SELECT i, '{"endpoint":"$TEST_PUSH_ORIGIN/push/' || i || '","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}' AS p
      FROM generate_series(1, 5000) AS i) s;
--- request
GET /ping
--- error_code: 200
--- sql
SELECT count(*) FROM spy_push_notification_subscription
--- sql_result
5000

=== TEST 2: kill -9 a worker mid-send: all delivered, few twice, only its rows
# The killer waits for the 1000th request at the mock, kills the first
# worker and notes its pid and the mock's count then and just after.
# Within the lease (10 s) plus a poll (1 s) the dead worker's rows are
# claimed again.
--- shell
$TEST_TOP/t/bin/kill-worker-at $TEST_NGINX_SERVROOT 1000
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"warehouse","identifier":"1"},"payload":{"n":1}}}}
--- error_code: 201
--- error_log
exited on signal 9
--- eventually: 40
--- sql
SELECT state, count(*), count(DISTINCT fk_push_notification_subscription)
FROM webpush_deliveries WHERE fk_push_notification = 1 GROUP BY state;
SELECT count(*), count(DISTINCT fk_push_notification_subscription)
FROM spy_push_notification_subscription_delivery_log WHERE fk_push_notification = 1;
--- sql_result
sent|5000|5000
5000|5000
--- check
f=$TEST_NGINX_SERVROOT
[ -s $f/killed.txt ] || { echo "no worker killed"; exit 0; }
read victim at after < $f/killed.txt
# mid-send: after the 1000th request and well before the 5000th
[ "$at" -ge 1000 ] && [ "$after" -lt 4500 ] && echo "killed mid-send" || echo "killed at $at..$after of 5000"
uuid=$(psql "$TEST_PG_CONNINFO" -At -c "SELECT uuid FROM spy_push_notification WHERE id_push_notification = 1")
curl -s http://127.0.0.1:$TEST_NGINX_PORT/api/push-notifications/$uuid \
  | perl -MJSON::PP -0ne 'my $d = decode_json($_)->{data}{attributes}{delivery};
        print join(" ", map { "$_=$d->{$_}" } qw(targeted sent pending failed gone)), "\n"'
cut -d' ' -f1 $f/mock/access.log | LC_ALL=C sort | uniq -c | awk '{ sub("/push/", "", $2); print $2, $1 }' > $f/counts1.txt
echo "distinct endpoints $(wc -l < $f/counts1.txt)"
echo "thrice or more $(awk '$2 > 2' $f/counts1.txt | wc -l)"
awk '$2 == 2 { print $1 }' $f/counts1.txt | LC_ALL=C sort > $f/dups1.txt
psql "$TEST_PG_CONNINFO" -At -c "SELECT fk_push_notification_subscription
    FROM webpush_deliveries WHERE fk_push_notification = 1 AND claims > 1" \
    | LC_ALL=C sort > $f/reclaimed1.txt
echo "duplicates not claimed twice $(LC_ALL=C comm -23 $f/dups1.txt $f/reclaimed1.txt | wc -l)"
d=$(wc -l < $f/dups1.txt); r=$(wc -l < $f/reclaimed1.txt)
b=$(psql "$TEST_PG_CONNINFO" -At -c "SELECT count(*) FROM webpush_batch
    WHERE fk_push_notification = 1 AND claims > 1")
echo "killed $victim at $at/$after; claimed twice $r in $b ranges; duplicates $d; requests $(wc -l < $f/mock/access.log)" > $f/kill-figures.txt
# the dead worker held something (else nothing was tested), no more than
# it can hold: what it held (in flight, outcomes not written back, a
# claim's answer not read: about a second of the queue's front, taken
# in turn with the other worker) lay in a few claims of a few ranges, and
# a range claimed again counts all its subscriptions as claimed twice in
# webpush_deliveries (runs here: 3-4 ranges, 1,024-1,880 subscriptions);
# duplicates no more than it can have sent unrecorded
[ "$b" -ge 1 ] && [ "$b" -le 10 ] && echo "ranges claimed twice 1..10" || echo "ranges claimed twice $b"
[ "$d" -le 1128 ] && echo "duplicates <= 1128" || echo "duplicates $d"
--- check_result
killed mid-send
targeted=5000 sent=5000 pending=0 failed=0 gone=0
distinct endpoints 5000
thrice or more 0
duplicates not claimed twice 0
ranges claimed twice 1..10
duplicates <= 1128

=== TEST 3: three reloads during another 5,000-delivery fan-out: each exactly once
# The reloader sends SIGHUP to the master at the 1000th, 2500th and 4000th
# delivery; each time the workers of the moment shut down gracefully
# while new ones take over the same queue zone.
--- shell
log=$TEST_NGINX_SERVROOT/mock/access.log
wc -l < $log > $TEST_NGINX_SERVROOT/reload-offset.txt
(
    base=$(cat $TEST_NGINX_SERVROOT/reload-offset.txt)
    for at in 1000 2500 4000; do
        for _ in $(seq 2000); do
            n=$(wc -l < $log)
            if [ "$n" -ge $((base + at)) ]; then
                kill -HUP "$(cat $TEST_NGINX_SERVROOT/logs/nginx.pid)"
                echo "$((n - base))" >> $TEST_NGINX_SERVROOT/reloaded.txt
                break
            fi
            sleep 0.01
        done
    done
) > /dev/null 2>&1 &
echo $! > $TEST_NGINX_SERVROOT/pids/reloader.pid
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"warehouse","identifier":"1"},"payload":{"n":2}}}}
--- error_code: 201
--- error_log
signal 1 (SIGHUP) received
reconfiguring
gracefully shutting down
--- eventually: 40
--- sql
SELECT state, count(*), count(DISTINCT fk_push_notification_subscription), max(attempts)
FROM webpush_deliveries WHERE fk_push_notification = 2 GROUP BY state;
SELECT count(*) FROM spy_push_notification_subscription_delivery_log WHERE fk_push_notification = 2;
--- sql_result
sent|5000|5000|1
5000
--- check
log=$TEST_NGINX_SERVROOT/mock/access.log
base=$(cat $TEST_NGINX_SERVROOT/reload-offset.txt)
# three reloads, the last before the 5000th delivery
r=$(paste -sd ' ' $TEST_NGINX_SERVROOT/reloaded.txt)
[ "$(wc -l < $TEST_NGINX_SERVROOT/reloaded.txt)" = 3 ] && [ "$(tail -n 1 $TEST_NGINX_SERVROOT/reloaded.txt)" -lt 5000 ] \
    && echo "reloaded 3 times mid-send" || echo "reloaded at: $r"
tail -n +$((base + 1)) $log | cut -d' ' -f1 | sort | uniq -c | awk '{ print $2, $1 }' > $TEST_NGINX_SERVROOT/counts2.txt
echo "requests $(tail -n +$((base + 1)) $log | wc -l)"
echo "distinct endpoints $(wc -l < $TEST_NGINX_SERVROOT/counts2.txt)"
uuid=$(psql "$TEST_PG_CONNINFO" -At -c "SELECT uuid FROM spy_push_notification WHERE id_push_notification = 2")
curl -s http://127.0.0.1:$TEST_NGINX_PORT/api/push-notifications/$uuid \
  | perl -MJSON::PP -0ne 'my $d = decode_json($_)->{data}{attributes}{delivery};
        print join(" ", map { "$_=$d->{$_}" } qw(targeted sent pending failed gone)), "\n"'
$TEST_PUSH_CHECK
--- check_result
reloaded 3 times mid-send
requests 5000
distinct endpoints 5000
targeted=5000 sent=5000 pending=0 failed=0 gone=0
push service: as expected
