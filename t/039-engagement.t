# Engagement (issue 15, webpush_events).  With a webpush_events location
# in the configuration, each delivered payload that is a JSON object
# carries a top-level "webpushEvent": a token signed with a key derived
# from the VAPID key, naming the notification and the subscription.  A
# service worker POSTs {"type":"shown"|"clicked"|"closed","event":token}
# to the location: 204, each type counted once per delivery, and GET
# /push-notifications/{uuid} reports "engagement".  A token altered in any
# way, or for another notification, is refused with 400 / 5400 and counts
# nothing.  Without the location, payloads are sent as they were posted.
#
# Payloads are decrypted by mock-push.js (RFC 8291 Appendix A keys);
# t/node/event-token.js takes tokens apart and forges them.
# Subscriptions, group "main": 1 aes128gcm, 2 aesgcm, 3 aes128gcm.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;

my $events_location = <<'EOC';
location /api/push-notifications { webpush_notifications; }
location /api/push-notification-subscriptions { webpush_subscriptions; }
location /webpush/events { webpush_events; }
EOC

defaults(
    http_config => <<'EOC',
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_push_hosts http://127.0.0.1:$TEST_PORT_A;
webpush_timeout 2s;
EOC
    config => $events_location,
);

vars(
    # report TYPE TOKEN: "<status> <code> <detail>" of a report
    TEST_REPORT => <<'EOS',
report() {
    curl -s -w ' %{http_code}\n' -X POST \
        --data "{\"type\":\"$1\",\"event\":\"$2\"}" \
        http://127.0.0.1:$TEST_NGINX_PORT/webpush/events \
    | sed -E -e 's/^\{"errors":\[\{"code":"([0-9]+)","status":[0-9]+,"message":"[^"]*","detail":(.*)\}\]\} ([0-9]+)$/\3 \1 \2/' \
             -e 's/^ ([0-9]+)$/\1/'
}
# raw BODY: the same for any body
raw() {
    curl -s -w ' %{http_code}\n' -X POST --data-binary "$1" \
        http://127.0.0.1:$TEST_NGINX_PORT/webpush/events \
    | sed -E -e 's/^\{"errors":\[\{"code":"([0-9]+)","status":[0-9]+,"message":"[^"]*","detail":(.*)\}\]\} ([0-9]+)$/\3 \1 \2/' \
             -e 's/^ ([0-9]+)$/\1/'
}
engagement() {
    curl -s http://127.0.0.1:$TEST_NGINX_PORT/api/push-notifications/$1 \
    | jq -c .data.attributes.engagement
}
tok() { cat $TEST_NGINX_SERVROOT/tok.$1; }
et() { node $TEST_TOP/t/node/event-token.js "$@"; }
EOS
    # the payloads each subscription got (newest last): status, encoding,
    # the payload
    TEST_LOG => <<'EOS',
got() {
    node $TEST_TOP/t/node/mock-push.js log $TEST_PORT_A --path /push/ok/$1 \
        --fields status,ce,payload
}
EOS
);

run_tests();

__DATA__

=== TEST 1: a notification to three subscriptions
--- shell
node $TEST_TOP/t/node/mock-push.js --port $TEST_PORT_A --pidfile $TEST_NGINX_SERVROOT/pids/mock.pid
--- init_sql
INSERT INTO spy_push_notification_provider VALUES (1, '00000000-0000-4000-8000-000000000001', 'web-push-php', now(), now());
INSERT INTO spy_push_notification_group VALUES
    (1, 'c0000000-0000-4000-8000-000000000001', 'main', '1', now(), now());
SELECT setval('id_push_notification_group_pk_seq', 10);
INSERT INTO spy_push_notification_subscription
SELECT id, 'a0000000-0000-4000-8000-' || lpad(id::text, 12, '0'), 1, 1, NULL,
       '{"endpoint":"http://127.0.0.1:$TEST_PORT_A/push/ok/' || id
       || '","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}'
       || enc || '}',
       md5(id::text), now() AT TIME ZONE 'UTC' + interval '1 day', now(), now()
FROM (VALUES (1, ''), (2, ',"contentEncoding":"aesgcm"'), (3, ''))
    AS s(id, enc);
SELECT setval('id_push_notification_subscription_pk_seq', 10);
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},"payload":{"title":"Order shipped","body":"Gr\u00fc\u00dfe", "n" : [1, 2.5, {"a":{}}]}}}}
--- error_code: 201
--- sql
SELECT max(version) = $TEST_SCHEMA_VERSION FROM webpush_schema_version;
SELECT count(*) FROM webpush_engagement;
--- sql_result
t
0

