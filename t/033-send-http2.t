# HTTP/2 to push services (issue 13): the module against
# t/node/mock-push-h2.js (TLS with a test CA, ALPN h2 and http/1.1,
# --decrypt: every push body is decrypted with the RFC 8291 Appendix A
# keys the subscriptions below carry, and recorded per path).
#
#   port  mock options                    group (ids)        endpoints
#   A     --delay 50                      fanout (1-300)     /push/fanout/ID
#                                         codes (401-404)    notfound, gone,
#                                                            ratelimit-1, ok
#                                         off (501-550)      /push/off/ID
#                                         ca (601)           /push/ca/601
#   B     --delay 20 --goaway-after 10    goaway (1001-1200) /push/goaway/ID
#   C     --refuse-every 7                refuse (2001-2100) /push/refuse/ID
#   D     --delay 50 --max-streams 10     streams (3001-3200) /push/streams/ID
#   E     --no-h2                         noh2 (4001-4050)   /push/noh2/ID
#   F     (the mock's own test: push-client.js, no nginx involved)
#
# Every third subscription asks for aesgcm, the others aes128gcm.  Each
# notification has its own payload, which every delivery must decrypt to.
# "Each path once" is counted from the mock's records: a path answered 201
# twice was delivered twice.  A stream the mock resets REFUSED_STREAM, or
# one above the last stream id of a GOAWAY, was not processed: sending it
# again must not use an attempt, so every delivery row of a group that
# only met those shows attempts 1.
#
# TESTS 1-7 run with webpush_http2 on against the right CA; 8 and 9 trust
# another CA (h2 on, then off: refused alike); 10 turns HTTP/2 off
# against the h2-capable mock.  Delivery is asynchronous: the checks poll
# (--- eventually) with generous limits, for a busy machine.  The mock's
# records of each case stay in $TEST_NGINX_SERVROOT/CASE.json
# (TEST_NGINX_LEAVE=1 keeps them) for a look when a case fails.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;

vars(
    TEST_H2_HOSTS => '127.0.0.1:$TEST_PORT_A 127.0.0.1:$TEST_PORT_B '
                     . '127.0.0.1:$TEST_PORT_C 127.0.0.1:$TEST_PORT_D '
                     . '127.0.0.1:$TEST_PORT_E',
    # mock-push-h2.js
    TEST_MOCK => 'node $TEST_TOP/t/node/mock-push-h2.js',
    # the notification's rows by state, attempts and status:
    # "state|attempts|last_status|count" lines
    TEST_ROWS_OF => q{SELECT d.state, d.attempts, d.last_status, count(*)
FROM webpush_deliveries d
JOIN spy_push_notification n ON n.id_push_notification = d.fk_push_notification
WHERE n.payload = },
);

defaults(
    http_config => <<'EOC',
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_push_hosts $TEST_H2_HOSTS;
webpush_ssl_trusted_certificate $TEST_NGINX_SERVROOT/tls/ca.pem;
webpush_timeout 5s;
webpush_max_attempts 3;
webpush_http2 on;
EOC
    config => <<'EOC',
location /api/push-notifications { webpush_notifications; }
location = /ping { return 200 "pong\n"; }
EOC
);

run_tests();

__DATA__

=== TEST 1: the mock push services; the mock itself decrypts aes128gcm and aesgcm over h2 and HTTP/1.1, and tells a body that does not decrypt
--- shell
$TEST_TOP/t/bin/test-ca $TEST_NGINX_SERVROOT/tls
cd $TEST_NGINX_SERVROOT/tls
m="node $TEST_TOP/t/node/mock-push-h2.js --tls server.pem,server.key --decrypt"
p=$TEST_NGINX_SERVROOT/pids
$m --port $TEST_PORT_A --delay 50 --pidfile $p/mock-a.pid
$m --port $TEST_PORT_B --delay 20 --goaway-after 10 --pidfile $p/mock-b.pid
$m --port $TEST_PORT_C --refuse-every 7 --pidfile $p/mock-c.pid
$m --port $TEST_PORT_D --delay 50 --max-streams 10 --pidfile $p/mock-d.pid
$m --port $TEST_PORT_E --no-h2 --pidfile $p/mock-e.pid
$m --port $TEST_PORT_F --pidfile $p/mock-f.pid
--- init_sql
INSERT INTO spy_push_notification_provider VALUES (1, '00000000-0000-4000-8000-000000000001', 'web-push-php', now(), now());
INSERT INTO spy_push_notification_group VALUES
    (1, NULL, 'fanout', '1', now(), now()), (2, NULL, 'codes', '1', now(), now()),
    (3, NULL, 'off', '1', now(), now()), (4, NULL, 'ca', '1', now(), now()),
    (5, NULL, 'goaway', '1', now(), now()), (6, NULL, 'refuse', '1', now(), now()),
    (7, NULL, 'streams', '1', now(), now()), (8, NULL, 'noh2', '1', now(), now());
