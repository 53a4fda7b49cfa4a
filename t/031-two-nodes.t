# Two nginx instances with the module on one database share a fan-out
# (issue 5, INTERFACE.md §5): every delivery is made once, and both
# instances did part of the work.
#
# Node A is the harness's nginx; node B is a second master started here
# under its own prefix from A's generated nginx.conf (another port, the
# same database, the same VAPID key).  The push service is a stock nginx
# (bench/fanout/mock-push) logging one "$request_uri $status" line per
# request: each subscription has its own endpoint /push/<id>.
# t/031-two-nodes-h2.t runs this file again against t/node/mock-push-h2.js
# over TLS, decrypting every push, with both nodes speaking HTTP/2
# (Test::Webpush::FanoutMock; its log has the same lines).  That mock
# decrypts on one thread: with 4 workers x 1000 streams in flight
# (webpush_concurrency's default) it fell behind by more than
# webpush_timeout (2s) and TLS handshakes timed out (attempts used), so
# 128 per worker here.
#
# Which node did what: the nodes connect with different application_name
# values, and test-only triggers record the application_name of the
# session that claims a range of subscriptions (webpush_batch) and of the
# one that logs a delivery as sent.  A node claims into its own
# shared-memory queue and its workers write the outcomes back, so the
# session that logged a delivery is that of the node that sent it.  (The mock cannot tell the nodes apart: same source
# address, same requests; webpush_status shows no send counters.)

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
webpush_postgres "$TEST_PG_CONNINFO application_name=node-a";
webpush_push_hosts $TEST_PUSH_ORIGIN;
$TEST_PUSH_CONFIG
webpush_timeout 2s;
webpush_lease 10s;
webpush_concurrency 128;
EOC
    config => <<'EOC',
location /api/push-notifications { webpush_notifications; }
location = /status { webpush_status; }
location = /ping { return 200 "pong\n"; }
EOC
);

run_tests();

__DATA__

=== TEST 1: node A, 5,000 subscriptions, a mock push service
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
CREATE TABLE t_claimed (batch bigint, claims integer, node text);
CREATE FUNCTION t_claimed() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO t_claimed
        VALUES (NEW.id, NEW.claims, current_setting('application_name'));
    RETURN NULL;
END
$fn$;
CREATE TRIGGER t_claimed AFTER UPDATE ON webpush_batch FOR EACH ROW
    WHEN (NEW.claims IS DISTINCT FROM OLD.claims) EXECUTE FUNCTION t_claimed();
CREATE TABLE t_sent (notification integer, subscription integer, node text);
CREATE FUNCTION t_sent() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    INSERT INTO t_sent VALUES (NEW.fk_push_notification,
        NEW.fk_push_notification_subscription,
        current_setting('application_name'));
    RETURN NULL;
END
$fn$;
CREATE TRIGGER t_sent AFTER INSERT
    ON spy_push_notification_subscription_delivery_log
    FOR EACH ROW EXECUTE FUNCTION t_sent();
--- request
GET /ping
--- error_code: 200
--- sql
SELECT count(*) FROM spy_push_notification_subscription
--- sql_result
5000

=== TEST 2: node B starts on the same database
# both workers of each node connect (webpush_postgres_pool 2 each); only
# this file's database: t/031-two-nodes-h2.t names its nodes alike and
# may run beside it (prove -j2)
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
SELECT application_name, count(*) FROM pg_stat_activity
WHERE application_name LIKE 'node-%' AND datname = current_database()
GROUP BY 1 ORDER BY 1
--- sql_result
node-a|4
node-b|4

=== TEST 3: one notification: every subscription once, both nodes sent
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"warehouse","identifier":"1"},"payload":{"n":1}}}}
--- error_code: 201
--- eventually: 40
--- sql
SELECT state, count(*), count(DISTINCT fk_push_notification_subscription), max(attempts)
FROM webpush_deliveries WHERE fk_push_notification = 1 GROUP BY state;
SELECT count(*), count(DISTINCT fk_push_notification_subscription)
FROM spy_push_notification_subscription_delivery_log WHERE fk_push_notification = 1;
--- sql_result
sent|5000|5000|1
5000|5000
--- check
q() { psql "$TEST_PG_CONNINFO" -At -c "$1"; }
log=$TEST_NGINX_SERVROOT/mock/access.log
echo "requests $(wc -l < $log)"
echo "distinct endpoints $(cut -d' ' -f1 $log | sort -u | wc -l)"
# each delivery's range claimed once, and logged by the node that claimed it
q "SELECT count(*) FROM t_sent s
   JOIN webpush_batch b ON b.fk_push_notification = s.notification
    AND s.subscription BETWEEN b.first_subscription AND b.last_subscription
   JOIN t_claimed c ON c.batch = b.id
   WHERE s.notification = 1 AND b.claims = 1 AND c.node = s.node" \
    | sed 's/^/claimed once, sent by the claimer /'
