# ratePerMinute (issue 15): deliveries of a notification start at most that
# many per minute, across all nodes together, also after a pause; a
# DELETE stops a paced notification at once, before or during its fan-out.
#
# Two nodes on one database, as in t/031-two-nodes.t: node A is the
# harness's nginx, node B a second master started from A's generated
# nginx.conf (another port, application_name node-b).  The push service is
# t/node/mock-push.js (RFC 8291 Appendix A keys: it decrypts every push),
# which records each request's arrival time; a helper, arrivals.pl
# (written by TEST 1), turns its log into "requests endpoints span
# max-in-any-second first last" for a range of subscription ids.
#
# Subscriptions, all /push/ok/<id>:
#   group "paced"   1-200       600 a minute: about 20 s, both nodes
#   group "cancel"  1001-1200   600 a minute, DELETE after ~4 s
#   group "early"   2001-2005   sendAt 4 s ahead, DELETE before it
#   group "outage"  3001-3120   1200 a minute; every worker of both nodes
#                               stopped (SIGSTOP) for 3 s in the middle
#   group "restart" 4001-4100   1200 a minute; node B stopped and node A
#                               restarted in the middle
# A test-only trigger records which node (application_name) moved each
# delivery row (released, claimed, sent), as in t/031.
#
# Timing bounds are loose on purpose (a busy machine): the span of 200 at
# 600 a minute within 15-25 s, at most 15 arrivals in any second (10 is
# the pace; the slack is the release granularity), a DELETE followed by
# no push more than a second later.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;

my $http_config = <<'EOC';
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO application_name=node-a";
webpush_push_hosts http://127.0.0.1:$TEST_PORT_A;
webpush_timeout 3s;
webpush_lease 12s;
webpush_max_attempts 1;
EOC

defaults(
    http_config => $http_config,
    config => <<'EOC',
location /api/push-notifications { webpush_notifications; }
location = /ping { return 200 "pong\n"; }
EOC
);

vars(
    TEST_POST => 'curl -s -X POST -H "Content-Type: application/vnd.api+json" http://127.0.0.1:$TEST_NGINX_PORT/api/push-notifications',
    TEST_GET => 'curl -s http://127.0.0.1:$TEST_NGINX_PORT/api/push-notifications',
    TEST_ARRIVALS => 'node $TEST_TOP/t/node/mock-push.js log $TEST_PORT_A --fields t,path | perl $TEST_NGINX_SERVROOT/arrivals.pl',
    TEST_RATE_DETAIL => '\"ratePerMinute\" must be an integer from 1 to 1000000',
    TEST_HTTP_CONFIG_RESTARTED => $http_config . "webpush_keepalive 8;\n",
);

run_tests();

__DATA__

=== TEST 1: the push service, the subscriptions, the transition log
--- shell
node $TEST_TOP/t/node/mock-push.js --port $TEST_PORT_A --pidfile $TEST_NGINX_SERVROOT/pids/mock.pid
cat > $TEST_NGINX_SERVROOT/arrivals.pl <<'PERL'
# stdin: "t path" lines (mock-push.js log --fields t,path); ARGV: the
# lowest and highest subscription id; after ARGV[2] (ms, optional) only
# arrivals from then count for the busiest second
use strict;
use warnings;
my ($lo, $hi, $from) = @ARGV;
my (@t, %n);
while (<STDIN>) {
    my ($t, $p) = split;
    next unless defined $p && $p =~ m{^/push/ok/(\d+)$};
    next if $1 < $lo || $1 > $hi;
    push @t, $t;
    $n{$1}++;
}
@t = sort { $a <=> $b } @t;
my @w = defined $from ? grep { $_ >= $from } @t : @t;
my ($max, $j) = (0, 0);
for my $i (0 .. $#w) {
    $j++ while $j < @w && $w[$j] < $w[$i] + 1000;
    $max = $j - $i if $j - $i > $max;
}
printf "%d %d %d %d %d %d\n", scalar @t, scalar keys %n,
    @t ? $t[-1] - $t[0] : 0, $max, @t ? $t[0] : 0, @t ? $t[-1] : 0;
PERL
--- init_sql
INSERT INTO spy_push_notification_provider VALUES (1, '00000000-0000-4000-8000-000000000001', 'web-push-php', now(), now());
INSERT INTO spy_push_notification_group VALUES
    (1, 'c0000000-0000-4000-8000-000000000001', 'paced', '1', now(), now()),
    (2, 'c0000000-0000-4000-8000-000000000002', 'cancel', '1', now(), now()),
    (3, 'c0000000-0000-4000-8000-000000000003', 'early', '1', now(), now()),
    (4, 'c0000000-0000-4000-8000-000000000004', 'outage', '1', now(), now()),
    (5, 'c0000000-0000-4000-8000-000000000005', 'restart', '1', now(), now());