INSERT INTO spy_push_notification_subscription
SELECT id, NULL, grp, 1, NULL,
       '{"endpoint":"https://127.0.0.1:' || port || '/push/' || scenario || '/' || id
       || '","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}'
       || CASE WHEN id % 3 = 0 THEN ',"contentEncoding":"aesgcm"' ELSE '' END || '}',
       md5(id::text), now() AT TIME ZONE 'UTC' + interval '1 day', now(), now()
FROM (SELECT i, 1, 'fanout', $TEST_PORT_A FROM generate_series(1, 300) i
      UNION ALL VALUES (401, 2, 'notfound', $TEST_PORT_A), (402, 2, 'gone', $TEST_PORT_A),
                       (403, 2, 'ratelimit-1', $TEST_PORT_A), (404, 2, 'ok', $TEST_PORT_A)
      UNION ALL SELECT i, 3, 'off', $TEST_PORT_A FROM generate_series(501, 550) i
      UNION ALL VALUES (601, 4, 'ca', $TEST_PORT_A)
      UNION ALL SELECT i, 5, 'goaway', $TEST_PORT_B FROM generate_series(1001, 1200) i
      UNION ALL SELECT i, 6, 'refuse', $TEST_PORT_C FROM generate_series(2001, 2100) i
      UNION ALL SELECT i, 7, 'streams', $TEST_PORT_D FROM generate_series(3001, 3200) i
      UNION ALL SELECT i, 8, 'noh2', $TEST_PORT_E FROM generate_series(4001, 4050) i)
     AS s(id, grp, scenario, port);
--- request
GET /ping
--- error_code: 200
--- check
cd $TEST_NGINX_SERVROOT/tls
c="node $TEST_TOP/t/node/push-client.js --ca ca.pem"
u=https://127.0.0.1:$TEST_PORT_F/push
$c $u/self/1 --payload '{"self":1}'
$c $u/self/2 --encoding aesgcm --payload '{"self":2}'
$c $u/self/3 --http1 --payload '{"self":3}'
$c $u/self/4 --http1 --encoding aesgcm --payload '{"self":4}'
$c $u/self/5 --encoding garbage
$c $u/gone/6
$TEST_MOCK log $TEST_PORT_F --fields path,n,proto,ce,status,plaintext
$TEST_MOCK stats $TEST_PORT_F --fields requests.h2,requests.http1,decrypted,undecryptable
psql "$TEST_PG_CONNINFO" -At -c "SELECT count(*) FROM spy_push_notification_subscription"
--- check_result
h2 201
h2 201
http1 201
http1 201
h2 400
h2 410
/push/self/1 1 h2 aes128gcm 201 {"self":1}
/push/self/2 1 h2 aesgcm 201 {"self":2}
/push/self/3 1 http1 aes128gcm 201 {"self":3}
/push/self/4 1 http1 aesgcm 201 {"self":4}
/push/self/5 1 h2 aes128gcm 400 -
/push/gone/6 1 h2 aes128gcm 410 {"hello":"push"}
requests.h2=4 requests.http1=2 decrypted=5 undecryptable=1
905

