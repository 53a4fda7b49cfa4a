# Push notification subscriptions: POST as the reference (spryker.md §1.3
# (6)) with INTERFACE.md §3's rules for the payload, and DELETE.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;

run_tests();

__DATA__

=== TEST 1: a browser's PushSubscription.toJSON() is accepted
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_subscription_ttl 7d;
--- config
location /push-notification-subscriptions { webpush_subscriptions; }
--- init_sql
INSERT INTO spy_push_notification_provider VALUES (1, '00000000-0000-4000-8000-000000000001', 'web-push-php', now(), now());
--- request
POST /push-notification-subscriptions
{"data":{"type":"push-notification-subscriptions","attributes":{"providerName":"web-push-php","group":{"name":"warehouse","identifier":"1"},"payload":{"endpoint":"https://fcm.googleapis.com/fcm/send/abc","expirationTime":null,"keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}},"localeName":"en_US"}}}
--- error_code: 201
--- response_json
{"data":{"type":"push-notification-subscriptions","id":"~^[0-9a-f-]{36}$",
 "attributes":{"providerName":"web-push-php",
   "payload":{"endpoint":"https://fcm.googleapis.com/fcm/send/abc","expirationTime":null,
              "keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}},
   "localeName":"en_US","group":{"name":"warehouse","identifier":"1"},
   "expiredAt":"~^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$"},
 "links":{"self":"~/push-notification-subscriptions/[0-9a-f-]{36}$"}}}
--- sql
SELECT g.name, g.identifier, s.fk_push_notification_provider, s.payload,
       s.payload_checksum = md5(s.payload),
       s.expired_at - s.created_at BETWEEN interval '6 days 23:59' AND interval '7 days 00:01'
FROM spy_push_notification_subscription s
JOIN spy_push_notification_group g ON g.id_push_notification_group = s.fk_push_notification_group
--- sql_result
warehouse|1|1|{"endpoint":"https:\/\/fcm.googleapis.com\/fcm\/send\/abc","expirationTime":null,"keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}|t|t

=== TEST 2: the same subscription again is 5003
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_subscription_ttl 7d;
--- config
location /push-notification-subscriptions { webpush_subscriptions; }
--- request
POST /push-notification-subscriptions
{"data":{"type":"push-notification-subscriptions","attributes":{"providerName":"web-push-php","group":{"name":"warehouse","identifier":"1"},"payload":{"endpoint":"https://fcm.googleapis.com/fcm/send/abc","expirationTime":null,"keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}},"localeName":"en_US"}}}
--- error_code: 400
--- response_json
{"errors":[{"code":"5003","status":400,"message":"Push notification subscription already exists."}]}
--- sql
SELECT count(*) FROM spy_push_notification_subscription
--- sql_result
1

=== TEST 3: publicKey + authToken in standard base64, padded
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
--- config
location /push-notification-subscriptions { webpush_subscriptions; }
--- request
POST /push-notification-subscriptions
{"data":{"type":"push-notification-subscriptions","attributes":{"providerName":"web-push-php","group":{"name":"warehouse"},"payload":{"endpoint":"https://updates.push.services.mozilla.com/wpush/v2/x","publicKey":"BCVxsr7N/eNgVRqvHtD0zTZsEc6+VV+JvLexhqUzORcxaOzi6+AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4=","authToken":"BTBZMqHH6r4Tts7J/aSIgg==","contentEncoding":"aesgcm"}}}}
--- error_code: 201
--- response_json
{"data":{"type":"push-notification-subscriptions","id":"*",
 "attributes":{"providerName":"web-push-php","payload":"*","localeName":null,
   "group":{"name":"warehouse","identifier":null},"expiredAt":"*"},
 "links":{"self":"*"}}}
--- sql
SELECT g.identifier IS NULL FROM spy_push_notification_subscription s
JOIN spy_push_notification_group g ON g.id_push_notification_group = s.fk_push_notification_group
WHERE s.payload LIKE '%mozilla%'
--- sql_result
t

=== TEST 4: unknown provider is 404 / 5001
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
--- config
location /push-notification-subscriptions { webpush_subscriptions; }
--- request
POST /push-notification-subscriptions
{"data":{"type":"push-notification-subscriptions","attributes":{"providerName":"nope","group":{"name":"warehouse","identifier":"1"},"payload":{"endpoint":"https://fcm.googleapis.com/fcm/send/abc","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}}}}
--- error_code: 404
--- response_json
{"errors":[{"code":"5001","status":404,"message":"The push notification provider was not found."}]}

=== TEST 5: several errors at once are 207, in the reference's order
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_groups warehouse;
webpush_locales en_US de_DE;
--- config
location /push-notification-subscriptions { webpush_subscriptions; }
--- request
POST /push-notification-subscriptions
{"data":{"type":"push-notification-subscriptions","attributes":{"providerName":"nope","group":{"name":"store"},"localeName":"fr_FR","payload":{"endpoint":"https://fcm.googleapis.com/fcm/send/abc","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}}}}
--- error_code: 207
--- response_json
{"errors":[
 {"code":"5001","status":404,"message":"The push notification provider was not found."},
 {"code":"5002","status":400,"message":"Wrong group name."},
 {"code":"5009","status":400,"message":"Provided locale not found."}]}

=== TEST 6: an off-curve p256dh is 5400 with the reason, nothing stored
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
--- config
location /push-notification-subscriptions { webpush_subscriptions; }
--- request
POST /push-notification-subscriptions
{"data":{"type":"push-notification-subscriptions","attributes":{"providerName":"web-push-php","group":{"name":"warehouse","identifier":"2"},"payload":{"endpoint":"https://fcm.googleapis.com/fcm/send/abc","keys":{"p256dh":"BCVxsr7M_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}}}}
--- error_code: 400
--- response_json
{"errors":[{"code":"5400","status":400,"message":"Invalid payload structure.","detail":"~curve"}]}
--- sql
SELECT count(*) FROM spy_push_notification_group WHERE identifier = '2'
--- sql_result
0

=== TEST 7: an auth secret of the wrong length
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
--- config
location /push-notification-subscriptions { webpush_subscriptions; }
--- request
POST /push-notification-subscriptions
{"data":{"type":"push-notification-subscriptions","attributes":{"providerName":"web-push-php","group":{"name":"warehouse"},"payload":{"endpoint":"https://fcm.googleapis.com/fcm/send/abc","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J"}}}}}
--- error_code: 400
--- response_body_like
"code":"5400".*auth

=== TEST 8: an endpoint off the allow-list (SSRF guard)
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
--- config
location /push-notification-subscriptions { webpush_subscriptions; }
--- request
POST /push-notification-subscriptions
{"data":{"type":"push-notification-subscriptions","attributes":{"providerName":"web-push-php","group":{"name":"warehouse"},"payload":{"endpoint":"https://fcm.googleapis.com@169.254.169.254/latest","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}}}}
--- error_code: 400
--- response_body_like
"code":"5400"

=== TEST 9: plain http only where a pattern allows it
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_push_hosts default http://127.0.0.1:9999;
--- config
location /push-notification-subscriptions { webpush_subscriptions; }
--- request
POST /push-notification-subscriptions
{"data":{"type":"push-notification-subscriptions","attributes":{"providerName":"web-push-php","group":{"name":"local"},"payload":{"endpoint":"http://127.0.0.1:9999/push/1","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}}}}
--- error_code: 201

=== TEST 10: missing providerName is 400 (the reference answers 500)
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
--- config
location /push-notification-subscriptions { webpush_subscriptions; }
--- request
POST /push-notification-subscriptions
{"data":{"type":"push-notification-subscriptions","attributes":{"group":{"name":"warehouse"},"payload":{}}}}
--- error_code: 400
--- response_body_like
"code":"5400"

=== TEST 11: payload that is not an object
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
--- config
location /push-notification-subscriptions { webpush_subscriptions; }
--- request
POST /push-notification-subscriptions
{"data":{"type":"push-notification-subscriptions","attributes":{"providerName":"web-push-php","group":{"name":"warehouse"},"payload":"https://x"}}}
--- error_code: 400
--- response_body_like
"code":"5400"

=== TEST 12: deep nesting is refused before it is parsed
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
--- config
location /push-notification-subscriptions { webpush_subscriptions; }
--- request eval
"POST /push-notification-subscriptions\n" . ('[' x 100000) . (']' x 100000)
--- error_code: 400
--- response_body_like
"code":"5400"

=== TEST 13: invalid UTF-8
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
--- config
location /push-notification-subscriptions { webpush_subscriptions; }
--- request eval
"POST /push-notification-subscriptions\n"
. qq|{"data":{"type":"push-notification-subscriptions","attributes":{"providerName":"\xff\xfe","group":{"name":"w"},"payload":{}}}}|
--- error_code: 400
--- response_body_like
"code":"5400"

=== TEST 14: a body over client_max_body_size is nginx's 413
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
--- config
client_max_body_size 1k;
location /push-notification-subscriptions { webpush_subscriptions; }
--- request eval
"POST /push-notification-subscriptions\n" . ('x' x 2000)
--- error_code: 413

=== TEST 15: delete
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
--- config
location /push-notification-subscriptions { webpush_subscriptions; }
--- init_sql
UPDATE spy_push_notification_subscription SET uuid = 'c0000000-0000-4000-8000-000000000001' WHERE id_push_notification_subscription = 1;
INSERT INTO spy_push_notification VALUES (1, 'b0000000-0000-4000-8000-000000000001', 1, 1, '{}', now(), now());
INSERT INTO spy_push_notification_subscription_delivery_log
    SELECT 1, 1, id_push_notification_subscription, now(), now()
    FROM spy_push_notification_subscription WHERE uuid = 'c0000000-0000-4000-8000-000000000001';
--- request
DELETE /push-notification-subscriptions/c0000000-0000-4000-8000-000000000001
--- error_code: 204
--- sql
SELECT count(*) FROM spy_push_notification_subscription WHERE uuid = 'c0000000-0000-4000-8000-000000000001'
--- sql_result
0

=== TEST 16: delete an unknown one is 404
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
--- config
location /push-notification-subscriptions { webpush_subscriptions; }
--- request
DELETE /push-notification-subscriptions/c0000000-0000-4000-8000-000000000001
--- error_code: 404
--- response_json
{"errors":[{"code":"404","status":404,"message":"Push notification subscription not found."}]}