SELECT setval('id_push_notification_group_pk_seq', 10);
INSERT INTO spy_push_notification_subscription
SELECT id, 'a0000000-0000-4000-8000-' || lpad(id::text, 12, '0'), grp, 1, NULL,
       '{"endpoint":"http://127.0.0.1:$TEST_PORT_A/push/ok/' || id
       || '","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}',
       md5(id::text), now() AT TIME ZONE 'UTC' + interval '1 day', now(), now()
FROM (SELECT id, 1 FROM generate_series(1, 200) id
      UNION ALL SELECT id, 2 FROM generate_series(1001, 1200) id
      UNION ALL SELECT id, 3 FROM generate_series(2001, 2005) id
      UNION ALL SELECT id, 4 FROM generate_series(3001, 3120) id
      UNION ALL SELECT id, 5 FROM generate_series(4001, 4100) id)
     AS s(id, grp);
CREATE TABLE t_transition (delivery bigint, state text, released boolean,
                           node text, at timestamptz);
CREATE FUNCTION t_transition() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO t_transition
        VALUES (NEW.id, NEW.state,
                OLD.next_attempt_at = 'infinity'
                    AND NEW.next_attempt_at <> 'infinity',
                current_setting('application_name'), clock_timestamp());
    RETURN NULL;
END
$fn$;
CREATE TRIGGER t_transition AFTER UPDATE ON webpush_delivery FOR EACH ROW
    WHEN (NEW.state IS DISTINCT FROM OLD.state
          OR NEW.next_attempt_at IS DISTINCT FROM OLD.next_attempt_at)
    EXECUTE FUNCTION t_transition();
--- request
GET /ping
--- error_code: 200
--- sql
SELECT count(*) FROM spy_push_notification_subscription;
SELECT max(version) = $TEST_SCHEMA_VERSION FROM webpush_schema_version
--- sql_result
625
t

=== TEST 2: node B starts on the same database
--- shell
b=$TEST_NGINX_SERVROOT/node-b
mkdir -p $b/conf $b/logs $b/temp
sed -e 's/listen 127\.0\.0\.1:$TEST_NGINX_PORT;/listen 127.0.0.1:$TEST_PORT_B;/' \
    -e 's/application_name=node-a/application_name=node-b/' \
    $TEST_NGINX_SERVROOT/conf/nginx.conf > $b/conf/nginx.conf
grep -q 'listen 127.0.0.1:$TEST_PORT_B;' $b/conf/nginx.conf
grep -q 'application_name=node-b' $b/conf/nginx.conf
${TEST_NGINX_BINARY:-/usr/sbin/nginx} -p $b/ -c conf/nginx.conf
cp $b/logs/nginx.pid $TEST_NGINX_SERVROOT/pids/node-b.pid
for _ in $(seq 100); do
    curl -sf http://127.0.0.1:$TEST_PORT_B/ping > /dev/null && break
    sleep 0.05
done
--- request
GET /ping
--- error_code: 200
--- eventually: 10
--- sql
SELECT count(DISTINCT application_name) FROM pg_stat_activity
WHERE application_name LIKE 'node-%' AND datname = current_database()
--- sql_result
2

=== TEST 3: ratePerMinute 0 is refused, nothing stored
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"paced","identifier":"1"},"payload":{"title":"t"},"ratePerMinute":0}}}
--- error_code: 400
--- response_json
{"errors":[{"code":"5400","status":400,"message":"Wrong request body.",
 "detail":"\"ratePerMinute\" must be an integer from 1 to 1000000"}]}
--- sql
SELECT count(*) FROM spy_push_notification;
SELECT count(*) FROM webpush_notification
--- sql_result
0
0

=== TEST 4: every other bad ratePerMinute is refused with its detail, also with an Idempotency-Key (not taken); nothing stored
--- request
GET /ping
--- error_code: 200
--- check
for v in -1 -600 1.5 60.0 1e3 1000001 2147483648 '"600"' true '[]' '{}'; do
    out=$($TEST_POST -H 'Idempotency-Key: bad-rate' -w ' %{http_code}' \
        -d '{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"paced","identifier":"1"},"payload":{"title":"t"},"ratePerMinute":'"$v"'}}}')
    case $out in
    *'"code":"5400"'*'$TEST_RATE_DETAIL'*' 400') ;;
    *) echo "$v: $out" ;;
    esac