=== TEST 2: a fan-out of 300 over h2: every delivery decrypted, each path once, few connections
# mock A answers after 50 ms, so that many pushes are in flight at once:
# over h2 they share a few connections (at most 8 per worker, 2 workers)
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"fanout","identifier":"1"},"payload":{"case":"fanout"}}}}
--- error_code: 201
--- eventually: 90
--- sql
$TEST_ROWS_OF '{"case":"fanout"}' GROUP BY 1, 2, 3
--- sql_result
sent|1||300
--- check
$TEST_MOCK log $TEST_PORT_A > $TEST_NGINX_SERVROOT/fanout.json
$TEST_MOCK log $TEST_PORT_A --fields path,proto,status,ce,plaintext | grep '^/push/fanout/' > $TEST_NGINX_SERVROOT/fanout.log
echo "records $(wc -l < $TEST_NGINX_SERVROOT/fanout.log)"
echo "paths more than once $(cut -d' ' -f1 $TEST_NGINX_SERVROOT/fanout.log | sort | uniq -d | wc -l)"
cut -d' ' -f2- $TEST_NGINX_SERVROOT/fanout.log | sort | uniq -c | awk '{ $1 = $1; print }'
$TEST_MOCK stats $TEST_PORT_A --fields decrypted,undecryptable,requests.h2,requests.http1
$TEST_MOCK stats $TEST_PORT_A --fields connections.h2,peak_streams | tr '=' ' ' \
    | awk '{ print ($2 >= 1 && $2 <= 16) ? "h2 connections: at most 8 per worker" : "h2 connections: " $2;
             print ($4 > 1) ? "streams multiplexed" : "peak streams per connection: " $4 }'
--- check_result
records 300
paths more than once 0
200 h2 201 aes128gcm {"case":"fanout"}
100 h2 201 aesgcm {"case":"fanout"}
decrypted=300 undecryptable=0 requests.h2=300 requests.http1=0
h2 connections: at most 8 per worker
streams multiplexed

=== TEST 3: GOAWAY mid fan-out (after every 10th push on a connection): nothing lost, nothing answered twice, no attempt used
# mock B sends GOAWAY (last stream id: its 10th push) and closes once the
# streams below are answered; the streams the module opened above it
# (up to 1000 per worker are in flight) are never seen by the mock and
# must be sent again on another connection without using an attempt.
# A stream goes through many such GOAWAYs (20 connections for 200
# pushes): those do not count as refusals (at most 8), only the
# request's deadline bounds them.
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"goaway","identifier":"1"},"payload":{"case":"goaway"}}}}
--- error_code: 201
--- eventually: 90
--- sql
$TEST_ROWS_OF '{"case":"goaway"}' GROUP BY 1, 2, 3
--- sql_result
sent|1||200
--- check
$TEST_MOCK log $TEST_PORT_B > $TEST_NGINX_SERVROOT/goaway.json
$TEST_MOCK log $TEST_PORT_B --fields path,proto,status,plaintext > $TEST_NGINX_SERVROOT/goaway.log
grep ' 201 ' $TEST_NGINX_SERVROOT/goaway.log > $TEST_NGINX_SERVROOT/goaway-201.log || true
echo "answered $(wc -l < $TEST_NGINX_SERVROOT/goaway-201.log)"
echo "paths answered more than once $(cut -d' ' -f1 $TEST_NGINX_SERVROOT/goaway-201.log | sort | uniq -d | wc -l)"
cut -d' ' -f2- $TEST_NGINX_SERVROOT/goaway-201.log | sort | uniq -c | awk '{ $1 = $1; print }'
# streams above a GOAWAY's last id that reached the mock anyway were reset
# unprocessed ("refused"); nothing else: none left unanswered
echo "other records $(grep -v -e ' 201 ' -e ' refused ' $TEST_NGINX_SERVROOT/goaway.log | wc -l)"
$TEST_MOCK stats $TEST_PORT_B --fields decrypted,undecryptable,requests.http1 | sed 's/decrypted=[0-9]* //'
# one GOAWAY per connection that carried 10 pushes
$TEST_MOCK stats $TEST_PORT_B --fields goaways | tr '=' ' ' \
    | awk '{ print ($2 >= 1) ? "GOAWAY mid fan-out" : "goaways " $2 }'
--- check_result
answered 200
paths answered more than once 0
200 h2 201 {"case":"goaway"}
other records 0
undecryptable=0 requests.http1=0
GOAWAY mid fan-out

