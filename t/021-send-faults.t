# The sender against a push service that misbehaves (t/node/mock-push.js):
# what web-push-testing cannot do.  Every request the mock gets is
# validated as a push service would (TTL, Content-Type, Content-Encoding,
# VAPID JWT signed for the right audience, a body that decrypts) and
# recorded; the tests read its log and the delivery rows.
#
# INTERFACE.md §5: 2xx -> sent; 404/410 -> gone, the subscription expired
# at once; 413 and other 4xx -> failed, not retried; 429 (Retry-After),
# 5xx, timeouts and connection errors -> retried with backoff, up to
# webpush_max_attempts (3 here), each attempt bounded by webpush_timeout.
#
# Subscriptions (all with the RFC 8291 Appendix A keys, which the mock
# decrypts with), group "main":
#    1 ok              2 ok, aesgcm        3 ratelimit-1      4 flaky-2
#    5 flaky-9         6 toolarge          7 badjwt           8 slow-200
#    9 slow-3000      10 reset            11 resethdr-1      12 garbage
#   13 chunked        14 chunkedraw       15 garbage-1
#   16 ok, expired before the notification (not a target)
#   17 ratelimitdate-1 (Retry-After as an HTTP-date 4 s ahead)
#   40 bigbody        41 untilclose       42 continue
#   43 ok, but on a port where nothing listens (connection refused)
# group "dead": 20 gone, 21 notfound, 22 ok.
# group "big": 30 ok, 31 ok aesgcm (a payload of the largest size allowed).
#
# Every block repeats the same configuration (a different one restarts
# nginx).  Variable output (TTLs, gaps, ports, keys) is normalised in the
# --- check scripts and compared exactly with --- check_result.

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
webpush_push_hosts http://127.0.0.1:$TEST_PORT_A http://127.0.0.1:$TEST_PORT_C;
webpush_timeout 1s;
webpush_max_attempts 3;
webpush_message_ttl 1h;
EOC
    config => <<'EOC',
location /api/push-notifications { webpush_notifications; }
EOC
);

run_tests();

__DATA__

=== TEST 1: a notification with every option to the faulty push service
--- shell
node $TEST_TOP/t/node/mock-push.js --port $TEST_PORT_A --pidfile $TEST_NGINX_SERVROOT/pids/mock.pid
--- init_sql
INSERT INTO spy_push_notification_provider VALUES (1, '00000000-0000-4000-8000-000000000001', 'web-push-php', now(), now());
INSERT INTO spy_push_notification_group VALUES
    (1, 'c0000000-0000-4000-8000-000000000001', 'main', '1', now(), now()),
    (2, 'c0000000-0000-4000-8000-000000000002', 'dead', '1', now(), now()),
    (3, 'c0000000-0000-4000-8000-000000000003', 'big', '1', now(), now());
INSERT INTO spy_push_notification_subscription
SELECT id, 'a0000000-0000-4000-8000-' || lpad(id::text, 12, '0'), grp, 1, NULL,
       '{"endpoint":"http://127.0.0.1:' || CASE WHEN id = 43 THEN $TEST_PORT_C ELSE $TEST_PORT_A END
       || '/push/' || scenario || '/' || id
       || '","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}'
       || CASE WHEN id IN (2, 31) THEN ',"contentEncoding":"aesgcm"' ELSE '' END || '}',
       md5(id::text),
       now() AT TIME ZONE 'UTC' + CASE WHEN id = 16 THEN interval '-1 minute' ELSE interval '1 day' END,
       now(), now()
FROM (VALUES (1, 1, 'ok'), (2, 1, 'ok'), (3, 1, 'ratelimit-1'), (4, 1, 'flaky-2'),
             (5, 1, 'flaky-9'), (6, 1, 'toolarge'), (7, 1, 'badjwt'), (8, 1, 'slow-200'),
             (9, 1, 'slow-3000'), (10, 1, 'reset'), (11, 1, 'resethdr-1'),
             (12, 1, 'garbage'), (13, 1, 'chunked'), (14, 1, 'chunkedraw'),
             (15, 1, 'garbage-1'), (16, 1, 'ok'), (17, 1, 'ratelimitdate-1'),
             (40, 1, 'bigbody'), (41, 1, 'untilclose'), (42, 1, 'continue'), (43, 1, 'ok'),
             (20, 2, 'gone'), (21, 2, 'notfound'), (22, 2, 'ok'),
             (30, 3, 'ok'), (31, 3, 'ok')) AS s(id, grp, scenario);
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},"payload":{"title":"faults","n":1},"ttl":600,"urgency":"high","topic":"order-42"}}}
--- error_code: 201
--- response_json
{"data":{"type":"push-notifications","id":"~^[0-9a-f-]{36}$",
 "attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},
   "payload":{"title":"faults","n":1},"ttl":600,"urgency":"high","topic":"order-42"},
 "links":{"self":"*"}}}

