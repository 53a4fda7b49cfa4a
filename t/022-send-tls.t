# HTTPS to push services with a test CA (t/node/mock-push.js over TLS,
# listening on 127.0.0.1 and 127.0.0.2, and answering DNS for *.test so
# that nginx's resolver finds push.test and wrong.test at 127.0.0.1).
# The server certificate, issued by the test CA, is valid for
# IP:127.0.0.1 and DNS:push.test only.
#
#   group      endpoint                              CA trusted: verify on
#   ip         https://127.0.0.1:PORT/push/ok/1      sent
#   name       https://push.test:PORT/push/ok/2      sent (SNI push.test)
#   wrongname  https://wrong.test:PORT/push/ok/3     host name mismatch
#   wrongip    https://127.0.0.2:PORT/push/ok/4      host name mismatch
#
# Another CA trusted: certificate verify failed; the system CAs: the
# same; no CA configured but SSL_CERT_FILE in nginx's environment naming
# the test CA (OpenSSL's default verify paths): sent, names still checked;
# webpush_ssl_verify off: sent whatever the CA and the name.  A
# failure is a connection error, retried (webpush_max_attempts 2) and
# then failed, without a request ever reaching the service.
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
    config => <<'EOC',
location /api/push-notifications { webpush_notifications; }
EOC
);

run_tests();

__DATA__

=== TEST 1: the test CA trusted: sent by IP address and by name; a name or an address not in the certificate fails
--- shell
mkdir -p $TEST_NGINX_SERVROOT/tls
cd $TEST_NGINX_SERVROOT/tls
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
openssl req -x509 $ec -keyout ca.key -out ca.pem -days 2 -subj "/CN=webpush test CA" 2>/dev/null
openssl req -x509 $ec -keyout other-ca.key -out other-ca.pem -days 2 -subj "/CN=another test CA" 2>/dev/null
openssl req $ec -keyout server.key -out server.csr -subj "/CN=push.test" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:push.test\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
    -out server.pem -days 2 -extfile server.ext 2>/dev/null
openssl verify -CAfile ca.pem server.pem >/dev/null
node $TEST_TOP/t/node/mock-push.js --port $TEST_PORT_B --host 127.0.0.1,127.0.0.2 \
    --tls server.pem,server.key --dns --pidfile $TEST_NGINX_SERVROOT/pids/mock-tls.pid
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_push_hosts 127.0.0.1:$TEST_PORT_B 127.0.0.2:$TEST_PORT_B push.test:$TEST_PORT_B wrong.test:$TEST_PORT_B;
webpush_timeout 2s;
webpush_max_attempts 2;
resolver 127.0.0.1:$TEST_PORT_B ipv6=off valid=300s;
webpush_ssl_trusted_certificate $TEST_NGINX_SERVROOT/tls/ca.pem;
--- init_sql
INSERT INTO spy_push_notification_provider VALUES (1, '00000000-0000-4000-8000-000000000001', 'web-push-php', now(), now());
INSERT INTO spy_push_notification_group VALUES
    (1, NULL, 'ip', '1', now(), now()), (2, NULL, 'name', '1', now(), now()),
    (3, NULL, 'wrongname', '1', now(), now()), (4, NULL, 'wrongip', '1', now(), now());
INSERT INTO spy_push_notification_subscription
SELECT id, NULL, id, 1, NULL,
       '{"endpoint":"https://' || host || ':$TEST_PORT_B/push/ok/' || id
       || '","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}',
       md5(id::text), now() AT TIME ZONE 'UTC' + interval '1 day', now(), now()
FROM (VALUES (1, '127.0.0.1'), (2, 'push.test'), (3, 'wrong.test'), (4, '127.0.0.2')) AS s(id, host);
SELECT uuid IS NOT NULL FROM webpush_notification_create('web-push-php', 'ip', '1', '{"n":1}', 600, NULL, NULL);
SELECT uuid IS NOT NULL FROM webpush_notification_create('web-push-php', 'name', '1', '{"n":2}', 600, NULL, NULL);
SELECT uuid IS NOT NULL FROM webpush_notification_create('web-push-php', 'wrongname', '1', '{"n":3}', 600, NULL, NULL);
SELECT uuid IS NOT NULL FROM webpush_notification_create('web-push-php', 'wrongip', '1', '{"n":4}', 600, NULL, NULL);
UPDATE spy_push_notification SET uuid = 'e0000000-0000-4000-8000-00000000000' || fk_push_notification_group;
--- request
GET /api/push-notifications/e0000000-0000-4000-8000-000000000001
--- error_code: 200
--- eventually: 12
--- sql
SELECT n.payload, d.state, d.attempts, d.last_status,
       replace(coalesce(d.last_error, '-'), ':$TEST_PORT_B', ':PORT')