done
echo checked
--- check_result
checked
--- sql
SELECT count(*) FROM spy_push_notification;
SELECT count(*) FROM webpush_idempotency
--- sql_result
0
0

=== TEST 5: ratePerMinute is part of the Idempotency-Key fingerprint
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"idem","identifier":"1"},"payload":{"title":"idem"},"ratePerMinute":600}}}
--- more_headers
Idempotency-Key: rate-1
--- error_code: 201
--- response_json
{"data":{"type":"push-notifications","id":"~^[0-9a-f-]{36}$",
 "attributes":{"providerName":"web-push-php","group":{"name":"idem","identifier":"1"},
   "payload":{"title":"idem"},"ttl":2419200,"urgency":null,"topic":null,
   "ratePerMinute":600},
 "links":"*"}}
--- check
for rate in ',"ratePerMinute":601' ''; do
    $TEST_POST -H 'Idempotency-Key: rate-1' -o /dev/null -w '%{http_code}\n' \
        -d '{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"idem","identifier":"1"},"payload":{"title":"idem"}'"$rate"'}}}'
done
--- check_result
409
409

=== TEST 6: the same key and rate again: the same notification
--- init_sql
UPDATE spy_push_notification SET uuid = 'e0000000-0000-4000-8000-000000000006';
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"ratePerMinute":600,"payload":{"title":"idem"},"group":{"name":"idem","identifier":"1"},"providerName":"web-push-php"}}}
--- more_headers
Idempotency-Key: rate-1
--- error_code: 201
--- response_json
{"data":{"type":"push-notifications","id":"e0000000-0000-4000-8000-000000000006",
 "attributes":"*","links":"*"}}
--- sql
SELECT count(*), max(w.rate_per_minute) FROM spy_push_notification n
JOIN webpush_notification w ON w.fk_push_notification = n.id_push_notification
--- sql_result
1|600

=== TEST 7: 600 a minute to 200 subscriptions, two nodes
--- shell
date +%s%3N > $TEST_NGINX_SERVROOT/paced-post.ms
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"paced","identifier":"1"},"payload":{"title":"paced"},"ratePerMinute":600}}}
--- error_code: 201
--- response_json
{"data":{"type":"push-notifications","id":"~^[0-9a-f-]{36}$",
 "attributes":{"providerName":"web-push-php","group":{"name":"paced","identifier":"1"},
   "payload":{"title":"paced"},"ttl":2419200,"urgency":null,"topic":null,
   "ratePerMinute":600},
 "links":"*"}}

=== TEST 8: while it is sent: GET echoes ratePerMinute; everything is targeted at once, most of it still pending
--- init_sql
UPDATE spy_push_notification SET uuid = 'e0000000-0000-4000-8000-000000000008'
WHERE fk_push_notification_group = 1;
--- request
GET /api/push-notifications/e0000000-0000-4000-8000-000000000008
--- error_code: 200
--- response_json
{"data":{"type":"push-notifications","id":"e0000000-0000-4000-8000-000000000008",
 "attributes":{"providerName":"web-push-php","group":{"name":"paced","identifier":"1"},
   "payload":{"title":"paced"},"ttl":2419200,"urgency":null,"topic":null,
   "ratePerMinute":600,
   "delivery":{"targeted":"~^\\d+$","sent":"~^\\d+$","pending":"~^\\d+$",
               "failed":0,"gone":0,"cancelled":0},
   "state":"sending",
   "engagement":{"shown":0,"clicked":0,"closed":0}},
 "links":"*"}}
--- eventually: 10
--- sql
SELECT count(*), count(*) FILTER (WHERE state = 'ready') > 100
FROM webpush_delivery d JOIN spy_push_notification n
  ON n.id_push_notification = d.fk_push_notification
WHERE n.uuid = 'e0000000-0000-4000-8000-000000000008'
--- sql_result
200|t

=== TEST 9: all 200 delivered exactly once, over about 20 s, at most 15 in any second, by both nodes
--- request
GET /ping
--- error_code: 200
--- eventually: 60
--- sql
SELECT state, count(*), count(DISTINCT fk_push_notification_subscription),
       max(attempts)
FROM webpush_delivery d JOIN spy_push_notification n
  ON n.id_push_notification = d.fk_push_notification
