# Writing outcomes back (issue 12 §3): one push-service error text that
# PostgreSQL cannot store must not stall the sender.  The text is made
# valid UTF-8 without control bytes before it reaches logs and SQL; a
# batch the database still refuses for its data (SQLSTATE class 22) is
# split until the offending outcome is found, which is then written
# without its text; the others in the batch are written as they are.
#
# webpush_max_attempts 1: nothing is retried, so a delivery sent twice
# was sent again after its lease lapsed (its outcome was never written).
#
# Subscriptions (RFC 8291 Appendix A keys), group "main": 1-6 ok,
# 7 badtext (400, X-WNS-Error-Description "caf\xE9 ESC[31mred BEL").
# Group "split": 21-26 ok, 27 poison (400, a text a trigger refuses with
# SQLSTATE 22P02, standing in for any data error the sanitizer misses).

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
webpush_push_hosts http://127.0.0.1:$TEST_PORT_A;
webpush_timeout 1s;
webpush_lease 10s;
webpush_max_attempts 1;
webpush_message_ttl 1h;
EOC
    config => <<'EOC',
location /api/push-notifications { webpush_notifications; }
EOC
);

run_tests();

__DATA__

=== TEST 1: a notification to six good subscriptions and one whose push service answers a text that is not UTF-8
--- shell
node $TEST_TOP/t/node/mock-push.js --port $TEST_PORT_A --pidfile $TEST_NGINX_SERVROOT/pids/mock.pid
--- init_sql
INSERT INTO spy_push_notification_provider VALUES (1, '00000000-0000-4000-8000-000000000001', 'web-push-php', now(), now());
INSERT INTO spy_push_notification_group VALUES
    (1, 'c0000000-0000-4000-8000-000000000001', 'main', '1', now(), now()),
    (2, 'c0000000-0000-4000-8000-000000000002', 'split', '1', now(), now());
INSERT INTO spy_push_notification_subscription
SELECT id, 'a0000000-0000-4000-8000-' || lpad(id::text, 12, '0'), grp, 1, NULL,
       '{"endpoint":"http://127.0.0.1:$TEST_PORT_A/push/' || scenario || '/' || id
       || '","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}',
       md5(id::text), now() AT TIME ZONE 'UTC' + interval '1 day', now(), now()
FROM (VALUES (1, 1, 'ok'), (2, 1, 'ok'), (3, 1, 'ok'), (4, 1, 'ok'),
             (5, 1, 'ok'), (6, 1, 'ok'), (7, 1, 'badtext'),
             (21, 2, 'ok'), (22, 2, 'ok'), (23, 2, 'ok'), (24, 2, 'ok'),
             (25, 2, 'ok'), (26, 2, 'ok'), (27, 2, 'poison')) AS s(id, grp, scenario);
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},"payload":{"title":"bytes"}}}}
--- error_code: 201

=== TEST 2: the delivery failed with its text made valid (U+FFFD for the bad byte, "?" for control bytes); the others were sent
--- eventually: 10
--- sql
SELECT fk_push_notification_subscription, state, attempts, last_status,
       coalesce(last_error, '-') = '400 (X-WNS-Error-Description: caf'
                                   || U&'\FFFD' || ' ?[31mred?)'
FROM webpush_deliveries ORDER BY 1
--- sql_result
1|sent|1||f
2|sent|1||f
3|sent|1||f
4|sent|1||f
5|sent|1||f
6|sent|1||f
7|failed|1|400|t
--- check
log=$TEST_NGINX_SERVROOT/logs/error.log
# the log line is sanitized too: no Latin-1 byte, no escape, no bell
echo raw bytes: $(LC_ALL=C grep -c -P '[\xe9\x1b\x07]' $log || true)
grep -c "webpush: delivery [0-9/]* to http://127.0.0.1:$TEST_PORT_A/push/badtext/7: 400 (X-WNS-Error-Description: caf" $log
n=$(grep -c -E '\[(warn|error|crit|alert)\].*webpush' $log || true)
[ "$n" -le 3 ] && echo "at most 3 error lines" || echo "$n error lines"
--- check_result
raw bytes: 0
1
at most 3 error lines

=== TEST 3: a batch the database refuses for one outcome's data is split; that outcome is written without its text, the others as they are
--- init_sql
CREATE FUNCTION t_refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.last_error LIKE '%poison%' THEN
        RAISE EXCEPTION 'refused for the test' USING ERRCODE = '22P02';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER t_refuse_poison BEFORE INSERT OR UPDATE ON webpush_delivery
    FOR EACH ROW EXECUTE FUNCTION t_refuse_poison();
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"split","identifier":"1"},"payload":{"title":"split"}}}}
--- error_code: 201
--- eventually: 10
--- sql
SELECT fk_push_notification_subscription, state, attempts, last_status,
       coalesce(last_error, '-')
FROM webpush_deliveries WHERE fk_push_notification_subscription > 20 ORDER BY 1
--- sql_result
21|sent|1||-
22|sent|1||-
23|sent|1||-
24|sent|1||-
25|sent|1||-
26|sent|1||-
27|failed|1|400|-
--- check
log=$TEST_NGINX_SERVROOT/logs/error.log
grep -c 'webpush: delivery [0-9/]*: its outcome was refused (.*refused for the test), written without its error text' $log
--- check_result
1

=== TEST 4: nothing was sent twice (a lease lapsed for an outcome never written would send it again)
--- wait: 11
--- check
cd $TEST_TOP/t/node
node mock-push.js log $TEST_PORT_A --fields path | sort | uniq -c | awk '$1 != 1 { print "sent " $1 " times: " $2 }'
node mock-push.js log $TEST_PORT_A --fields path | wc -l
--- check_result
14

=== TEST 5: a graceful quit completes promptly
--- check
pid=$(cat $TEST_NGINX_SERVROOT/logs/nginx.pid)
# a daemon's zombie waits for whoever reaps orphans here
alive() { [ -e /proc/$pid/stat ] && ! grep -q '^[0-9]* (.*) Z' /proc/$pid/stat; }
kill -QUIT $pid
for i in $(seq 1 50); do
    alive || break
    sleep 0.1
done
alive && echo "still running after 5 s" || echo "quit"
--- check_result
quit