=== TEST 2: each payload is the one posted (compact) with a token as its last member, for its own delivery
--- eventually: 10
--- check
$TEST_LOG
for i in 1 2 3; do
    got $i > $TEST_NGINX_SERVROOT/got.$i
    read -r status ce payload < $TEST_NGINX_SERVROOT/got.$i
    printf '%s' "$payload" | jq -r .webpushEvent > $TEST_NGINX_SERVROOT/tok.$i
    echo "$status $ce $(printf '%s' "$payload" | sed -E 's/,"webpushEvent":"[A-Za-z0-9_-]{44}"\}$/}/')"
    echo "ids $(node $TEST_TOP/t/node/event-token.js ids $(cat $TEST_NGINX_SERVROOT/tok.$i))"
done
cat $TEST_NGINX_SERVROOT/tok.* | sort -u | wc -l
--- check_result
201 aes128gcm {"title":"Order shipped","body":"Grüße","n":[1,2.5,{"a":{}}]}
ids 1 1
201 aesgcm {"title":"Order shipped","body":"Grüße","n":[1,2.5,{"a":{}}]}
ids 1 2
201 aes128gcm {"title":"Order shipped","body":"Grüße","n":[1,2.5,{"a":{}}]}
ids 1 3
3

=== TEST 3: GET reports engagement, zeros before any report
--- init_sql
UPDATE spy_push_notification SET uuid = 'd0000000-0000-4000-8000-000000000001';
--- request
GET /api/push-notifications/d0000000-0000-4000-8000-000000000001
--- error_code: 200
--- response_json
{"data":{"type":"push-notifications","id":"d0000000-0000-4000-8000-000000000001",
 "attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},
   "payload":{"title":"Order shipped","body":"Grüße","n":[1,2.5,{"a":{}}]},
   "ttl":"*","urgency":null,"topic":null,
   "delivery":{"targeted":3,"sent":3,"pending":0,"failed":0,"gone":0,"cancelled":0},
   "state":"done",
   "engagement":{"shown":0,"clicked":0,"closed":0}},
 "links":{"self":"*"}}}

=== TEST 4: reports with the real tokens: 204, counted
--- check
$TEST_REPORT
report shown $(tok 1)
report shown $(tok 2)
report shown $(tok 3)
report clicked $(tok 1)
report closed $(tok 2)
engagement d0000000-0000-4000-8000-000000000001
psql "$TEST_PG_CONNINFO" -XAt <<'SQL'
SELECT string_agg(fk_push_notification || '/' || fk_push_notification_subscription || ' ' || type, ',' ORDER BY fk_push_notification_subscription, type)
    FROM webpush_engagement;
SELECT count(*) FROM webpush_engagement WHERE at > now() - interval '1 minute';
SQL
--- check_result
204
204
204
204
204
{"shown":3,"clicked":1,"closed":1}
1/1 clicked,1/1 shown,1/2 closed,1/2 shown,1/3 shown
5

=== TEST 5: the same reports again: still 204, counted once
--- check
$TEST_REPORT
report shown $(tok 1)
report shown $(tok 1)
report clicked $(tok 1)
report closed $(tok 2)
engagement d0000000-0000-4000-8000-000000000001
psql "$TEST_PG_CONNINFO" -XAtc 'SELECT count(*) FROM webpush_engagement'
--- check_result
204
204
204
204
{"shown":3,"clicked":1,"closed":1}
5

=== TEST 6: forged and malformed tokens: 400 / 5400 with a detail, nothing counted
--- check
$TEST_REPORT
t=$(tok 3)
report clicked $(et set-ids $t 1 1)
report clicked $(et set-ids $t 1 4)
report clicked $(et set-ids $t 2 3)
report clicked $(et set-ids $t 3 1)
report clicked $(et splice $t $(tok 1))
report clicked $(et flip $t 0)
report clicked $(et flip $t 8)
report clicked $(et flip $t 16 7)
report clicked $(et flip $t 17)
report clicked $(et flip $t 32 7)
report clicked ${t:0:43}
report clicked ${t}A
report clicked ${t}=
report clicked ${t:0:20}+${t:21}
report clicked ${t:0:20}/${t:21}
report clicked "${t:0:20} ${t:21}"
report clicked $(echo -n "$t" | tr 'A-Za-z' 'N-ZA-Mn-za-m')
engagement d0000000-0000-4000-8000-000000000001
psql "$TEST_PG_CONNINFO" -XAtc 'SELECT count(*) FROM webpush_engagement'
--- check_result
400 5400 "\"event\" is not a token this server signed"
400 5400 "\"event\" is not a token this server signed"
400 5400 "\"event\" is not a token this server signed"
400 5400 "\"event\" is not a token this server signed"
400 5400 "\"event\" is not a token this server signed"
400 5400 "\"event\" is not an event token (44 base64url characters)"
400 5400 "\"event\" is not a token this server signed"
400 5400 "\"event\" is not a token this server signed"
400 5400 "\"event\" is not a token this server signed"
400 5400 "\"event\" is not a token this server signed"
400 5400 "\"event\" is not an event token (44 base64url characters)"
400 5400 "\"event\" is not an event token (44 base64url characters)"
400 5400 "\"event\" is not an event token (44 base64url characters)"
400 5400 "\"event\" is not an event token (44 base64url characters)"
400 5400 "\"event\" is not an event token (44 base64url characters)"
400 5400 "\"event\" is not an event token (44 base64url characters)"
400 5400 "\"event\" is not an event token (44 base64url characters)"
{"shown":3,"clicked":1,"closed":1}
5
--- error_log
an engagement report with a token not signed by this server's key

