# The lifecycle of a notification (issue 15): Idempotency-Key on POST,
# DELETE (cancel) before the start and in the middle of a fan-out,
# "state", and sendAt (the fan-out starts then, also across a restart).
#
# Subscriptions (RFC 8291 Appendix A keys) at the mock push service:
#   group "early"   21-23 ok        cancelled before its sendAt
#   group "slow"    31-70 slow-1000 cancelled while being sent
#   group "sched"   81-85 ok        sendAt 5 s ahead, nginx restarted
#                                   in between
# webpush_concurrency 1 (2 workers): at most 2 in flight and 4 queued, so
# the slow group takes 20 s or more and most of it is still waiting in
# the database when it is cancelled.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;
use Test::Webpush::Fixture;

my $http_config = Test::Webpush::Fixture::http_config(
    'webpush_timeout 3s;', 'webpush_lease 12s;', 'webpush_concurrency 1;',
    'webpush_max_attempts 1;');

defaults(
    http_config => $http_config,
    config => <<'EOC',
location /api/push-notifications { webpush_notifications; }
EOC
);

vars(
    Test::Webpush::Fixture::vars('/api/push-notifications'),
    TEST_HTTP_CONFIG_RESTARTED => $http_config . "webpush_keepalive 8;\n",
);

run_tests();

__DATA__

=== TEST 1: an idempotent notification is created
--- shell
node $TEST_TOP/t/node/mock-push.js --port $TEST_PORT_A --pidfile $TEST_NGINX_SERVROOT/pids/mock.pid
--- init_sql eval
Test::Webpush::Fixture::provider_sql()
. Test::Webpush::Fixture::groups_sql([1, 'early', '1'], [2, 'slow', '1'],
                                     [3, 'sched', '1'])
. Test::Webpush::Fixture::subscriptions_sql(<<'SQL')
SELECT id, 1, 'ok', NULL, '' FROM generate_series(21, 23) id
UNION ALL SELECT id, 2, 'slow-1000', NULL, '' FROM generate_series(31, 70) id
UNION ALL SELECT id, 3, 'ok', NULL, '' FROM generate_series(81, 85) id
SQL
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"idem","identifier":"1"},"payload":{"title":"once","n":1}}}}
--- more_headers
Idempotency-Key: order-42/confirmation
--- error_code: 201
--- response_json
{"data":{"type":"push-notifications","id":"~^[0-9a-f-]{36}$",
 "attributes":{"providerName":"web-push-php","group":{"name":"idem","identifier":"1"},
   "payload":{"title":"once","n":1},"ttl":2419200,"urgency":null,"topic":null},
 "links":{"self":"*"}}}
--- sql
SELECT count(*) FROM webpush_idempotency WHERE fk_push_notification IS NOT NULL;
SELECT max(version) = $TEST_SCHEMA_VERSION FROM webpush_schema_version
--- sql_result
1
t

=== TEST 2: the same key and request again (written otherwise): 201 with the same notification, nothing stored twice
--- init_sql
UPDATE spy_push_notification SET uuid = 'e0000000-0000-4000-8000-000000000001';
--- request
POST /api/push-notifications
{"data":{"attributes":{"payload":{"n":1,"title":"once"},"group":{"identifier":"1","name":"idem"},"providerName":"web-push-php","ttl":null},"type":"push-notifications"}}
--- more_headers
Idempotency-Key: order-42/confirmation
--- error_code: 201
--- response_json
{"data":{"type":"push-notifications","id":"e0000000-0000-4000-8000-000000000001",
 "attributes":{"providerName":"web-push-php","group":{"name":"idem","identifier":"1"},
   "payload":{"n":1,"title":"once"},"ttl":2419200,"urgency":null,"topic":null},
 "links":{"self":"~/api/push-notifications/e0000000-0000-4000-8000-000000000001$"}}}
--- sql
SELECT count(*) FROM spy_push_notification;
SELECT count(*) FROM webpush_idempotency
--- sql_result
1
1

=== TEST 3: the same key with another request: 409 / 5011, nothing stored
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"idem","identifier":"1"},"payload":{"title":"once","n":2}}}}
--- more_headers
Idempotency-Key: order-42/confirmation
--- error_code: 409
--- response_json
{"errors":[{"code":"5011","status":409,"message":"Idempotency key reused with a different request."}]}
--- sql
SELECT count(*) FROM spy_push_notification
--- sql_result
1

=== TEST 4: a key longer than 255 characters is refused before anything is stored
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"idem","identifier":"1"},"payload":{"title":"long key"}}}}
--- more_headers eval
"Idempotency-Key: " . ("k" x 256)
--- error_code: 400
--- response_json
{"errors":[{"code":"5400","status":400,"message":"Wrong request body.",
 "detail":"\"Idempotency-Key\" must be 1 to 255 printable ASCII characters"}]}
