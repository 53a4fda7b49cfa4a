# PostgreSQL restarted in the middle of a fan-out (3,000 deliveries): the
# sender keeps the outcomes it could not write back and writes them once
# the database is back, claims resume, and every subscription gets the
# notification exactly once (the restart is shorter than webpush_lease).
# Meanwhile a steady stream of subscription POSTs: each gets 201 or 503,
# and every acknowledged one is stored.
#
# The blocks share one nginx and a cluster of their own under the prefix.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;

defaults(
    http_config => <<'EOC',
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "host=$TEST_NGINX_SERVROOT/pg port=5432 user=postgres dbname=postgres";
webpush_postgres_timeout 1s;
webpush_push_hosts http://127.0.0.1:$TEST_PORT_A;
webpush_timeout 2s;
webpush_lease 30s;
EOC
    config => <<'EOC',
location /api/ { webpush_notifications; }
location /api/push-notification-subscriptions { webpush_subscriptions; }
location = /status { webpush_status; }
EOC
);

run_tests();

__DATA__

=== TEST 1: a database of its own and a push service that logs each request
--- shell
$TEST_TOP/t/bin/pgcluster start $TEST_NGINX_SERVROOT/pg fast >/dev/null
$TEST_TOP/bench/fanout/mock-push start $TEST_NGINX_SERVROOT/mock $TEST_PORT_A \
    > $TEST_NGINX_SERVROOT/pids/mock.pid
--- request
GET /status
--- error_code: 200
--- eventually: 10
--- check
$TEST_TOP/t/bin/pgcluster psql $TEST_NGINX_SERVROOT/pg -d postgres -Atc \
    "SELECT max(version) FROM webpush_schema_version"
--- check_result
8

=== TEST 2: the database restarts while 3,000 deliveries go out
--- shell
psql() { $TEST_TOP/t/bin/pgcluster psql $TEST_NGINX_SERVROOT/pg -d postgres "$@"; }
psql -q >/dev/null <<SQL
INSERT INTO spy_push_notification_provider VALUES (1, gen_random_uuid(), 'web-push-php', now(), now());
INSERT INTO spy_push_notification_group VALUES (1, gen_random_uuid(), 'all', NULL, now(), now());
INSERT INTO spy_push_notification_subscription
    SELECT i, gen_random_uuid(), 1, 1, NULL,
           '{"endpoint":"http://127.0.0.1:$TEST_PORT_A/push/' || i || '","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}',
           md5(i::text), now() + interval '1 day', now(), now()
    FROM generate_series(1, 3000) i;
-- rows with explicit ids: the module's own inserts continue after them
SELECT setval('id_push_notification_provider_pk_seq', 1),
       setval('id_push_notification_group_pk_seq', 1),
       setval('id_push_notification_subscription_pk_seq', 3000);
SQL
curl -s -o /dev/null -X POST \
    --data '{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"all"},"payload":{"n":1}}}}' \
    http://127.0.0.1:$TEST_NGINX_PORT/api/push-notifications
