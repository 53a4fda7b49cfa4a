# DELETE /push-notifications/{uuid} between two steps of a fan-out
# (webpush_fanout_step(), 2,000 subscriptions a step, src/sender's
# fanout_chunk): the step under way finishes, no later step runs, what
# waits in the database is cancelled, what is in flight finishes, and
# GET's counts add up.
#
# 5,000 subscriptions (ids 1-5000, group "big") at the mock push service,
# each answered 201 after 200 ms; webpush_concurrency 4 (2 workers: at
# most 8 in flight).  The landing is made certain with a lock: the test's
# own session holds an advisory lock that a test-only trigger makes the
# second step's first range (subscription 2001 on) wait for, its
# notification row locked.  The DELETE comes while it waits, and waits
# for it (seen in pg_stat_activity); then the test's session ends, the
# second step commits and the cancel runs before any third step.
# webpush_postgres_timeout 60s: the held step and the DELETE wait that
# long at most (the default 5 s would cut the step on a slow machine).
#
# "targeted" is what the fan-out reached: deliveries are made step by
# step, so a notification cancelled mid fan-out targeted 4,000 here, and
# sent + cancelled + failed + gone (+ pending while in flight) = targeted.
# The 1,000 subscriptions it never reached are in no count.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;
use Test::Webpush::Fixture;

my $psql = '$TEST_TOP/t/bin/pgcluster psql $TEST_PG_DIR -d "$TEST_PG_CONNINFO" -At';

defaults(
    http_config => Test::Webpush::Fixture::http_config(
        'webpush_postgres_timeout 60s;', 'webpush_timeout 3s;',
        'webpush_concurrency 4;'),
    config => <<'EOC',
location /api/push-notifications { webpush_notifications; }
location = /ping { return 200 "pong\n"; }
EOC
);

vars(
    Test::Webpush::Fixture::vars('/api/push-notifications'),
    TEST_PSQL => $psql,
    # the notification of group "big": fan-out cursor, done, deliveries
    TEST_BIG => <<'SQL',
SELECT w.fanout_cursor, w.fanout_done,
       (SELECT count(*) FROM webpush_deliveries d
        WHERE d.fk_push_notification = w.fk_push_notification)
FROM webpush_notification w
JOIN spy_push_notification n ON n.id_push_notification = w.fk_push_notification
WHERE n.fk_push_notification_group = 1
SQL
    # its deliveries by state
    TEST_BIG_STATES => <<'SQL',
SELECT d.state, count(*) FROM webpush_deliveries d
JOIN spy_push_notification n ON n.id_push_notification = d.fk_push_notification
WHERE n.fk_push_notification_group = 1
GROUP BY 1 ORDER BY 1
SQL
);

run_tests();

__DATA__

=== TEST 1: 5,000 subscriptions at a slow push service, 3 at a fast one
--- shell
node $TEST_TOP/t/node/mock-push.js --port $TEST_PORT_A --pidfile $TEST_NGINX_SERVROOT/pids/mock.pid
--- init_sql eval
Test::Webpush::Fixture::provider_sql()
. Test::Webpush::Fixture::groups_sql([1, 'big', '1'], [2, 'after', '1'])
. Test::Webpush::Fixture::subscriptions_sql(<<'SQL')
SELECT i, CASE WHEN i <= 5000 THEN 1 ELSE 2 END,
       CASE WHEN i <= 5000 THEN 'slow-200' ELSE 'ok' END, NULL, ''
FROM generate_series(1, 5003) i
SQL
. "SELECT setval('id_push_notification_subscription_pk_seq', 5003);\n"
--- request
GET /ping
--- error_code: 200
--- sql
SELECT fk_push_notification_group, count(*)
FROM spy_push_notification_subscription GROUP BY 1 ORDER BY 1
--- sql_result
1|5000
2|3

=== TEST 2: with subscription 2001 locked, the first step is made and the second waits
--- shell
# the second step's first range (subscription 2001 on) waits for the
# test's advisory lock
$TEST_PSQL -c "CREATE FUNCTION t040_hold() RETURNS trigger LANGUAGE plpgsql
    AS \$\$ BEGIN
        PERFORM pg_advisory_lock_shared(4040);
        PERFORM pg_advisory_unlock_shared(4040);
        RETURN NEW;
    END \$\$" \
    -c "CREATE TRIGGER t040_hold BEFORE INSERT ON webpush_batch FOR EACH ROW
        WHEN (NEW.first_subscription > 2000) EXECUTE FUNCTION t040_hold()" \
    > /dev/null
PGAPPNAME=t040-holder $TEST_PSQL -c "SELECT pg_advisory_lock(4040)" \
    -c "SELECT pg_sleep(600)" > /dev/null 2>&1 &
echo $! > $TEST_NGINX_SERVROOT/pids/holder.pid
for _ in $(seq 600); do
    [ "$($TEST_PSQL -c "SELECT count(*) FROM pg_stat_activity
                        WHERE application_name = 't040-holder'
                          AND state = 'active' AND query LIKE '%pg_sleep%'")" = 1 ] \
        && exit 0
    sleep 0.05
done
echo "the holder did not lock subscription 2001 in 30 s" >&2
exit 1
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"big","identifier":"1"},"payload":{"n":"big"}}}}
--- error_code: 201
--- eventually: 30
--- sql
$TEST_BIG;
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock'
  AND query LIKE '%webpush_fanout%'
--- sql_result
2000|f|2000
1