--- sql
SELECT count(*) FROM spy_push_notification
--- sql_result
1

=== TEST 4b: an unknown provider with a key: 404 / 5001, the key is not taken
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"nobody","group":{"name":"idem","identifier":"1"},"payload":{"title":"ghost"}}}}
--- more_headers
Idempotency-Key: ghost
--- error_code: 404
--- response_json
{"errors":[{"code":"5001","status":404,"message":"The push notification provider was not found."}]}
--- sql
SELECT count(*) FROM webpush_idempotency WHERE idempotency_key = 'ghost'
--- sql_result
0

=== TEST 5: 20 racing requests with one key: one notification, every answer 201 with its id
--- shell
body='{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"race","identifier":"1"},"payload":{"title":"race"}}}}'
cat > $TEST_NGINX_SERVROOT/race.sh <<'SH'
curl -s -X POST -H 'Content-Type: application/vnd.api+json' \
    -H 'Idempotency-Key: race' -w ' %{http_code}\n' -d "$2" "$1" \
    | sed -E 's/.*"id":"([0-9a-f-]+)".* ([0-9]+)$/\2 \1/'
SH
seq 20 | xargs -P 20 -I{} bash $TEST_NGINX_SERVROOT/race.sh \
    http://127.0.0.1:$TEST_NGINX_PORT/api/push-notifications "$body" \
    > $TEST_NGINX_SERVROOT/race.txt
--- request
GET /api/push-notifications/x
--- error_code: 404
--- check
f=$TEST_NGINX_SERVROOT/race.txt
wc -l < $f
cut -d' ' -f1 $f | sort | uniq -c | sed 's/^ *//'
cut -d' ' -f2 $f | sort -u | wc -l
--- check_result
20
20 201
1
--- sql
SELECT count(*) FROM spy_push_notification n
JOIN spy_push_notification_group g
  ON g.id_push_notification_group = n.fk_push_notification_group
WHERE g.name = 'race';
SELECT count(*) FROM webpush_idempotency WHERE idempotency_key = 'race'
--- sql_result
1
1

=== TEST 6: a key older than 24 h names nothing any more; expired keys are removed as new ones come
--- init_sql
UPDATE webpush_idempotency SET created_at = now() - interval '25 hours'
WHERE idempotency_key = 'order-42/confirmation';
INSERT INTO webpush_idempotency (idempotency_key, request_hash, created_at)
    VALUES ('old-1', 'x', now() - interval '30 hours'),
           ('old-2', 'x', now() - interval '24 hours 1 minute');
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"idem","identifier":"1"},"payload":{"title":"once","n":2}}}}
--- more_headers
Idempotency-Key: order-42/confirmation
--- error_code: 201
--- response_json
{"data":{"type":"push-notifications","id":"~^(?!e0000000)[0-9a-f-]{36}$",
 "attributes":"*","links":"*"}}
--- sql
SELECT idempotency_key FROM webpush_idempotency ORDER BY 1
--- sql_result
order-42/confirmation
race

=== TEST 7: sendAt is RFC 3339, strictly
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"idem","identifier":"1"},"payload":{"title":"t"},"sendAt":"2026-05-01 12:00:00"}}}
--- error_code: 400
--- response_json
{"errors":[{"code":"5400","status":400,"message":"Wrong request body.",
 "detail":"\"sendAt\" must be an RFC 3339 date-time such as 2026-05-01T12:00:00Z"}]}

=== TEST 8: a notification scheduled 4 s ahead is cancelled before its start
--- shell
at=$(date -u -d '+4 seconds' +%Y-%m-%dT%H:%M:%S.%3NZ)
$TEST_POST -o /dev/null -w '%{http_code}\n' \
    -d '{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"early","identifier":"1"},"payload":{"title":"never"},"sendAt":"'$at'"}}}' \
    | grep -qx 201
--- init_sql
UPDATE spy_push_notification SET uuid = 'e0000000-0000-4000-8000-000000000008'
WHERE fk_push_notification_group = 1;
--- request
DELETE /api/push-notifications/e0000000-0000-4000-8000-000000000008
--- error_code: 204
--- response_body