=== TEST 7: a second notification, to the same subscriptions, with tokens of its own
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},"payload":{}}}}
--- error_code: 201
--- eventually: 10
--- check
$TEST_LOG
$TEST_REPORT
got 1 | tail -n 1 | cut -d' ' -f3 | jq -r .webpushEvent > $TEST_NGINX_SERVROOT/b.1
got 2 | tail -n 1
echo "ids $(et ids $(cat $TEST_NGINX_SERVROOT/b.1))"
--- check_like
^201 aesgcm \{"webpushEvent":"[A-Za-z0-9_-]{44}"\}
ids 2 1$

=== TEST 8: the first one's token made to name the second is refused; the second's own tokens count for it alone
--- check
$TEST_REPORT
b=$(cat $TEST_NGINX_SERVROOT/b.1)
uuid=$(psql "$TEST_PG_CONNINFO" -XAtc "SELECT uuid FROM spy_push_notification WHERE id_push_notification = 2")
report shown $(et set-ids $(tok 2) 2 2)
report clicked $(et set-ids $(tok 1) 2 1)
report clicked $(et splice $(tok 1) $b)
report clicked $(tok 1)
engagement $uuid
report clicked $b
engagement $uuid
engagement d0000000-0000-4000-8000-000000000001
psql "$TEST_PG_CONNINFO" -XAtc 'SELECT count(*) FROM webpush_engagement'
--- check_result
400 5400 "\"event\" is not a token this server signed"
400 5400 "\"event\" is not a token this server signed"
400 5400 "\"event\" is not a token this server signed"
204
{"shown":0,"clicked":0,"closed":0}
204
{"shown":0,"clicked":1,"closed":0}
{"shown":3,"clicked":1,"closed":1}
6

=== TEST 9: bodies that are not a report: 400 / 5400 with a detail
--- check
$TEST_REPORT
raw ''
raw '{'
raw '[]'
raw 'type=shown&event=x'
raw '{"type":"shown"}'
raw '{"type":"shown","event":""}'
raw '{"type":"shown","event":7}'
raw '{"event":"'$(tok 1)'"}'
raw '{"type":"opened","event":"'$(tok 1)'"}'
raw '{"type":"SHOWN","event":"'$(tok 1)'"}'
raw '{"type":"shown","type":"clicked","event":"'$(tok 1)'"}'
raw "{\"type\":\"shown\",\"event\":\"$(tok 1)\",\"pad\":\"$(head -c 1000 /dev/zero | tr '\0' x)\"}"
raw '{"type":"shown","event":"'$(tok 1)'","extra":[1]}'
psql "$TEST_PG_CONNINFO" -XAtc 'SELECT count(*) FROM webpush_engagement'
--- check_like
^400 5400 "empty request body"
400 5400 "invalid JSON: [^\n]*"
400 5400 "the body must be a JSON object"
400 5400 "invalid JSON: [^\n]*"
400 5400 "\\"event\\" must be a non-empty string \(the payload's webpushEvent\)"
400 5400 "\\"event\\" must be a non-empty string \(the payload's webpushEvent\)"
400 5400 "\\"event\\" must be a non-empty string \(the payload's webpushEvent\)"
400 5400 "\\"type\\" must be \\"shown\\", \\"clicked\\" or \\"closed\\""
400 5400 "\\"type\\" must be \\"shown\\", \\"clicked\\" or \\"closed\\""
400 5400 "\\"type\\" must be \\"shown\\", \\"clicked\\" or \\"closed\\""
400 5400 "invalid JSON: duplicate object key[^\n]*"
400 5400 "request body larger than 1024 bytes"
204
6$