=== TEST 4: REFUSED_STREAM (every 7th stream): all delivered, each once, no attempt used
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"refuse","identifier":"1"},"payload":{"case":"refuse"}}}}
--- error_code: 201
--- eventually: 90
--- sql
$TEST_ROWS_OF '{"case":"refuse"}' GROUP BY 1, 2, 3
--- sql_result
sent|1||100
--- check
$TEST_MOCK log $TEST_PORT_C > $TEST_NGINX_SERVROOT/refuse.json
$TEST_MOCK log $TEST_PORT_C --fields path,proto,status,plaintext > $TEST_NGINX_SERVROOT/refuse.log
grep ' 201 ' $TEST_NGINX_SERVROOT/refuse.log > $TEST_NGINX_SERVROOT/refuse-201.log || true
echo "answered $(wc -l < $TEST_NGINX_SERVROOT/refuse-201.log)"
echo "paths answered more than once $(cut -d' ' -f1 $TEST_NGINX_SERVROOT/refuse-201.log | sort | uniq -d | wc -l)"
cut -d' ' -f2- $TEST_NGINX_SERVROOT/refuse-201.log | sort | uniq -c | awk '{ $1 = $1; print }'
# every 7th stream refused: at least 100 / 7 of them, and nothing else
r=$(grep -c ' refused ' $TEST_NGINX_SERVROOT/refuse.log || true)
[ "$r" -ge 14 ] && echo "refused streams sent again" || echo "refused $r"
echo "other records $(grep -v -e ' 201 ' -e ' refused ' $TEST_NGINX_SERVROOT/refuse.log | wc -l)"
$TEST_MOCK stats $TEST_PORT_C --fields undecryptable,requests.http1
--- check_result
answered 100
paths answered more than once 0
100 h2 201 {"case":"refuse"}
refused streams sent again
other records 0
undecryptable=0 requests.http1=0

=== TEST 5: SETTINGS_MAX_CONCURRENT_STREAMS 10 honoured: never more than 10 streams on a connection, all delivered
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"streams","identifier":"1"},"payload":{"case":"streams"}}}}
--- error_code: 201
--- eventually: 90
--- sql
$TEST_ROWS_OF '{"case":"streams"}' GROUP BY 1, 2, 3
--- sql_result
sent|1||200
--- check
$TEST_MOCK log $TEST_PORT_D > $TEST_NGINX_SERVROOT/streams.json
$TEST_MOCK log $TEST_PORT_D --fields path,proto,status,plaintext > $TEST_NGINX_SERVROOT/streams.log
echo "records $(wc -l < $TEST_NGINX_SERVROOT/streams.log)"
echo "paths more than once $(cut -d' ' -f1 $TEST_NGINX_SERVROOT/streams.log | sort | uniq -d | wc -l)"
cut -d' ' -f2- $TEST_NGINX_SERVROOT/streams.log | sort | uniq -c | awk '{ $1 = $1; print }'
# 10 streams at a time, 50 ms each, for up to 2 x 128 in flight: the
# module opens more connections than one per worker, at most 8 per worker
$TEST_MOCK stats $TEST_PORT_D --fields peak_streams,connections.h2 | tr '=' ' ' \
    | awk '{ print ($2 >= 1 && $2 <= 10) ? "at most 10 streams per connection" : "peak streams " $2;
             print ($4 > 2 && $4 <= 16) ? "h2 connections: more than 1, at most 8 per worker" : "h2 connections: " $4 }'
--- check_result
records 200
paths more than once 0
200 h2 201 {"case":"streams"}
at most 10 streams per connection
h2 connections: more than 1, at most 8 per worker

=== TEST 6: a push service without h2 (ALPN http/1.1 only): HTTP/1.1, all delivered
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"noh2","identifier":"1"},"payload":{"case":"noh2"}}}}
--- error_code: 201
--- eventually: 60
--- sql
$TEST_ROWS_OF '{"case":"noh2"}' GROUP BY 1, 2, 3
--- sql_result
sent|1||50
--- check
$TEST_MOCK log $TEST_PORT_E > $TEST_NGINX_SERVROOT/noh2.json
$TEST_MOCK log $TEST_PORT_E --fields path,proto,status,plaintext > $TEST_NGINX_SERVROOT/noh2.log
echo "paths more than once $(cut -d' ' -f1 $TEST_NGINX_SERVROOT/noh2.log | sort | uniq -d | wc -l)"
cut -d' ' -f2- $TEST_NGINX_SERVROOT/noh2.log | sort | uniq -c | awk '{ $1 = $1; print }'
$TEST_MOCK stats $TEST_PORT_E --fields requests.h2,requests.http1,handshakes.h2,undecryptable
--- check_result
paths more than once 0
50 http1 201 {"case":"noh2"}
requests.h2=0 requests.http1=50 handshakes.h2=0 undecryptable=0