=== TEST 9: after its time it is still cancelled; nothing was sent
--- request
GET /api/push-notifications/e0000000-0000-4000-8000-000000000008
--- error_code: 200
--- response_json
{"data":{"type":"push-notifications","id":"e0000000-0000-4000-8000-000000000008",
 "attributes":{"providerName":"web-push-php","group":{"name":"early","identifier":"1"},
   "payload":{"title":"never"},"ttl":2419200,"urgency":null,"topic":null,
   "sendAt":"~^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z$",
   "delivery":{"targeted":0,"sent":0,"pending":0,"failed":0,"gone":0,"cancelled":0},
   "state":"cancelled",
   "engagement":{"shown":0,"clicked":0,"closed":0}},
 "links":"*"}}
--- eventually: 30
--- sql
SELECT now() > w.send_at + interval '3 seconds',
       (SELECT count(*) FROM webpush_deliveries d
        WHERE d.fk_push_notification = w.fk_push_notification)
FROM webpush_notification w JOIN spy_push_notification n
  ON n.id_push_notification = w.fk_push_notification
WHERE n.uuid = 'e0000000-0000-4000-8000-000000000008'
--- sql_result
t|0
--- check
node $TEST_TOP/t/node/mock-push.js log $TEST_PORT_A --fields path | grep -c /push/ok/2 || true
--- check_result
0

=== TEST 10: DELETE of an unknown or malformed notification: 404
--- request
DELETE /api/push-notifications/e0000000-0000-4000-8000-0000000000ff
--- error_code: 404
--- response_json
{"errors":[{"code":"404","status":404,"message":"Push notification not found."}]}

=== TEST 11: a notification to 40 slow subscriptions starts
--- init_sql
UPDATE spy_push_notification SET uuid = 'e0000000-0000-4000-8000-000000000011'
WHERE fk_push_notification_group = 2;
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"slow","identifier":"1"},"payload":{"title":"slow"},"sendAt":"2000-01-01T00:00:00Z"}}}
--- error_code: 201
--- response_json
{"data":{"type":"push-notifications","id":"*",
 "attributes":{"providerName":"web-push-php","group":{"name":"slow","identifier":"1"},
   "payload":{"title":"slow"},"ttl":2419200,"urgency":null,"topic":null,
   "sendAt":"2000-01-01T00:00:00Z"},
 "links":"*"}}

=== TEST 12: while it is sent its state is "sending"
--- init_sql
UPDATE spy_push_notification SET uuid = 'e0000000-0000-4000-8000-000000000011'
WHERE fk_push_notification_group = 2;
--- request
GET /api/push-notifications/e0000000-0000-4000-8000-000000000011
--- error_code: 200
--- eventually: 30
--- sql
SELECT count(*) = 40, count(*) FILTER (WHERE state = 'sent') >= 2
FROM webpush_deliveries d JOIN spy_push_notification n
  ON n.id_push_notification = d.fk_push_notification
WHERE n.uuid = 'e0000000-0000-4000-8000-000000000011'
--- sql_result
t|t
--- check
$TEST_GET/e0000000-0000-4000-8000-000000000011 | grep -o '"state":"[a-z]*"'
--- check_result
"state":"sending"

=== TEST 13: cancelled in the middle: what waits is cancelled at once, what is in flight finishes
--- request
DELETE /api/push-notifications/e0000000-0000-4000-8000-000000000011
--- error_code: 204
--- check
$TEST_GET/e0000000-0000-4000-8000-000000000011 | grep -o '"sent":[0-9]*' | cut -d: -f2 \
    > $TEST_NGINX_SERVROOT/sent-at-cancel.txt
cat $TEST_NGINX_SERVROOT/sent-at-cancel.txt | grep -c .
--- check_result
1
--- sql
SELECT count(*) FILTER (WHERE state = 'cancelled') >= 10,
       count(*) FILTER (WHERE state = 'ready')
FROM webpush_deliveries d JOIN spy_push_notification n
  ON n.id_push_notification = d.fk_push_notification
WHERE n.uuid = 'e0000000-0000-4000-8000-000000000011'
--- sql_result
t|0

=== TEST 14: then nothing more is sent; the counts add up
--- request
GET /api/push-notifications/e0000000-0000-4000-8000-000000000011
--- error_code: 200
--- response_json
{"data":{"type":"push-notifications","id":"e0000000-0000-4000-8000-000000000011",
 "attributes":{"providerName":"web-push-php","group":{"name":"slow","identifier":"1"},
   "payload":{"title":"slow"},"ttl":2419200,"urgency":null,"topic":null,
   "sendAt":"2000-01-01T00:00:00Z",
   "delivery":{"targeted":40,"sent":"~^\\d+$","pending":"~^\\d+$","failed":0,"gone":0,
               "cancelled":"~^\\d+$"},
   "state":"cancelled",
   "engagement":{"shown":0,"clicked":0,"closed":0}},
 "links":"*"}}