FROM webpush_deliveries d
JOIN spy_push_notification n ON n.id_push_notification = d.fk_push_notification
ORDER BY d.fk_push_notification_subscription
--- sql_result
{"n":1}|sent|1||-
{"n":2}|sent|1||-
{"n":3}|failed|2|0|no answer: host name mismatch: the certificate of 127.0.0.1:PORT is not valid for "wrong.test"
{"n":4}|failed|2|0|no answer: host name mismatch: the certificate of 127.0.0.2:PORT is not valid for "127.0.0.2"
--- check
cd $TEST_TOP/t/node
node mock-push.js log $TEST_PORT_B --tls --fields path,sni,local,status,aud,payload,error \
    | sed "s|:$TEST_PORT_B|:PORT|" | sort
echo connections without a request:
node mock-push.js conns $TEST_PORT_B --tls | awk '$3 == 0' | sort
--- check_result
/push/ok/1 - 127.0.0.1 201 https://127.0.0.1:PORT {"n":1} -
/push/ok/2 push.test 127.0.0.1 201 https://push.test:PORT {"n":2} -
connections without a request:
- 127.0.0.2 0
- 127.0.0.2 0
wrong.test 127.0.0.1 0
wrong.test 127.0.0.1 0
--- error_log
host name mismatch: the certificate of 127.0.0.1:
is not valid for "wrong.test", attempts exhausted
host name mismatch: the certificate of 127.0.0.2:

=== TEST 2: another CA trusted: certificate verify failed, the service never gets the request
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_push_hosts 127.0.0.1:$TEST_PORT_B 127.0.0.2:$TEST_PORT_B push.test:$TEST_PORT_B wrong.test:$TEST_PORT_B;
webpush_timeout 2s;
webpush_max_attempts 2;
resolver 127.0.0.1:$TEST_PORT_B ipv6=off valid=300s;
webpush_ssl_trusted_certificate $TEST_NGINX_SERVROOT/tls/other-ca.pem;
--- init_sql
SELECT uuid IS NOT NULL FROM webpush_notification_create('web-push-php', 'ip', '1', '{"n":5}', 600, NULL, NULL);
--- request
GET /api/push-notifications/e0000000-0000-4000-8000-000000000001
--- error_code: 200
--- eventually: 12
--- sql
SELECT d.state, d.attempts, d.last_status, d.last_error
FROM webpush_deliveries d
JOIN spy_push_notification n ON n.id_push_notification = d.fk_push_notification
WHERE n.payload = '{"n":5}'
--- sql_result
failed|2|0|no answer: certificate verify failed: unable to verify the first certificate
--- check
cd $TEST_TOP/t/node
node mock-push.js log $TEST_PORT_B --tls --path /push/ok/1 --fields status,payload
echo connections without a request:
node mock-push.js conns $TEST_PORT_B --tls | awk '$3 == 0' | sort
--- check_result
201 {"n":1}
connections without a request:
- 127.0.0.1 0
- 127.0.0.1 0
- 127.0.0.2 0
- 127.0.0.2 0
wrong.test 127.0.0.1 0
wrong.test 127.0.0.1 0
--- error_log
certificate verify failed: unable to verify the first certificate, attempts exhausted

=== TEST 3: no CA configured: the system CAs do not know the test CA either
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_push_hosts 127.0.0.1:$TEST_PORT_B 127.0.0.2:$TEST_PORT_B push.test:$TEST_PORT_B wrong.test:$TEST_PORT_B;
webpush_timeout 2s;
webpush_max_attempts 2;
resolver 127.0.0.1:$TEST_PORT_B ipv6=off valid=300s;
--- init_sql
SELECT uuid IS NOT NULL FROM webpush_notification_create('web-push-php', 'name', '1', '{"n":6}', 600, NULL, NULL);
--- request
GET /api/push-notifications/e0000000-0000-4000-8000-000000000001
--- error_code: 200
--- eventually: 12
--- sql
SELECT d.state, d.attempts, d.last_status, d.last_error
FROM webpush_deliveries d
JOIN spy_push_notification n ON n.id_push_notification = d.fk_push_notification
WHERE n.payload = '{"n":6}'
--- sql_result
failed|2|0|no answer: certificate verify failed: unable to verify the first certificate
--- check
cd $TEST_TOP/t/node
node mock-push.js log $TEST_PORT_B --tls --path /push/ok/2 --fields status,payload
--- check_result
201 {"n":2}

