# The SSRF guard after DNS (src/push/address_policy.hpp): a host name the
# allow-list accepts may resolve to anything, so the sender refuses to
# connect to addresses that are not globally reachable (loopback, private,
# link-local such as 169.254.169.254, ...) unless a webpush_push_hosts
# pattern names that IP literal for the same scheme and port.
#
# The stub DNS server (t/bin/dns-stub) answers from a hosts file; two mock
# push services listen on 127.0.0.1: port A, which no literal pattern
# names (reachable only through the rebinding names: must get nothing),
# and port C, named by "http://127.0.0.1:$TEST_PORT_C" (the way the other
# tests reach their mocks: must keep working, by literal and by a name
# resolving to it).
#
# A refused delivery is a permanent failure (PushResponse::permanent): the
# sender does not try it again, although webpush_max_attempts is 2.

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
webpush_push_hosts http://*.rebind.test:$TEST_PORT_A
                   http://*.named.test:$TEST_PORT_C
                   http://*.named.test:$TEST_PORT_A
                   http://127.0.0.1:$TEST_PORT_C;
webpush_timeout 1s;
webpush_max_attempts 2;
resolver 127.0.0.1:$TEST_PORT_B ipv6=off valid=30s;
resolver_timeout 1s;
EOC
    config => <<'EOC',
location /api/push-notifications { webpush_notifications; }
EOC
);

run_tests();

__DATA__

=== TEST 1: names resolving to loopback, link-local and private addresses are refused; the literal pattern still works
--- shell
cat > $TEST_NGINX_SERVROOT/hosts <<EOF
a.rebind.test 127.0.0.1
meta.rebind.test 169.254.169.254
lan.rebind.test 10.0.0.1 192.168.1.1
x.named.test 127.0.0.1
EOF
$TEST_TOP/t/bin/dns-stub $TEST_PORT_B $TEST_NGINX_SERVROOT/hosts \
    > $TEST_NGINX_SERVROOT/pids/dns.pid
node $TEST_TOP/t/node/mock-push.js --port $TEST_PORT_A --pidfile $TEST_NGINX_SERVROOT/pids/mock.pid
node $TEST_TOP/t/node/mock-push.js --port $TEST_PORT_C --pidfile $TEST_NGINX_SERVROOT/pids/mockc.pid
--- init_sql
INSERT INTO spy_push_notification_provider VALUES (1, '00000000-0000-4000-8000-000000000001', 'web-push-php', now(), now());
INSERT INTO spy_push_notification_group VALUES
    (1, 'c0000000-0000-4000-8000-000000000001', 'ssrf', NULL, now(), now()),
    (2, 'c0000000-0000-4000-8000-000000000002', 'cached', NULL, now(), now());
INSERT INTO spy_push_notification_subscription
    SELECT id, 'a0000000-0000-4000-8000-00000000000' || id, grp, 1, NULL,
           '{"endpoint":"' || endpoint || '","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}',
           md5(endpoint), now() + interval '1 day', now(), now()
    FROM (VALUES (1, 1, 'http://a.rebind.test:$TEST_PORT_A/push/ok/1'),
                 (2, 1, 'http://meta.rebind.test:$TEST_PORT_A/push/ok/2'),
                 (3, 1, 'http://lan.rebind.test:$TEST_PORT_A/push/ok/3'),
                 (4, 1, 'http://127.0.0.1:$TEST_PORT_C/push/ok/4'),
                 (5, 1, 'http://x.named.test:$TEST_PORT_C/push/ok/5'),
                 (6, 2, 'http://x.named.test:$TEST_PORT_A/push/ok/6'))
         v(id, grp, endpoint);
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"ssrf"},"payload":{"n":1}}}}
--- error_code: 201
--- eventually: 20
--- sql
SELECT fk_push_notification_subscription, state, attempts, last_status,
       coalesce(last_error, '')
FROM webpush_deliveries ORDER BY 1
--- sql_result
1|failed|1|0|no answer: address refused: "a.rebind.test" resolved to 127.0.0.1, loopback (127.0.0.0/8), which is not globally reachable
2|failed|1|0|no answer: address refused: "meta.rebind.test" resolved to 169.254.169.254, link-local (169.254.0.0/16), which is not globally reachable
3|failed|1|0|no answer: address refused: "lan.rebind.test" resolved to 10.0.0.1, private-use (10.0.0.0/8), which is not globally reachable (and 1 more address refused too)
4|sent|1||
5|sent|1||
--- check
# the mock on port A got nothing; the one named by the literal got both
node $TEST_TOP/t/node/mock-push.js log $TEST_PORT_A --fields path | wc -l
node $TEST_TOP/t/node/mock-push.js log $TEST_PORT_C --fields path,status | sort
grep -c 'webpush: not connecting to 127.0.0.1 for push service host "a.rebind.test": loopback (127.0.0.0/8) is not globally reachable' \
    $TEST_NGINX_SERVROOT/logs/error.log | sed 's/^[1-9][0-9]*$/logged/'
grep -c 'not connecting to 169.254.169.254 for push service host "meta.rebind.test"' \
    $TEST_NGINX_SERVROOT/logs/error.log | sed 's/^[1-9][0-9]*$/logged/'
grep -c 'not connecting to 192.168.1.1 for push service host "lan.rebind.test": private-use (192.168.0.0/16)' \
    $TEST_NGINX_SERVROOT/logs/error.log | sed 's/^[1-9][0-9]*$/logged/'
grep -c 'delivery [0-9/]* to http://a.rebind.test:[0-9]*/push/ok/1: no answer: address refused' \
    $TEST_NGINX_SERVROOT/logs/error.log | sed 's/^[1-9][0-9]*$/logged/'
--- check_result
0
/push/ok/4 201
/push/ok/5 201
logged
logged
logged
logged

=== TEST 2: a cached name is checked again: the same 127.0.0.1 on a port no pattern names for it
--- shell
# gone from DNS: only the worker's name cache (valid=30s) still knows it
sed -i '/^x.named.test /d' $TEST_NGINX_SERVROOT/hosts
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"cached"},"payload":{"n":2}}}}
--- error_code: 201
--- eventually: 20
--- sql
-- either worker may send it: one has the name cached (refused), the
-- other asks DNS, which no longer knows it
SELECT state, last_status,
       last_error = 'no answer: address refused: "x.named.test" resolved to '
                    '127.0.0.1, loopback (127.0.0.0/8), which is not '
                    'globally reachable'
       OR last_error LIKE 'no answer: resolver error: Host not found%'
FROM webpush_deliveries WHERE fk_push_notification_subscription = 6
--- sql_result
failed|0|t
--- check
node $TEST_TOP/t/node/mock-push.js log $TEST_PORT_A --fields path | wc -l
--- check_result
0