a=$(q "SELECT count(*) FROM t_sent WHERE notification = 1 AND node = 'node-a'")
b=$(q "SELECT count(*) FROM t_sent WHERE notification = 1 AND node = 'node-b'")
echo "node-a $a node-b $b" > $TEST_NGINX_SERVROOT/share.txt
# each node's webpush_status counts what that node sent (its queue zone)
sent() { curl -s http://127.0.0.1:$1/status | tee $TEST_NGINX_SERVROOT/status-$1.json \
         | perl -MJSON::PP -0ne 'print decode_json($_)->{queue}{sent} // "none"'; }
sa=$(sent $TEST_NGINX_PORT); sb=$(sent $TEST_PORT_B)
[ "$sa" = "$a" ] && [ "$sb" = "$b" ] && echo "status agrees" || echo "status says A $sa B $sb"
# "both did part of the work": each sent at least 5% of it
[ "$a" -ge 250 ] && echo "node A sent a part" || echo "node A sent $a"
[ "$b" -ge 250 ] && echo "node B sent a part" || echo "node B sent $b"
echo "sum $((a + b))"
grep -cE '\[(alert|crit|emerg)\]|exited on signal' $TEST_NGINX_SERVROOT/node-b/logs/error.log \
    | sed 's/^/node B alerts /' || true
--- check_result
requests 5000
distinct endpoints 5000
claimed once, sent by the claimer 5000
status agrees
node A sent a part
node B sent a part
sum 5000
node B alerts 0

=== TEST 4: node B is killed (kill -9, master and workers) mid fan-out: node A finishes its share once the leases lapse
--- shell
b=$(cat $TEST_NGINX_SERVROOT/pids/node-b.pid)
curl -s -o /dev/null -X POST \
    --data '{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"warehouse","identifier":"1"},"payload":{"n":2}}}}' \
    http://127.0.0.1:$TEST_NGINX_PORT/api/push-notifications
for _ in $(seq 400); do
    [ "$(wc -l < $TEST_NGINX_SERVROOT/mock/access.log)" -ge 6000 ] && break
    sleep 0.025
done
wc -l < $TEST_NGINX_SERVROOT/mock/access.log > $TEST_NGINX_SERVROOT/at-kill.txt
# frozen first: a master that saw its workers die would start new ones,
# and those would outlive it
kill -STOP $b
pkill -9 -P $b || true
kill -9 $b
--- request
GET /ping
--- error_code: 200
--- eventually: 40
--- sql
SELECT state, count(*), count(DISTINCT fk_push_notification_subscription)
FROM webpush_deliveries WHERE fk_push_notification = 2 GROUP BY state;
SELECT count(*), count(DISTINCT fk_push_notification_subscription)
FROM spy_push_notification_subscription_delivery_log WHERE fk_push_notification = 2;
--- sql_result
sent|5000|5000
5000|5000
--- check
q() { psql "$TEST_PG_CONNINFO" -At -c "$1"; }
log=$TEST_NGINX_SERVROOT/mock/access.log
n=$(cat $TEST_NGINX_SERVROOT/at-kill.txt)
[ "$n" -ge 6000 ] && [ "$n" -lt 10000 ] && echo "killed mid fan-out"
# every subscription got both notifications; the extra requests are only
# rows node B held when it died, claimed again after their lease
requests=$(wc -l < $log)
echo "every endpoint twice or more: $(cut -d' ' -f1 $log | sort | uniq -c | awk '$1 < 2' | wc -l) short"
again=$(q "SELECT count(*) FROM webpush_deliveries WHERE fk_push_notification = 2 AND claims > 1")
[ $((requests - 10000)) -le "$again" ] && echo "duplicates only among rows claimed again"
[ "$again" -gt 0 ] && echo "node A took over node B's leases"
$TEST_PUSH_CHECK
--- check_result
killed mid fan-out
every endpoint twice or more: 0 short
duplicates only among rows claimed again
node A took over node B's leases
push service: as expected