WHERE n.uuid = 'e0000000-0000-4000-8000-000000000008' GROUP BY state
--- sql_result
sent|200|200|1
--- check
read n d span win first last < <($TEST_ARRIVALS 1 200)
echo "$n requests to $d endpoints"
[ $span -ge 15000 ] && [ $span -le 25000 ] && echo "span about 20 s" \
    || echo "span $span ms"
[ $win -le 15 ] && echo "at most 15 in any second" || echo "$win in one second"
post=$(cat $TEST_NGINX_SERVROOT/paced-post.ms)
[ $((first - post)) -lt 5000 ] && echo "started at once" \
    || echo "started $((first - post)) ms after the POST"
# both nodes released and sent (pacing is shared, not per node: per node
# the 200 would have taken 10 s, see the span)
q() { psql "$TEST_PG_CONNINFO" -At -c "$1"; }
nodes=$(q "SELECT string_agg(node || ':' || c, ' ' ORDER BY node) FROM (
    SELECT node, count(*) c FROM t_transition t JOIN webpush_delivery d
      ON d.id = t.delivery JOIN spy_push_notification n
      ON n.id_push_notification = d.fk_push_notification
    WHERE n.uuid = 'e0000000-0000-4000-8000-000000000008'
      AND t.state = 'sent' GROUP BY node) x")
echo "span=$span ms, busiest second $win, sent by $nodes" \
    > $TEST_NGINX_SERVROOT/paced-figures.txt
case $nodes in
node-a:*' 'node-b:*) echo "both nodes sent" ;;
*) echo "sent by $nodes" ;;
esac
--- check_result
200 requests to 200 endpoints
span about 20 s
at most 15 in any second
started at once
both nodes sent

=== TEST 10: then GET says done, the counts add up
--- request
GET /api/push-notifications/e0000000-0000-4000-8000-000000000008
--- error_code: 200
--- response_json
{"data":{"type":"push-notifications","id":"e0000000-0000-4000-8000-000000000008",
 "attributes":{"providerName":"web-push-php","group":{"name":"paced","identifier":"1"},
   "payload":{"title":"paced"},"ttl":2419200,"urgency":null,"topic":null,
   "ratePerMinute":600,
   "delivery":{"targeted":200,"sent":200,"pending":0,"failed":0,"gone":0,"cancelled":0},
   "state":"done",
   "engagement":{"shown":0,"clicked":0,"closed":0}},
 "links":"*"}}

=== TEST 11: cancelled in the middle of a paced fan-out (after about 4 s)
--- shell
id=$($TEST_POST -d '{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"cancel","identifier":"1"},"payload":{"title":"cancel"},"ratePerMinute":600}}}' \
    | grep -o '"id":"[0-9a-f-]*"' | cut -d'"' -f4)
[ -n "$id" ]
for _ in $(seq 300); do
    read n _ < <($TEST_ARRIVALS 1001 1200)
    [ $n -ge 40 ] && break
    sleep 0.1
done
[ $n -ge 40 ]
curl -s -o /dev/null -w '%{http_code}\n' -X DELETE \
    http://127.0.0.1:$TEST_NGINX_PORT/api/push-notifications/$id | grep -qx 204
date +%s%3N > $TEST_NGINX_SERVROOT/cancel.ms
echo $n > $TEST_NGINX_SERVROOT/cancel-seen.txt
--- init_sql
UPDATE spy_push_notification SET uuid = 'e0000000-0000-4000-8000-000000000011'
WHERE fk_push_notification_group = 2;
--- request
GET /api/push-notifications/e0000000-0000-4000-8000-000000000011
--- error_code: 200
--- response_json
{"data":{"type":"push-notifications","id":"e0000000-0000-4000-8000-000000000011",
 "attributes":{"providerName":"web-push-php","group":{"name":"cancel","identifier":"1"},
   "payload":{"title":"cancel"},"ttl":2419200,"urgency":null,"topic":null,
   "ratePerMinute":600,
   "delivery":{"targeted":200,"sent":"~^\\d+$","pending":"~^\\d+$","failed":0,
               "gone":0,"cancelled":"~^[1-9]\\d*$"},
   "state":"cancelled",
   "engagement":{"shown":0,"clicked":0,"closed":0}},
 "links":"*"}}
--- eventually: 20
--- sql
SELECT count(*) FILTER (WHERE state IN ('ready', 'sending')),
       count(*) FILTER (WHERE state IN ('sent', 'cancelled', 'failed')),
       count(*) FILTER (WHERE state = 'cancelled') > 100
