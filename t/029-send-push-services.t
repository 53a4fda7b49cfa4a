# What push services and networks really answer (issue 12 §5, §6).
#
# §5: an endpoint whose name does not exist (NXDOMAIN from the stub DNS)
# or whose port refuses connections fails; after webpush_max_attempts (3)
# notifications in a row that failed so, its subscription expires like a
# 404/410.  Any HTTP answer starts the count again.
# §6: WNS throttling (406 + Retry-After) is retried like 429; autopush 503
# with errno 202 is retried at once, errno 201 after a backoff; Apple and
# FCM 403s fail, their reason stored and logged once per origin a minute.
#
# Subscriptions (RFC 8291 Appendix A keys), group "main":
#   1 ok                       2 http://nowhere.webpush.test (NXDOMAIN)
#   3 a port nobody listens on 4 ok
# group "services": 10 throttle-1, 11 busynow-2, 12 busy-1,
#   13 pkmismatch, 14 badjwt, 15 fcmdenied, 16 pkmismatch

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;

defaults(
    http_config => <<'EOC',
resolver 127.0.0.1:$TEST_PORT_B ipv6=off valid=1s;
resolver_timeout 2s;
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_push_hosts http://127.0.0.1:$TEST_PORT_A http://127.0.0.1:$TEST_PORT_C
                   http://nowhere.webpush.test:$TEST_PORT_A;
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

=== TEST 1: the first notification
--- shell
node $TEST_TOP/t/node/mock-push.js --port $TEST_PORT_A --pidfile $TEST_NGINX_SERVROOT/pids/mock.pid
: > $TEST_NGINX_SERVROOT/hosts
$TEST_TOP/t/bin/dns-stub $TEST_PORT_B $TEST_NGINX_SERVROOT/hosts > $TEST_NGINX_SERVROOT/pids/dns.pid
--- init_sql
INSERT INTO spy_push_notification_provider VALUES (1, '00000000-0000-4000-8000-000000000001', 'web-push-php', now(), now());
INSERT INTO spy_push_notification_group VALUES
    (1, 'c0000000-0000-4000-8000-000000000001', 'main', '1', now(), now()),
    (2, 'c0000000-0000-4000-8000-000000000002', 'services', '1', now(), now());
INSERT INTO spy_push_notification_subscription
SELECT id, 'a0000000-0000-4000-8000-' || lpad(id::text, 12, '0'), grp, 1, NULL,
       '{"endpoint":"http://' || host || '/push/' || scenario || '/' || id
       || '","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}',
       md5(id::text), now() AT TIME ZONE 'UTC' + interval '1 day', now(), now()
FROM (VALUES (1, 1, 'ok', '127.0.0.1:$TEST_PORT_A'),
             (2, 1, 'ok', 'nowhere.webpush.test:$TEST_PORT_A'),
             (3, 1, 'ok', '127.0.0.1:$TEST_PORT_C'),
             (4, 1, 'ok', '127.0.0.1:$TEST_PORT_A'),
             (10, 2, 'throttle-1', '127.0.0.1:$TEST_PORT_A'),
             (11, 2, 'busynow-2', '127.0.0.1:$TEST_PORT_A'),
             (12, 2, 'busy-1', '127.0.0.1:$TEST_PORT_A'),
             (13, 2, 'pkmismatch', '127.0.0.1:$TEST_PORT_A'),
             (14, 2, 'badjwt', '127.0.0.1:$TEST_PORT_A'),
             (15, 2, 'fcmdenied', '127.0.0.1:$TEST_PORT_A'),
             (16, 2, 'pkmismatch', '127.0.0.1:$TEST_PORT_A'))
     AS s(id, grp, scenario, host);
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},"payload":{"n":1}}}}
--- error_code: 201
--- eventually: 15
--- sql
SELECT d.fk_push_notification_subscription, d.state, d.attempts,
       regexp_replace(coalesce(d.last_error, '-'), ':[0-9]+', ':PORT'),
       coalesce(st.unreachable_count, 0), s.expired_at <= now() AT TIME ZONE 'UTC'
FROM webpush_deliveries d
JOIN spy_push_notification_subscription s
  ON s.id_push_notification_subscription = d.fk_push_notification_subscription