=== TEST 2: 404 and 410 expire the subscription at once, no retry; no options: TTL is webpush_message_ttl, no Urgency, no Topic
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"dead","identifier":"1"},"payload":{"title":"dead","n":2}}}}
--- error_code: 201
--- eventually: 10
--- sql
SELECT d.fk_push_notification_subscription, d.state, d.attempts, d.last_status,
       coalesce(d.last_error, '-'),
       s.expired_at <= now() AT TIME ZONE 'UTC'
FROM webpush_deliveries d
JOIN spy_push_notification_subscription s
  ON s.id_push_notification_subscription = d.fk_push_notification_subscription
WHERE s.fk_push_notification_group = 2 ORDER BY 1
--- sql_result
20|gone|1|410|410|t
21|gone|1|404|404|t
22|sent|1||-|f
--- check
cd $TEST_TOP/t/node
for p in gone/20 notfound/21; do
    node mock-push.js log $TEST_PORT_A --path /push/$p --fields path,status,error
done
node mock-push.js log $TEST_PORT_A --path /push/ok/22 --fields status,ttl,urgency,topic,ce,payload \
    | awk '{ $2 = ($2 >= 3590 && $2 <= 3600) ? "TTL~3600" : "TTL=" $2; print }'
--- check_result
/push/gone/20 410 -
/push/notfound/21 404 -
201 TTL~3600 - - aes128gcm {"title":"dead","n":2}

=== TEST 3: aes128gcm on the wire: TTL, Urgency, Topic, Content-Type, "vapid t=, k=" with our key, JWT for the origin, a body that decrypts
--- eventually: 5
--- check
cd $TEST_TOP/t/node
node mock-push.js log $TEST_PORT_A --path /push/ok/1 \
    --fields status,ttl,urgency,topic,ce,ct,auth,k,aud,sub,exp_in,h:crypto-key,h:encryption,payload,error \
    | sed -e "s|$TEST_VAPID_PUBLIC_KEY|OUR-KEY|" -e "s|:$TEST_PORT_A|:PORT|" \
    | awk '{ $2 = ($2 >= 590 && $2 <= 600) ? "TTL~600" : "TTL=" $2;
             $11 = ($11 > 39600 && $11 <= 43201) ? "exp~12h" : "exp=" $11; print }'
--- check_result
201 TTL~600 high order-42 aes128gcm application/octet-stream vapid OUR-KEY http://127.0.0.1:PORT mailto:ops@example.com exp~12h - - {"title":"faults","n":1} -

=== TEST 4: aesgcm on the wire: "WebPush <JWT>", Crypto-Key dh and p256ecdsa, Encryption salt
--- eventually: 5
--- check
cd $TEST_TOP/t/node
node mock-push.js log $TEST_PORT_A --path /push/ok/2 \
    --fields status,ttl,urgency,topic,ce,ct,auth,k,aud,sub,exp_in,payload,error \
    | sed -e "s|$TEST_VAPID_PUBLIC_KEY|OUR-KEY|" -e "s|:$TEST_PORT_A|:PORT|" \
    | awk '{ $2 = ($2 >= 590 && $2 <= 600) ? "TTL~600" : "TTL=" $2;
             $11 = ($11 > 39600 && $11 <= 43201) ? "exp~12h" : "exp=" $11; print }'
node mock-push.js log $TEST_PORT_A --path /push/ok/2 --fields h:crypto-key,h:encryption \
    | sed -E -e "s|p256ecdsa=$TEST_VAPID_PUBLIC_KEY|p256ecdsa=OUR-KEY|" \
             -e 's/dh=B[A-Za-z0-9_-]{86};/dh=DH;/' -e 's/salt=[A-Za-z0-9_-]{22}$/salt=SALT/'
