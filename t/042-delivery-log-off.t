# webpush_delivery_log off (issue 16): a sent delivery leaves no row in the
# reference's delivery log.  What it must keep: every delivery sent once
# (a worker killed mid-send duplicates only what it held, as in
# t/030-durability.t), GET's counts exact, retries as before; what says
# "sent" instead is webpush_sent (a range's deliveries) or the row's own
# state (a delivery retried).
#
# Push services: bench/fanout/mock-push (stock nginx, 201, one log line a
# request) for group "warehouse" (3,000); t/node/mock-push.js for group
# "flaky" (10 subscriptions answered 500 once, then 201).

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
webpush_push_hosts http://127.0.0.1:$TEST_PORT_A http://127.0.0.1:$TEST_PORT_B;
webpush_timeout 2s;
webpush_lease 10s;
webpush_concurrency 128;
webpush_delivery_log off;
EOC
    config => <<'EOC',
location /api/push-notifications { webpush_notifications; }
location = /ping { return 200 "pong\n"; }
EOC
);

vars(
    # "targeted=.. sent=.. pending=.. failed=.. gone=.." of notification N
    TEST_COUNTS => q{counts() {
    uuid=$(psql "$TEST_PG_CONNINFO" -At -c "SELECT uuid FROM spy_push_notification WHERE id_push_notification = $1")
    curl -s http://127.0.0.1:$TEST_NGINX_PORT/api/push-notifications/$uuid \
      | perl -MJSON::PP -0ne 'my $d = decode_json($_)->{data}{attributes}{delivery};
            print join(" ", map { "$_=$d->{$_}" } qw(targeted sent pending failed gone)), "\n"'
}; counts},
);

run_tests();

__DATA__

=== TEST 1: the push services and the subscriptions
--- shell
mkdir -p $TEST_NGINX_SERVROOT/mock
$TEST_TOP/bench/fanout/mock-push start $TEST_NGINX_SERVROOT/mock $TEST_PORT_A \
    > $TEST_NGINX_SERVROOT/pids/mock.pid
node $TEST_TOP/t/node/mock-push.js --port $TEST_PORT_B --pidfile $TEST_NGINX_SERVROOT/pids/mock-b.pid
--- init_sql
INSERT INTO spy_push_notification_provider VALUES (1, '00000000-0000-4000-8000-000000000001', 'web-push-php', now(), now());
INSERT INTO spy_push_notification_group VALUES
    (1, NULL, 'warehouse', '1', now(), now()), (2, NULL, 'flaky', '1', now(), now());
INSERT INTO spy_push_notification_subscription
SELECT i, gen_random_uuid()::text, grp, 1, NULL, p, md5(p),
       now() + interval '7 days', now(), now()
FROM (SELECT i, 1 AS grp, '{"endpoint":"http://127.0.0.1:$TEST_PORT_A/push/' || i || '","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}' AS p
      FROM generate_series(1, 3000) AS i
      UNION ALL
      SELECT i, 2, '{"endpoint":"http://127.0.0.1:$TEST_PORT_B/push/flaky-1/' || i || '","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}'
      FROM generate_series(5001, 5010) AS i) s;
--- request
GET /ping
--- error_code: 200

=== TEST 2: kill -9 a worker mid-send: every delivery sent, duplicates only among those claimed twice, no delivery log row
--- shell
$TEST_TOP/t/bin/kill-worker-at $TEST_NGINX_SERVROOT 600
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
SELECT count(*) FROM spy_push_notification_subscription_delivery_log;
SELECT count(*), count(DISTINCT t.subscription)
FROM webpush_sent t JOIN webpush_batch b ON b.id = t.fk_batch
WHERE b.fk_push_notification = 1;
--- sql_result
sent|3000|3000
0
3000|3000
--- check
f=$TEST_NGINX_SERVROOT
[ -s $f/killed.txt ] || { echo "no worker killed"; exit 0; }
read victim at after < $f/killed.txt
[ "$at" -ge 600 ] && [ "$after" -lt 2700 ] && echo "killed mid-send" || echo "killed at $at..$after of 3000"
$TEST_COUNTS 1
cut -d' ' -f1 $f/mock/access.log | LC_ALL=C sort | uniq -c | awk '{ sub("/push/", "", $2); print $2, $1 }' > $f/counts.txt
echo "distinct endpoints $(wc -l < $f/counts.txt)"
echo "thrice or more $(awk '$2 > 2' $f/counts.txt | wc -l)"
awk '$2 == 2 { print $1 }' $f/counts.txt | LC_ALL=C sort > $f/dups.txt
psql "$TEST_PG_CONNINFO" -At -c "SELECT fk_push_notification_subscription
    FROM webpush_deliveries WHERE fk_push_notification = 1 AND claims > 1" \
    | LC_ALL=C sort > $f/reclaimed.txt
echo "duplicates not claimed twice $(LC_ALL=C comm -23 $f/dups.txt $f/reclaimed.txt | wc -l)"
r=$(wc -l < $f/reclaimed.txt)
echo "killed $victim at $at/$after; claimed twice $r; duplicates $(wc -l < $f/dups.txt)" > $f/kill-figures.txt
[ "$r" -ge 1 ] && echo "some claimed twice" || echo "none claimed twice: the kill tested nothing"
--- check_result
killed mid-send
targeted=3000 sent=3000 pending=0 failed=0 gone=0
distinct endpoints 3000
thrice or more 0
duplicates not claimed twice 0
some claimed twice

=== TEST 3: a retried delivery (500, then 201) ends 'sent' in its own row, still without a delivery log row
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"flaky","identifier":"1"},"payload":{"n":2}}}}
--- error_code: 201
--- eventually: 30
--- sql
SELECT state, attempts, count(*) FROM webpush_delivery
WHERE fk_push_notification = 2 GROUP BY 1, 2;
SELECT count(*) FROM spy_push_notification_subscription_delivery_log;
--- sql_result
sent|2|10
0
--- check
$TEST_COUNTS 2
node $TEST_TOP/t/node/mock-push.js log $TEST_PORT_B --fields status | sort | uniq -c | awk '{ print $2, $1 }'
--- check_result
targeted=10 sent=10 pending=0 failed=0 gone=0
201 10
500 10

=== TEST 4: a notification deleted takes its webpush_sent rows along (a trigger: the table has no foreign key)
--- init_sql
DELETE FROM spy_push_notification WHERE id_push_notification = 1;
--- request
GET /ping
--- error_code: 200
--- sql
SELECT count(*) FROM webpush_batch WHERE fk_push_notification = 1;
SELECT count(*) FROM webpush_sent;
--- sql_result
0
0