=== TEST 4: webpush_ssl_verify off: sent despite the unknown CA and the wrong names
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_push_hosts 127.0.0.1:$TEST_PORT_B 127.0.0.2:$TEST_PORT_B push.test:$TEST_PORT_B wrong.test:$TEST_PORT_B;
webpush_timeout 2s;
webpush_max_attempts 2;
resolver 127.0.0.1:$TEST_PORT_B ipv6=off valid=300s;
webpush_ssl_trusted_certificate $TEST_NGINX_SERVROOT/tls/other-ca.pem;
webpush_ssl_verify off;
--- init_sql
SELECT uuid IS NOT NULL FROM webpush_notification_create('web-push-php', 'wrongname', '1', '{"n":7}', 600, NULL, NULL);
SELECT uuid IS NOT NULL FROM webpush_notification_create('web-push-php', 'wrongip', '1', '{"n":8}', 600, NULL, NULL);
--- request
GET /api/push-notifications/e0000000-0000-4000-8000-000000000001
--- error_code: 200
--- eventually: 12
--- sql
SELECT n.payload, d.state, d.attempts, d.last_status, coalesce(d.last_error, '-')
FROM webpush_deliveries d
JOIN spy_push_notification n ON n.id_push_notification = d.fk_push_notification
WHERE n.payload IN ('{"n":7}', '{"n":8}') ORDER BY 1
--- sql_result
{"n":7}|sent|1||-
{"n":8}|sent|1||-
--- check
cd $TEST_TOP/t/node
for p in ok/3 ok/4; do
    node mock-push.js log $TEST_PORT_B --tls --path /push/$p --fields path,sni,local,status,aud,payload,error \
        | sed "s|:$TEST_PORT_B|:PORT|"
done
--- check_result
/push/ok/3 wrong.test 127.0.0.1 201 https://wrong.test:PORT {"n":7} -
/push/ok/4 - 127.0.0.2 201 https://127.0.0.2:PORT {"n":8} -

=== TEST 5: no CA configured, SSL_CERT_FILE names the test CA: OpenSSL's default verify paths trust it, names are still checked
--- nginx_env
SSL_CERT_FILE=$TEST_NGINX_SERVROOT/tls/ca.pem
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_push_hosts 127.0.0.1:$TEST_PORT_B 127.0.0.2:$TEST_PORT_B push.test:$TEST_PORT_B wrong.test:$TEST_PORT_B;
webpush_timeout 2s;
webpush_max_attempts 2;
resolver 127.0.0.1:$TEST_PORT_B ipv6=off valid=300s;
--- init_sql
SELECT uuid IS NOT NULL FROM webpush_notification_create('web-push-php', 'name', '1', '{"n":9}', 600, NULL, NULL);
SELECT uuid IS NOT NULL FROM webpush_notification_create('web-push-php', 'wrongname', '1', '{"n":10}', 600, NULL, NULL);
--- request
GET /api/push-notifications/e0000000-0000-4000-8000-000000000001
--- error_code: 200
--- eventually: 12
--- sql
SELECT n.payload, d.state, d.attempts, d.last_status,
       replace(coalesce(d.last_error, '-'), ':$TEST_PORT_B', ':PORT')
FROM webpush_deliveries d
JOIN spy_push_notification n ON n.id_push_notification = d.fk_push_notification
WHERE n.payload IN ('{"n":9}', '{"n":10}') ORDER BY 1
--- sql_result
{"n":10}|failed|2|0|no answer: host name mismatch: the certificate of 127.0.0.1:PORT is not valid for "wrong.test"
{"n":9}|sent|1||-
--- check
cd $TEST_TOP/t/node
node mock-push.js log $TEST_PORT_B --tls --path /push/ok/2 --fields status,payload
--- check_result
201 {"n":2}
201 {"n":9}
--- error_log
is not valid for "wrong.test", attempts exhausted