=== TEST 3: the DELETE comes while the second step waits, and waits for it
--- shell
out=$TEST_NGINX_SERVROOT/delete
uuid=$($TEST_PSQL -c "SELECT n.uuid FROM spy_push_notification n
                      JOIN spy_push_notification_group g
                        ON g.id_push_notification_group = n.fk_push_notification_group
                      WHERE g.name = 'big'")
(
    curl -s -o /dev/null -w '%{http_code}\n' -X DELETE $TEST_API/$uuid \
        > $out.status
    date +%s%3N > $out.replied
) &
echo $! > $TEST_NGINX_SERVROOT/pids/delete.pid
waited=no
for _ in $(seq 600); do
    if [ "$($TEST_PSQL -c "SELECT count(*) FROM pg_stat_activity
                           WHERE datname = current_database()
                             AND wait_event_type = 'Lock'
                             AND query LIKE '%webpush_notification_cancel(%'")" = 1 ]
    then
        waited=yes
        break
    fi
    sleep 0.05
done
echo "the cancel waited for the step: $waited" > $out.waited
# the step's deliveries so far, while the cancel waits
$TEST_PSQL -c "$TEST_BIG" > $out.during
$TEST_PSQL -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
               WHERE application_name = 't040-holder'" > /dev/null
for _ in $(seq 1200); do
    [ -s $out.replied ] && exit 0
    sleep 0.05
done
echo "no answer to the DELETE in 60 s" >&2
exit 1
--- request
GET /ping
--- error_code: 200
--- check
cat $TEST_NGINX_SERVROOT/delete.waited
cat $TEST_NGINX_SERVROOT/delete.during
cat $TEST_NGINX_SERVROOT/delete.status
--- check_result
the cancel waited for the step: yes
2000|f|2000
204
--- sql
$TEST_BIG;
SELECT count(*) FROM ($TEST_BIG_STATES) s WHERE state = 'ready'
--- sql_result
4000|t|4000
0

=== TEST 4: nothing is sent after the answer but what was in flight; the counts add up
--- init_sql
UPDATE spy_push_notification SET uuid = 'e0000000-0000-4000-8000-000000000001'
WHERE fk_push_notification_group = 1;
--- request
GET /api/push-notifications/e0000000-0000-4000-8000-000000000001
--- error_code: 200
--- response_json
{"data":{"type":"push-notifications","id":"e0000000-0000-4000-8000-000000000001",
 "attributes":{"providerName":"web-push-php","group":{"name":"big","identifier":"1"},
   "payload":{"n":"big"},"ttl":"*","urgency":null,"topic":null,
   "delivery":"*","state":"cancelled",
   "engagement":{"shown":0,"clicked":0,"closed":0}},
 "links":"*"}}
--- eventually: 30
--- sql
SELECT coalesce(string_agg(state, ',' ORDER BY state), 'only sent and cancelled')
FROM ($TEST_BIG_STATES) s WHERE state NOT IN ('sent', 'cancelled');
SELECT sum(count) FROM ($TEST_BIG_STATES) s
--- sql_result
only sent and cancelled
4000
--- check
get=$(curl -s $TEST_API/e0000000-0000-4000-8000-000000000001)
d() { echo "$get" | grep -o "\"$1\":[0-9]*" | cut -d: -f2; }
pushed=$(node $TEST_TOP/t/node/mock-push.js log $TEST_PORT_A --fields path,status \
         | grep -c '^/push/slow-200/.* 201$' || true)
[ "$(d sent)" = "$pushed" ] && echo "sent: as the push service counted" \
    || echo "sent: $(d sent), the push service $pushed"
echo "targeted: $(d targeted), pending: $(d pending)"
[ $(( $(d sent) + $(d cancelled) + $(d failed) + $(d gone) )) = "$(d targeted)" ] \
    && echo "sent + cancelled + failed + gone = targeted" \
    || echo "$(d sent) + $(d cancelled) + $(d failed) + $(d gone) != $(d targeted)"
[ "$(d cancelled)" -ge 2000 ] && echo "2,000 cancelled or more" \
    || echo "cancelled: $(d cancelled)"
# arrivals at the push service after the DELETE's answer: only what the
# workers had taken before the cancel reached them (8 in flight at most)
replied=$(cat $TEST_NGINX_SERVROOT/delete.replied)
late=$(node $TEST_TOP/t/node/mock-push.js log $TEST_PORT_A --fields t,path \
       | awk -v r=$replied '$2 ~ /slow-200/ && $1 > r' | wc -l)
[ $late -le 8 ] && echo "at most 8 more after the DELETE" \
    || echo "$late sent after the DELETE"
--- check_result
sent: as the push service counted
targeted: 4000, pending: 0
sent + cancelled + failed + gone = targeted
2,000 cancelled or more
at most 8 more after the DELETE

=== TEST 5: a later notification is fanned out and sent; the cancelled one gets nothing more
# webpush_fanout_step() takes the lowest notification id that waits: had the
# cancelled one still waited, it would have been stepped first
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"after","identifier":"1"},"payload":{"n":"after"}}}}
--- error_code: 201
--- eventually: 30
--- sql
SELECT count(*) FILTER (WHERE d.state = 'sent')
FROM webpush_deliveries d JOIN spy_push_notification n
  ON n.id_push_notification = d.fk_push_notification
WHERE n.fk_push_notification_group = 2;
$TEST_BIG
--- sql_result
3
4000|t|4000
--- check
node $TEST_TOP/t/node/mock-push.js log $TEST_PORT_A --fields path,status | grep -c '^/push/ok/' || true
--- check_result
3