=== TEST 10: only POST: other methods → 405
--- check
for m in GET HEAD PUT DELETE PATCH OPTIONS; do
    if [ $m = HEAD ]; then head=-I; else head="-X $m"; fi
    curl -s -o /dev/null -w "$m %{http_code}\n" $head http://127.0.0.1:$TEST_NGINX_PORT/webpush/events
done
--- check_result
GET 405
HEAD 405
PUT 405
DELETE 405
PATCH 405
OPTIONS 405

=== TEST 11: a report for a subscription deleted since: 204, nothing stored; its reports went with it
--- request
DELETE /api/push-notification-subscriptions/a0000000-0000-4000-8000-000000000003
--- error_code: 204
--- check
$TEST_REPORT
report clicked $(tok 3)
report closed $(tok 3)
engagement d0000000-0000-4000-8000-000000000001
psql "$TEST_PG_CONNINFO" -XAtc 'SELECT count(*) FROM webpush_engagement WHERE fk_push_notification_subscription = 3'
--- check_result
204
204
{"shown":2,"clicked":1,"closed":1}
0

=== TEST 12: rows another producer wrote: an object in any spelling gets the token, anything else is sent unchanged
--- init_sql
INSERT INTO spy_push_notification
    (id_push_notification, uuid, fk_push_notification_group,
     fk_push_notification_provider, payload, created_at, updated_at)
SELECT nextval('id_push_notification_pk_seq'), gen_random_uuid()::text, 1, 1,
       p, now(), now()
FROM (VALUES ('{ "a" : 1 ,"b":[ ] }'), ('"just text"'), ('[{"a":1}]'),
             ('plain text')) AS x(p);
--- eventually: 10
--- check
$TEST_LOG
got 1 | tail -n 4 | cut -d' ' -f3- | sed -E 's/"webpushEvent":"[A-Za-z0-9_-]{44}"/"webpushEvent":TOKEN/' | LC_ALL=C sort
--- check_result
"just text"
[{"a":1}]
plain text
{ "a" : 1 ,"b":[ ] ,"webpushEvent":TOKEN}

=== TEST 13: a posted "webpushEvent" is replaced by the genuine token; the largest payload with its token still goes out
--- request eval
my $big = 'x' x (3052 - 8);
"POST /api/push-notifications\n"
. '{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},"payload":{"a":"' . $big . '"}}}}'
--- error_code: 201
--- init_sql
INSERT INTO spy_push_notification
    (id_push_notification, uuid, fk_push_notification_group,
     fk_push_notification_provider, payload, created_at, updated_at)
VALUES (nextval('id_push_notification_pk_seq'), gen_random_uuid()::text, 1, 1,
        '{"title":"Hi","webpushEvent":"AQAAAAAAAAABAAAAAAAAAAKK4wDJbe5H14OwXqnuwFz3","x":1}',
        now(), now());
--- eventually: 10
--- check
$TEST_LOG
$TEST_REPORT
for i in 1 2; do
    got $i | tail -n 2 | while read -r status ce payload; do
        n=$(printf '%s' "$payload" | grep -o webpushEvent | wc -l)
        echo "$status $ce ${#payload} bytes, $n webpushEvent, ids $(et ids $(printf '%s' "$payload" | jq -r .webpushEvent)), $(printf '%s' "$payload" | jq -c 'del(.webpushEvent) | if .a then (.a | length) else . end')"
    done
done | LC_ALL=C sort
--- check_result
201 aes128gcm 3114 bytes, 1 webpushEvent, ids 8 1, 3044
201 aes128gcm 82 bytes, 1 webpushEvent, ids 7 1, {"title":"Hi","x":1}
201 aesgcm 3114 bytes, 1 webpushEvent, ids 8 2, 3044
201 aesgcm 82 bytes, 1 webpushEvent, ids 7 2, {"title":"Hi","x":1}

=== TEST 14: without a webpush_events location, payloads are sent as they were posted
--- config
location /api/push-notifications { webpush_notifications; }
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},"payload":{"title":"No token","n":1}}}}
--- error_code: 201
--- eventually: 10
--- check
$TEST_LOG
for i in 1 2; do
    got $i | tail -n 1
done
--- check_result
201 aes128gcm {"title":"No token","n":1}
201 aesgcm {"title":"No token","n":1}

=== TEST 15: nginx started again (as another node with the same VAPID key would be): the earlier tokens still check out
--- check
$TEST_REPORT
report clicked $(tok 2)
engagement d0000000-0000-4000-8000-000000000001
--- check_result
204
{"shown":2,"clicked":2,"closed":1}