=== TEST 7: 404 and 410 over h2 expire the subscription; 429 with Retry-After: 1 is retried after it, then delivered
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"codes","identifier":"1"},"payload":{"case":"codes"}}}}
--- error_code: 201
--- eventually: 60
--- sql
SELECT d.fk_push_notification_subscription, d.state, d.attempts, d.last_status,
       s.expired_at <= now() AT TIME ZONE 'UTC'
FROM webpush_deliveries d
JOIN spy_push_notification_subscription s
  ON s.id_push_notification_subscription = d.fk_push_notification_subscription
WHERE s.fk_push_notification_group = 2 ORDER BY 1
--- sql_result
401|gone|1|404|t
402|gone|1|410|t
403|sent|2|201|f
404|sent|1||f
--- check
$TEST_MOCK log $TEST_PORT_A --fields path,proto,status,plaintext \
    | grep -e '^/push/notfound/' -e '^/push/gone/' -e '^/push/ok/' | sort
$TEST_MOCK log $TEST_PORT_A --path /push/ratelimit-1/403 --fields proto,status,plaintext,t \
    | awk '{ gap = NR == 1 ? "" : ($4 - t >= 1000 && $4 - t < 30000) ? " 1 s or more later" : " " $4 - t " ms later";
             t = $4; print $1, $2, $3 gap }'
--- check_result
/push/gone/402 h2 410 {"case":"codes"}
/push/notfound/401 h2 404 {"case":"codes"}
/push/ok/404 h2 201 {"case":"codes"}
h2 429 {"case":"codes"}
h2 201 {"case":"codes"} 1 s or more later

=== TEST 8: the mock's certificate not trusted (another CA): refused over h2, the service never gets the push
--- vars
TEST_HTTP2=on
TEST_CASE=ca-h2
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_push_hosts $TEST_H2_HOSTS;
webpush_ssl_trusted_certificate $TEST_NGINX_SERVROOT/tls/other-ca.pem;
webpush_timeout 5s;
webpush_max_attempts 2;
webpush_http2 $TEST_HTTP2;
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"ca","identifier":"1"},"payload":{"case":"$TEST_CASE"}}}}
--- error_code: 201
--- eventually: 60
--- sql
SELECT d.state, d.attempts, d.last_status, d.last_error
FROM webpush_deliveries d
JOIN spy_push_notification n ON n.id_push_notification = d.fk_push_notification
WHERE n.payload = '{"case":"$TEST_CASE"}'
--- sql_result
failed|2|0|no answer: certificate verify failed: unable to verify the first certificate
--- check
echo "pushes received: $($TEST_MOCK log $TEST_PORT_A --fields path | grep -c '^/push/ca/' || true)"
--- check_result
pushes received: 0
--- error_log
certificate verify failed: unable to verify the first certificate, attempts exhausted

=== TEST 9: the same with webpush_http2 off: refused alike over HTTP/1.1
--- same_as: TEST 8
--- vars
TEST_HTTP2=off
TEST_CASE=ca-http1

=== TEST 10: webpush_http2 off against the h2-capable service: HTTP/1.1 only, all delivered
--- shell
$TEST_MOCK control $TEST_PORT_A --reset
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_push_hosts $TEST_H2_HOSTS;
webpush_ssl_trusted_certificate $TEST_NGINX_SERVROOT/tls/ca.pem;
webpush_timeout 5s;
webpush_max_attempts 3;
webpush_http2 off;
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"off","identifier":"1"},"payload":{"case":"off"}}}}
--- error_code: 201
--- eventually: 60
--- sql
$TEST_ROWS_OF '{"case":"off"}' GROUP BY 1, 2, 3
--- sql_result
sent|1||50
--- check
$TEST_MOCK log $TEST_PORT_A --fields path,proto,status,plaintext > $TEST_NGINX_SERVROOT/off.log
echo "paths more than once $(cut -d' ' -f1 $TEST_NGINX_SERVROOT/off.log | sort | uniq -d | wc -l)"
cut -d' ' -f2- $TEST_NGINX_SERVROOT/off.log | sort | uniq -c | awk '{ $1 = $1; print }'
$TEST_MOCK stats $TEST_PORT_A --fields requests.h2,requests.http1,handshakes.h2,undecryptable
--- check_result
paths more than once 0
50 http1 201 {"case":"off"}
requests.h2=0 requests.http1=50 handshakes.h2=0 undecryptable=0