--- eventually: 30
--- sql
SELECT count(*) FILTER (WHERE state IN ('ready', 'sending')),
       count(*) FILTER (WHERE state IN ('sent', 'cancelled')),
       count(*) FILTER (WHERE state = 'cancelled') >= 10
FROM webpush_deliveries d JOIN spy_push_notification n
  ON n.id_push_notification = d.fk_push_notification
WHERE n.uuid = 'e0000000-0000-4000-8000-000000000011'
--- sql_result
0|40|t
--- check
sent=$(node $TEST_TOP/t/node/mock-push.js log $TEST_PORT_A --fields path | grep -c /push/slow-1000/ || true)
got=$($TEST_GET/e0000000-0000-4000-8000-000000000011 | grep -o '"sent":[0-9]*')
[ "\"sent\":$sent" = "$got" ] && echo "the push service got what was sent" || echo "push service $sent, module $got"
# after the DELETE: what was in flight (one per worker), and at most one
# more per worker popped from the queue before the NOTIFY arrived
before=$(cat $TEST_NGINX_SERVROOT/sent-at-cancel.txt)
echo "sent: $before at the DELETE, $sent in the end" > $TEST_NGINX_SERVROOT/cancel-counts.txt
[ $sent -le $((before + 4)) ] && echo "at most 4 more after the DELETE" || echo "$before at the DELETE, $sent in the end"
--- check_result
the push service got what was sent
at most 4 more after the DELETE

=== TEST 15: sendAt 5 s ahead: scheduled, nothing sent yet
--- shell
at=$(date -u -d '+5 seconds' +%Y-%m-%dT%H:%M:%S.%3N+00:00)
date -d "$at" +%s%3N > $TEST_NGINX_SERVROOT/sched.ms
$TEST_POST -o /dev/null -w '%{http_code}\n' \
    -d '{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"sched","identifier":"1"},"payload":{"title":"later"},"sendAt":"'$at'"}}}' \
    | grep -qx 201
--- init_sql
UPDATE spy_push_notification SET uuid = 'e0000000-0000-4000-8000-000000000015'
WHERE fk_push_notification_group = 3;
--- request
GET /api/push-notifications/e0000000-0000-4000-8000-000000000015
--- error_code: 200
--- sql
SELECT now() >= w.send_at OR NOT EXISTS (
           SELECT 1 FROM webpush_deliveries d
           WHERE d.fk_push_notification = w.fk_push_notification),
       w.send_at > now() - interval '1 minute'
FROM webpush_notification w JOIN spy_push_notification n
  ON n.id_push_notification = w.fk_push_notification
WHERE n.uuid = 'e0000000-0000-4000-8000-000000000015'
--- sql_result
t|t
--- check
state=$($TEST_GET/e0000000-0000-4000-8000-000000000015 | grep -o '"state":"[a-z]*"')
now=$(date +%s%3N)
at=$(cat $TEST_NGINX_SERVROOT/sched.ms)
{ [ "$state" = '"state":"scheduled"' ] || [ $now -ge $at ]; } && echo ok || echo "$state"
# the time as stored, to the millisecond
got=$($TEST_GET/e0000000-0000-4000-8000-000000000015 | grep -o '"sendAt":"[^"]*"' | cut -d'"' -f4)
[ "$(date -d "$got" +%s%3N)" = "$at" ] && echo "sendAt kept" || echo "sendAt $got, want $at"
--- check_result
ok
sendAt kept

=== TEST 16: nginx restarted before the time: everything is sent, nothing before sendAt
--- http_config
$TEST_HTTP_CONFIG_RESTARTED
--- request
GET /api/push-notifications/e0000000-0000-4000-8000-000000000015
--- error_code: 200
--- eventually: 40
--- sql
SELECT count(*) FILTER (WHERE d.state = 'sent'),
       bool_and(d.next_attempt_at >= w.send_at)
FROM webpush_deliveries d JOIN webpush_notification w
  ON w.fk_push_notification = d.fk_push_notification
JOIN spy_push_notification n ON n.id_push_notification = w.fk_push_notification
WHERE n.uuid = 'e0000000-0000-4000-8000-000000000015'
--- sql_result
5|t
--- check
at=$(cat $TEST_NGINX_SERVROOT/sched.ms)
node $TEST_TOP/t/node/mock-push.js log $TEST_PORT_A --fields t,path | grep ' /push/ok/8' \
    | awk -v at=$at '{ n++; if ($1 < at) early++ } END { print n " sent, " early + 0 " early" }'
$TEST_GET/e0000000-0000-4000-8000-000000000015 | grep -o '"state":"[a-z]*"'
--- check_result
5 sent, 0 early
"state":"done"