FROM webpush_delivery d JOIN spy_push_notification n
  ON n.id_push_notification = d.fk_push_notification
WHERE n.uuid = 'e0000000-0000-4000-8000-000000000011'
--- sql_result
0|200|t
--- check
# looked at 3 s after the DELETE at the earliest: a paced fan-out that
# went on would have sent 30 more by then
at=$(cat $TEST_NGINX_SERVROOT/cancel.ms)
[ $(date +%s%3N) -ge $((at + 3000)) ] || { echo "too early"; exit 0; }
read n d span win first last < <($TEST_ARRIVALS 1001 1200)
[ $last -le $((at + 1000)) ] && echo "nothing more than a second after the DELETE" \
    || echo "a push $((last - at)) ms after the DELETE"
got=$($TEST_GET/e0000000-0000-4000-8000-000000000011)
sent=$(echo "$got" | grep -o '"sent":[0-9]*' | cut -d: -f2)
cancelled=$(echo "$got" | grep -o '"cancelled":[0-9]*' | cut -d: -f2)
failed=$(echo "$got" | grep -o '"failed":[0-9]*' | cut -d: -f2)
[ "$sent" = "$n" ] && [ "$d" = "$n" ] && echo "the push service got what was sent, once each" \
    || echo "push service $n ($d endpoints), module $sent"
[ $((sent + cancelled + failed)) = 200 ] && echo "sent + cancelled + failed = targeted" \
    || echo "sent $sent cancelled $cancelled failed $failed"
echo "seen $(cat $TEST_NGINX_SERVROOT/cancel-seen.txt) at the DELETE, sent $sent, cancelled $cancelled" \
    > $TEST_NGINX_SERVROOT/cancel-figures.txt
--- check_result
nothing more than a second after the DELETE
the push service got what was sent, once each
sent + cancelled + failed = targeted

=== TEST 12: a paced notification scheduled 4 s ahead is cancelled before its start
--- shell
at=$(date -u -d '+4 seconds' +%Y-%m-%dT%H:%M:%S.%3NZ)
$TEST_POST -o /dev/null -w '%{http_code}\n' \
    -d '{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"early","identifier":"1"},"payload":{"title":"never"},"sendAt":"'$at'","ratePerMinute":600}}}' \
    | grep -qx 201
--- init_sql
UPDATE spy_push_notification SET uuid = 'e0000000-0000-4000-8000-000000000012'
WHERE fk_push_notification_group = 3;
--- request
DELETE /api/push-notifications/e0000000-0000-4000-8000-000000000012
--- error_code: 204
--- response_body

=== TEST 13: after its time: still cancelled, nothing was sent or even created
--- request
GET /api/push-notifications/e0000000-0000-4000-8000-000000000012
--- error_code: 200
--- response_json
{"data":{"type":"push-notifications","id":"e0000000-0000-4000-8000-000000000012",
 "attributes":{"providerName":"web-push-php","group":{"name":"early","identifier":"1"},
   "payload":{"title":"never"},"ttl":2419200,"urgency":null,"topic":null,
   "sendAt":"~^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z$",
   "ratePerMinute":600,
   "delivery":{"targeted":0,"sent":0,"pending":0,"failed":0,"gone":0,"cancelled":0},
   "state":"cancelled",
   "engagement":{"shown":0,"clicked":0,"closed":0}},
 "links":"*"}}
--- eventually: 30
--- sql
SELECT now() > w.send_at + interval '3 seconds',
       (SELECT count(*) FROM webpush_delivery d
        WHERE d.fk_push_notification = w.fk_push_notification)
FROM webpush_notification w JOIN spy_push_notification n
  ON n.id_push_notification = w.fk_push_notification
WHERE n.uuid = 'e0000000-0000-4000-8000-000000000012'
--- sql_result
t|0
--- check
read n _ < <($TEST_ARRIVALS 2001 2005)
echo "$n sent"
--- check_result
0 sent

=== TEST 14: every worker of both nodes stopped for 3 s in the middle of a paced fan-out: afterwards at most a second's worth is made up
--- shell
$TEST_POST -o /dev/null -w '%{http_code}\n' \
    -d '{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"outage","identifier":"1"},"payload":{"title":"outage"},"ratePerMinute":1200}}}' \
    | grep -qx 201
for _ in $(seq 300); do
    read n _ < <($TEST_ARRIVALS 3001 3120)
    [ $n -ge 30 ] && break
    sleep 0.1