--- check_result
201 TTL~600 high order-42 aesgcm application/octet-stream WebPush OUR-KEY http://127.0.0.1:PORT mailto:ops@example.com exp~12h {"title":"faults","n":1} -
dh=DH;p256ecdsa=OUR-KEY salt=SALT

=== TEST 5: 429 with Retry-After: 1: sent again no sooner than 1 s later, with a TTL shrunk by the wait
--- eventually: 8
--- sql
SELECT state, attempts, last_status, coalesce(last_error, '-') FROM webpush_deliveries
WHERE fk_push_notification_subscription = 3
--- sql_result
sent|2|201|-
--- check
cd $TEST_TOP/t/node
node mock-push.js log $TEST_PORT_A --path /push/ratelimit-1/3 --fields status,gap,ttl \
    | awk 'NR == 1 { ttl = $3 }
           { print $1, NR == 1 ? $2 : ($2 >= 1000 && $2 < 2500) ? "1-2.5s later" : $2 " ms later" }
           END { print (NR == 2 && $3 < ttl) ? "TTL shrank" : "TTL did not shrink" }'
--- check_result
429 0
201 1-2.5s later
TTL shrank

=== TEST 6: 429 with Retry-After as an HTTP-date 4 s ahead: not sent again before that date
--- eventually: 10
--- sql
SELECT state, attempts, last_status, coalesce(last_error, '-') FROM webpush_deliveries
WHERE fk_push_notification_subscription = 17
--- sql_result
sent|2|201|-
--- check
cd $TEST_TOP/t/node
node mock-push.js log $TEST_PORT_A --path /push/ratelimitdate-1/17 --fields status,gap \
    | awk '{ print $1, NR == 1 ? $2 : ($2 >= 3000 && $2 < 5500) ? "3-5.5s later" : $2 " ms later" }'
--- check_result
429 0
201 3-5.5s later

=== TEST 7: 500, 503, then 201: sent on the third attempt
--- eventually: 10
--- sql
SELECT state, attempts, last_status, coalesce(last_error, '-') FROM webpush_deliveries
WHERE fk_push_notification_subscription = 4
--- sql_result
sent|3|201|-
--- check
cd $TEST_TOP/t/node
node mock-push.js log $TEST_PORT_A --path /push/flaky-2/4 --fields status,error
--- check_result
500 -
503 -
201 -

=== TEST 8: server errors beyond webpush_max_attempts: failed after exactly 3 attempts
--- eventually: 10
--- sql
SELECT state, attempts, last_status, last_error FROM webpush_deliveries
WHERE fk_push_notification_subscription = 5
--- sql_result
failed|3|500|500
--- check
cd $TEST_TOP/t/node
node mock-push.js log $TEST_PORT_A --path /push/flaky-9/5 --fields status
for m in "500, server error" "503, server error" "500, attempts exhausted"; do
    echo "$m": $(grep -c "webpush: delivery [0-9/]* to http://127.0.0.1:$TEST_PORT_A/push/flaky-9/5: $m" $TEST_NGINX_SERVROOT/logs/error.log)
done
--- check_result
500
503
500
500, server error: 1
503, server error: 1
500, attempts exhausted: 1

=== TEST 9: 413 and 403 fail at once, never retried
--- eventually: 5
--- sql
SELECT fk_push_notification_subscription, state, attempts, last_status, last_error FROM webpush_deliveries
WHERE fk_push_notification_subscription IN (6, 7) ORDER BY 1
--- sql_result
6|failed|1|413|413
7|failed|1|403|403 (BadJwtToken)
--- check
cd $TEST_TOP/t/node
node mock-push.js log $TEST_PORT_A --path /push/toolarge/6 --fields status,error
node mock-push.js log $TEST_PORT_A --path /push/badjwt/7 --fields status,error
--- check_result
413 -
403 -

=== TEST 10: slower than webpush_timeout: every attempt given up after 1 s, failed after 3; a slow answer within it is sent
--- eventually: 15
--- sql
SELECT fk_push_notification_subscription, state, attempts, last_status,
       replace(coalesce(last_error, '-'), ':$TEST_PORT_A', ':PORT')