LEFT JOIN webpush_subscription_state st
  ON st.fk_push_notification_subscription = d.fk_push_notification_subscription
ORDER BY 1
--- sql_result
1|sent|1|-|0|f
2|failed|3|no answer: resolver error: Host not found (nowhere.webpush.test)|1|f
3|failed|3|no answer: connect() to 127.0.0.1:PORT failed (111: Connection refused)|1|f
4|sent|1|-|0|f

=== TEST 2: the second notification: counted again, not expired yet
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},"payload":{"n":2}}}}
--- error_code: 201
--- eventually: 15
--- sql
SELECT s.id_push_notification_subscription, coalesce(st.unreachable_count, 0),
       s.expired_at <= now() AT TIME ZONE 'UTC'
FROM spy_push_notification_subscription s
LEFT JOIN webpush_subscription_state st
  ON st.fk_push_notification_subscription = s.id_push_notification_subscription
WHERE s.fk_push_notification_group = 1 ORDER BY 1
--- sql_result
1|0|f
2|2|f
3|2|f
4|0|f

=== TEST 3: the third in a row expires both subscriptions
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},"payload":{"n":3}}}}
--- error_code: 201
--- eventually: 15
--- sql
SELECT s.id_push_notification_subscription, coalesce(st.unreachable_count, 0),
       s.expired_at <= now() AT TIME ZONE 'UTC'
FROM spy_push_notification_subscription s
LEFT JOIN webpush_subscription_state st
  ON st.fk_push_notification_subscription = s.id_push_notification_subscription
WHERE s.fk_push_notification_group = 1 ORDER BY 1
--- sql_result
1|0|f
2|3|t
3|3|t
4|0|f

=== TEST 4: the next notification is not sent to them
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},"payload":{"n":4}}}}
--- error_code: 201
--- eventually: 10
--- sql
SELECT d.fk_push_notification_subscription, d.state FROM webpush_deliveries d
WHERE d.fk_push_notification = (SELECT max(id_push_notification) FROM spy_push_notification)
ORDER BY 1
--- sql_result
1|sent
4|sent

=== TEST 5: WNS 406 and autopush 503: retried; 403s from Apple and FCM: failed with their reason
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"services","identifier":"1"},"payload":{"n":5}}}}
--- error_code: 201
--- eventually: 15
--- sql
SELECT fk_push_notification_subscription, state, attempts, last_status,
       coalesce(last_error, '-')
FROM webpush_deliveries WHERE fk_push_notification_subscription >= 10 ORDER BY 1
--- sql_result
10|sent|2|201|-
11|sent|3|201|-
12|sent|2|201|-
13|failed|1|403|403 (VapidPkHashMismatch)
14|failed|1|403|403 (BadJwtToken)
15|failed|1|403|403 (the key in the authorization header does not correspond to the sender ID used to subscribe this user)
16|failed|1|403|403 (VapidPkHashMismatch)

=== TEST 6: 406 waited for its Retry-After; errno 202 was retried at once
--- check
cd $TEST_TOP/t/node
node mock-push.js log $TEST_PORT_A --path /push/throttle-1/10 --fields status,gap \
    | awk '{ print $1, NR == 1 ? $2 : ($2 >= 1000 && $2 < 2500) ? "1-2.5s later" : $2 " ms later" }'
node mock-push.js log $TEST_PORT_A --path /push/busynow-2/11 --fields status,gap \
    | awk '{ print $1, NR == 1 ? $2 : ($2 < 300) ? "at once" : $2 " ms later" }'
--- check_result
406 0
201 1-2.5s later
503 0
503 at once
201 at once

=== TEST 7: the four 403s from one origin were logged once (per worker: two at most)
--- check
log=$TEST_NGINX_SERVROOT/logs/error.log
n=$(grep -c "\[notice\].*webpush: delivery [0-9/]* to http://127.0.0.1:$TEST_PORT_A/push/[a-z]*/1[3-6]: 403 (.*), credentials refused; [0-9]* more refusals from http://127.0.0.1:$TEST_PORT_A in the last minute (logged once a minute)" $log)
[ $n -ge 1 -a $n -le 2 ] && echo "logged once a minute" || echo "logged $n times"
--- check_result
logged once a minute