# a steady load of distinct subscriptions, through the outage and after
(
    for i in $(seq 1 400); do
        code=$(curl -s -o /dev/null -w '%{http_code}' -m 5 -X POST \
            --data "{\"data\":{\"type\":\"push-notification-subscriptions\",\"attributes\":{\"providerName\":\"web-push-php\",\"group\":{\"name\":\"load\"},\"payload\":{\"endpoint\":\"http://127.0.0.1:$TEST_PORT_A/load/$i\",\"keys\":{\"p256dh\":\"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4\",\"auth\":\"BTBZMqHH6r4Tts7J_aSIgg\"}}}}}" \
            http://127.0.0.1:$TEST_NGINX_PORT/api/push-notification-subscriptions)
        echo "$i $code"
        sleep 0.02
    done > $TEST_NGINX_SERVROOT/load.txt
    touch $TEST_NGINX_SERVROOT/load.done
) &
# stop it once part of the fan-out went out
for _ in $(seq 200); do
    [ "$(wc -l < $TEST_NGINX_SERVROOT/mock/access.log)" -ge 300 ] && break
    sleep 0.05
done
wc -l < $TEST_NGINX_SERVROOT/mock/access.log > $TEST_NGINX_SERVROOT/at-stop.txt
$TEST_TOP/t/bin/pgcluster stop $TEST_NGINX_SERVROOT/pg
--- request
POST /api/push-notification-subscriptions
{"data":{"type":"push-notification-subscriptions","attributes":{"providerName":"web-push-php","group":{"name":"all"},"payload":{"endpoint":"http://127.0.0.1:9/push/x","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}}}}
--- timeout: 5
--- error_code: 503
--- error_log
webpush: database
--- check
n=$(cat $TEST_NGINX_SERVROOT/at-stop.txt)
[ "$n" -ge 300 ] && [ "$n" -lt 3000 ] && echo "stopped mid fan-out"
--- check_result
stopped mid fan-out

=== TEST 3: back after two seconds: every subscription exactly once
--- shell
sleep 2
$TEST_TOP/t/bin/pgcluster start $TEST_NGINX_SERVROOT/pg fast >/dev/null
--- request
GET /status
--- error_code: 200
--- eventually: 60
--- check
log=$TEST_NGINX_SERVROOT/mock/access.log
echo "requests $(wc -l < $log) subscriptions $(cut -d' ' -f1 $log | sort -u | wc -l)"
$TEST_TOP/t/bin/pgcluster psql $TEST_NGINX_SERVROOT/pg -d postgres -Atc \
    "SELECT state, count(*) FROM webpush_delivery GROUP BY state;
     SELECT count(*) FROM spy_push_notification_subscription_delivery_log;
     SELECT count(*) FROM spy_push_notification_subscription
     WHERE fk_push_notification_group = 1"
# every connection (2 workers x 2) came back: 4 "ready" lines at start,
# 4 more since (counted in the whole log: they may come before this block)
n=$(grep -c 'webpush: database connection [0-9]* ready' \
        $TEST_NGINX_SERVROOT/logs/error.log)
[ "$n" -ge 8 ] && echo "reconnected"
--- check_result
requests 3000 subscriptions 3000
sent|3000
3000
3000
reconnected

=== TEST 4: the POSTs made meanwhile: 201 or 503, and the 201s are exactly what is stored
--- request
GET /status
--- error_code: 200
--- eventually: 60
--- check
[ -f $TEST_NGINX_SERVROOT/load.done ] || exit 0
load=$TEST_NGINX_SERVROOT/load.txt
ok=$(awk '$2 == 201' $load | wc -l)
unavailable=$(awk '$2 == 503' $load | wc -l)
echo "answers $(wc -l < $load), other than 201/503: $(awk '$2 != 201 && $2 != 503' $load | wc -l)"
[ "$ok" -gt 0 ] && [ "$unavailable" -gt 0 ] && echo "both 201 and 503 seen"
stored=$($TEST_TOP/t/bin/pgcluster psql $TEST_NGINX_SERVROOT/pg -d postgres -Atc \
    "SELECT count(*) FROM spy_push_notification_subscription s
     JOIN spy_push_notification_group g
       ON g.id_push_notification_group = s.fk_push_notification_group
     WHERE g.name = 'load'")
# every acknowledged one is stored; a 503 whose connection broke after the
# commit may be stored too (answering 503 beats running it twice)
[ "$stored" -ge "$ok" ] && [ "$stored" -le $((ok + unavailable)) ] \
    && echo "acknowledged <= stored <= acknowledged + 503s" \
    || echo "stored $stored acknowledged $ok 503 $unavailable"
--- check_result
answers 400, other than 201/503: 0
both 201 and 503 seen
acknowledged <= stored <= acknowledged + 503s