FROM webpush_deliveries
WHERE fk_push_notification_subscription IN (8, 9) ORDER BY 1
--- sql_result
8|sent|1||-
9|failed|3|0|no answer: timed out (reading the response from 127.0.0.1:PORT)
--- check
cd $TEST_TOP/t/node
node mock-push.js log $TEST_PORT_A --path /push/slow-3000/9 --fields status,closed \
    | awk '{ $2 = ($2 >= 700 && $2 < 1500) ? "given up after ~1s" : "closed after " $2 " ms"; print }'
node mock-push.js log $TEST_PORT_A --path /push/slow-200/8 --fields status,closed
--- check_result
- given up after ~1s
- given up after ~1s
- given up after ~1s
201 -

=== TEST 11: a connection reset mid status line or mid headers, garbage instead of HTTP, a refused connection: retried
--- eventually: 15
--- sql
SELECT fk_push_notification_subscription, state, attempts, last_status,
       regexp_replace(replace(coalesce(last_error, '-'), ':$TEST_PORT_A', ':PORT'),
                      'recv\(\) from 127.0.0.1:PORT failed \(104: Connection reset by peer\)|connection closed prematurely by 127.0.0.1:PORT while reading the response',
                      'RESET')
FROM webpush_deliveries
WHERE fk_push_notification_subscription IN (10, 11, 12, 15) ORDER BY 1;
SELECT state, attempts, last_status, replace(last_error, ':$TEST_PORT_C', ':PORT_C')
FROM webpush_deliveries WHERE fk_push_notification_subscription = 43
--- sql_result
10|failed|3|0|no answer: RESET
11|sent|2|201|-
12|failed|3|0|no answer: malformed response: invalid status line
15|sent|2|201|-
failed|3|0|no answer: connect() to 127.0.0.1:PORT_C failed (111: Connection refused)
--- check
cd $TEST_TOP/t/node
for p in reset/10 resethdr-1/11 garbage/12 garbage-1/15; do
    echo $p $(node mock-push.js log $TEST_PORT_A --path /push/$p --fields status)
done
--- check_result
reset/10 reset reset reset
resethdr-1/11 resethdr 201
garbage/12 garbage garbage garbage
garbage-1/15 garbage 201

=== TEST 12: bodies: chunked (delays between chunks, extensions, trailers), 200 kB, until close; a 100 Continue first: all sent
--- eventually: 5
--- sql
SELECT fk_push_notification_subscription, state, attempts, last_status, coalesce(last_error, '-')
FROM webpush_deliveries
WHERE fk_push_notification_subscription IN (13, 14, 40, 41, 42) ORDER BY 1
--- sql_result
13|sent|1||-
14|sent|1||-
40|sent|1||-
41|sent|1||-
42|sent|1||-
--- check
cd $TEST_TOP/t/node
for p in chunked/13 chunkedraw/14 bigbody/40 untilclose/41 continue/42; do
    node mock-push.js log $TEST_PORT_A --path /push/$p --fields path,status,error
done
--- check_result
/push/chunked/13 201 -
/push/chunkedraw/14 201 -
/push/bigbody/40 201 -
/push/untilclose/41 201 -
/push/continue/42 201 -

=== TEST 13: a payload of the largest size allowed (3052 bytes) fits a push service's 4096-byte limit, both encodings
--- request eval
"POST /api/push-notifications\n"
. '{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"big","identifier":"1"},"payload":{"d":"'
. ('x' x 3044) . '"}}}}'
--- error_code: 201
--- eventually: 10
--- check
cd $TEST_TOP/t/node
for p in ok/30 ok/31; do
    node mock-push.js log $TEST_PORT_A --path /push/$p --fields status,ce,len,error,payload \
        | awk '{ print $1, $2, $3, $4, length($5) }'
done
--- check_result
201 aes128gcm 3155 - 3052
201 aesgcm 3070 - 3052