done
[ $n -ge 30 ]
workers=$(for m in $(cat $TEST_NGINX_SERVROOT/logs/nginx.pid) \
                   $(cat $TEST_NGINX_SERVROOT/pids/node-b.pid); do
              pgrep -P $m; done)
[ -n "$workers" ]
kill -STOP $workers
sleep 3
date +%s%3N > $TEST_NGINX_SERVROOT/resumed.ms
kill -CONT $workers
--- request
GET /ping
--- error_code: 200
--- eventually: 40
--- sql
SELECT state, count(*), count(DISTINCT fk_push_notification_subscription)
FROM webpush_delivery d JOIN spy_push_notification n
  ON n.id_push_notification = d.fk_push_notification
WHERE n.fk_push_notification_group = 4 GROUP BY state
--- sql_result
sent|120|120
--- check
# 1200 a minute is 20 a second: after the pause one second's worth (20)
# at once, then the pace, so at most 40 in any second from the resume on
# (+10 for the release granularity and what was claimed before the
# pause); slots missed during the 3 s made up
# would be 60 at once
at=$(cat $TEST_NGINX_SERVROOT/resumed.ms)
read n d span win first last < <($TEST_ARRIVALS 3001 3120 $at)
echo "$n requests to $d endpoints"
[ $win -le 50 ] && echo "no burst after the pause" || echo "$win in one second after the pause"
echo "busiest second after the resume $win, span $span ms" \
    > $TEST_NGINX_SERVROOT/outage-figures.txt
# kept for a look at a failure (TEST_NGINX_LEAVE=1)
node $TEST_TOP/t/node/mock-push.js log $TEST_PORT_A --fields t,path \
    > $TEST_NGINX_SERVROOT/arrivals.txt
psql "$TEST_PG_CONNINFO" -At -c "SELECT t.delivery, d.fk_push_notification,
    t.state, t.released, t.node, (extract(epoch FROM t.at) * 1000)::bigint
    FROM t_transition t JOIN webpush_delivery d ON d.id = t.delivery
    ORDER BY t.at" > $TEST_NGINX_SERVROOT/transitions.txt
grep -cE '\[(alert|crit|emerg)\]|exited on signal' $TEST_NGINX_SERVROOT/node-b/logs/error.log \
    | sed 's/^/node B alerts /' || true
--- check_result
120 requests to 120 endpoints
no burst after the pause
node B alerts 0

=== TEST 15: node B stopped and node A restarted in the middle of a paced fan-out: the pace goes on from the database
--- http_config
$TEST_HTTP_CONFIG_RESTARTED
--- shell
$TEST_POST -o /dev/null -w '%{http_code}\n' \
    -d '{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"restart","identifier":"1"},"payload":{"title":"restart"},"ratePerMinute":1200}}}' \
    | grep -qx 201
for _ in $(seq 300); do
    read n _ < <($TEST_ARRIVALS 4001 4100)
    [ $n -ge 20 ] && break
    sleep 0.1
done
[ $n -ge 20 ]
echo $n > $TEST_NGINX_SERVROOT/restart-seen.txt
b=$(cat $TEST_NGINX_SERVROOT/pids/node-b.pid)
kill -QUIT $b
for _ in $(seq 200); do
    kill -0 $b 2> /dev/null || break
    sleep 0.05
done
! kill -0 $b 2> /dev/null
date +%s%3N > $TEST_NGINX_SERVROOT/restart.ms
--- request
GET /ping
--- error_code: 200
--- eventually: 40
--- sql
SELECT state, count(*), count(DISTINCT fk_push_notification_subscription)
FROM webpush_delivery d JOIN spy_push_notification n
  ON n.id_push_notification = d.fk_push_notification
WHERE n.fk_push_notification_group = 5 GROUP BY state
--- sql_result
sent|100|100
--- check
# what a node held in its queue when it stopped is sent by A once its
# lease lapses (12 s), still once; the pace itself is not made up
at=$(cat $TEST_NGINX_SERVROOT/restart.ms)
read n d span win first last < <($TEST_ARRIVALS 4001 4100 $at)
echo "$n requests to $d endpoints"
[ $win -le 50 ] && echo "no burst after the restart" || echo "$win in one second after the restart"
echo "seen $(cat $TEST_NGINX_SERVROOT/restart-seen.txt) before the restart," \
    "busiest second after it $win, span $span ms" \
    > $TEST_NGINX_SERVROOT/restart-figures.txt
--- check_result
100 requests to 100 endpoints
no burst after the restart