=== TEST 14: every delivery in its final state; the expired subscription was no target
--- eventually: 15
--- sql
SELECT d.fk_push_notification_subscription, d.state, d.attempts, d.last_status
FROM webpush_deliveries d ORDER BY 1
--- sql_result
1|sent|1|
2|sent|1|
3|sent|2|201
4|sent|3|201
5|failed|3|500
6|failed|1|413
7|failed|1|403
8|sent|1|
9|failed|3|0
10|failed|3|0
11|sent|2|201
12|failed|3|0
13|sent|1|
14|sent|1|
15|sent|2|201
17|sent|2|201
20|gone|1|410
21|gone|1|404
22|sent|1|
30|sent|1|
31|sent|1|
40|sent|1|
41|sent|1|
42|sent|1|
43|failed|3|0
--- check
cd $TEST_TOP/t/node
node mock-push.js log $TEST_PORT_A --fields path,error | sort | uniq -c | awk '{ print $2, $1, $3 }'
--- check_result
/push/badjwt/7 1 -
/push/bigbody/40 1 -
/push/chunked/13 1 -
/push/chunkedraw/14 1 -
/push/continue/42 1 -
/push/flaky-2/4 3 -
/push/flaky-9/5 3 -
/push/garbage-1/15 2 -
/push/garbage/12 3 -
/push/gone/20 1 -
/push/notfound/21 1 -
/push/ok/1 1 -
/push/ok/2 1 -
/push/ok/22 1 -
/push/ok/30 1 -
/push/ok/31 1 -
/push/ratelimit-1/3 2 -
/push/ratelimitdate-1/17 2 -
/push/reset/10 3 -
/push/resethdr-1/11 2 -
/push/slow-200/8 1 -
/push/slow-3000/9 3 -
/push/toolarge/6 1 -
/push/untilclose/41 1 -

=== TEST 15: the counts of the notification match the delivery states
--- init_sql
UPDATE spy_push_notification SET uuid = 'd0000000-0000-4000-8000-000000000001'
WHERE fk_push_notification_group = 1;
--- request
GET /api/push-notifications/d0000000-0000-4000-8000-000000000001
--- error_code: 200
--- response_json
{"data":{"type":"push-notifications","id":"d0000000-0000-4000-8000-000000000001",
 "attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},
   "payload":{"title":"faults","n":1},"ttl":600,"urgency":"high","topic":"order-42",
   "delivery":{"targeted":20,"sent":13,"pending":0,"failed":7,"gone":0,"cancelled":0},
   "state":"done",
   "engagement":{"shown":0,"clicked":0,"closed":0}},
 "links":{"self":"*"}}}

=== TEST 16: the dead group's counts
--- init_sql
UPDATE spy_push_notification SET uuid = 'd0000000-0000-4000-8000-000000000002'
WHERE fk_push_notification_group = 2;
--- request
GET /api/push-notifications/d0000000-0000-4000-8000-000000000002
--- error_code: 200
--- response_json
{"data":{"type":"push-notifications","id":"d0000000-0000-4000-8000-000000000002",
 "attributes":{"providerName":"web-push-php","group":{"name":"dead","identifier":"1"},
   "payload":{"title":"dead","n":2},"ttl":3600,"urgency":null,"topic":null,
   "delivery":{"targeted":3,"sent":1,"pending":0,"failed":0,"gone":2,"cancelled":0},
   "state":"done",
   "engagement":{"shown":0,"clicked":0,"closed":0}},
 "links":{"self":"*"}}}

=== TEST 17: the next notification to that group skips the gone subscriptions
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"dead","identifier":"1"},"payload":{"title":"dead","n":3}}}}
--- error_code: 201
--- eventually: 10
--- sql
SELECT d.fk_push_notification_subscription, d.state, d.attempts FROM webpush_deliveries d
WHERE d.fk_push_notification = (SELECT max(id_push_notification) FROM spy_push_notification)
--- sql_result
22|sent|1
--- check
cd $TEST_TOP/t/node
for p in gone/20 notfound/21 ok/22; do
    echo $p $(node mock-push.js log $TEST_PORT_A --path /push/$p --fields payload)
done
--- check_result
gone/20 {"title":"dead","n":2}
notfound/21 {"title":"dead","n":2}
ok/22 {"title":"dead","n":2} {"title":"dead","n":3}

=== TEST 18: after all of the above, no secret is in the error log
--- request
GET /api/push-notifications/x
--- error_code: 404
--- check
log=$TEST_NGINX_SERVROOT/logs/error.log
grep -c 'webpush: delivery' $log | sed 's/^[1-9][0-9]*$/failures logged/'
# the subscriptions' auth secret, the VAPID private key's PEM lines
grep -c -F -e BTBZMqHH6r4Tts7J -e 'PRIVATE KEY' \
    -f <(grep -v -- ----- $TEST_VAPID_KEY) $log || true
--- check_result
failures logged
0
