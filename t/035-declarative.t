# Declarative Web Push (issue 15): a payload with "web_push": 8030 is
# checked when it is posted as WebKit's parser would check it on the
# device (src/api/declarative.hpp): notification.title a non-empty
# string, notification.navigate and each action's navigate an absolute
# https: URL, each action with a title, app_badge (top level or inside
# notification) an integer >= 0.  A valid one is stored and delivered as
# it was posted (mock-push.js decrypts it); an invalid one is refused with
# 400 / 5400 and a detail naming the member, and nothing is stored.  A
# payload without web_push (or with another value) is not checked.
#
# Subscriptions (RFC 8291 Appendix A keys), group "main": 1 aes128gcm,
# 2 aesgcm.

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
webpush_timeout 2s;
EOC
    config => <<'EOC',
location /api/push-notifications { webpush_notifications; }
EOC
);

run_tests();

__DATA__

=== TEST 1: a full declarative payload (actions, app_badge at both places, mutable, icon) is accepted
--- shell
node $TEST_TOP/t/node/mock-push.js --port $TEST_PORT_A --pidfile $TEST_NGINX_SERVROOT/pids/mock.pid
--- init_sql
INSERT INTO spy_push_notification_provider VALUES (1, '00000000-0000-4000-8000-000000000001', 'web-push-php', now(), now());
INSERT INTO spy_push_notification_group VALUES
    (1, 'c0000000-0000-4000-8000-000000000001', 'main', '1', now(), now());
INSERT INTO spy_push_notification_subscription
SELECT id, 'a0000000-0000-4000-8000-' || lpad(id::text, 12, '0'), 1, 1, NULL,
       '{"endpoint":"http://127.0.0.1:$TEST_PORT_A/push/ok/' || id
       || '","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}'
       || enc || '}',
       md5(id::text), now() AT TIME ZONE 'UTC' + interval '1 day', now(), now()
FROM (VALUES (1, ''), (2, ',"contentEncoding":"aesgcm"')) AS s(id, enc);
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},"payload":{"web_push":8030,"notification":{"title":"Order shipped","body":"Order 42 is on its way","lang":"en-US","dir":"ltr","tag":"order-42","icon":"https://shop.example/icon.png","navigate":"https://shop.example/orders/42","app_badge":3,"actions":[{"action":"track","title":"Track","navigate":"https://shop.example/track/42"},{"title":"Help","navigate":"https://help.shop.example/"}],"data":{"order":42}},"app_badge":3,"mutable":true}}}}
--- error_code: 201
--- response_json
{"data":{"type":"push-notifications","id":"~^[0-9a-f-]{36}$",
 "attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},
   "payload":{"web_push":8030,"notification":{"title":"Order shipped","body":"Order 42 is on its way","lang":"en-US","dir":"ltr","tag":"order-42","icon":"https://shop.example/icon.png","navigate":"https://shop.example/orders/42","app_badge":3,"actions":[{"action":"track","title":"Track","navigate":"https://shop.example/track/42"},{"title":"Help","navigate":"https://help.shop.example/"}],"data":{"order":42}},"app_badge":3,"mutable":true},
   "ttl":"*","urgency":null,"topic":null},
 "links":{"self":"*"}}}

=== TEST 2: it is delivered to both subscriptions as it was posted (decrypted by the push service)
--- eventually: 10
--- check
cd $TEST_TOP/t/node
for i in 1 2; do
    node mock-push.js log $TEST_PORT_A --path /push/ok/$i --fields status,ce,payload
done
--- check_result
201 aes128gcm {"web_push":8030,"notification":{"title":"Order shipped","body":"Order 42 is on its way","lang":"en-US","dir":"ltr","tag":"order-42","icon":"https://shop.example/icon.png","navigate":"https://shop.example/orders/42","app_badge":3,"actions":[{"action":"track","title":"Track","navigate":"https://shop.example/track/42"},{"title":"Help","navigate":"https://help.shop.example/"}],"data":{"order":42}},"app_badge":3,"mutable":true}
201 aesgcm {"web_push":8030,"notification":{"title":"Order shipped","body":"Order 42 is on its way","lang":"en-US","dir":"ltr","tag":"order-42","icon":"https://shop.example/icon.png","navigate":"https://shop.example/orders/42","app_badge":3,"actions":[{"action":"track","title":"Track","navigate":"https://shop.example/track/42"},{"title":"Help","navigate":"https://help.shop.example/"}],"data":{"order":42}},"app_badge":3,"mutable":true}

=== TEST 3: a minimal one (title and navigate only), and app_badge 0, are accepted and delivered
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},"payload":{"web_push":8030,"app_badge":0,"notification":{"title":"Hi","navigate":"HTTPS://shop.example:8443/?q=1#top"}}}}}
--- error_code: 201
--- eventually: 10
--- check
cd $TEST_TOP/t/node
node mock-push.js log $TEST_PORT_A --path /push/ok/1 --fields status,payload | tail -n 1
--- check_result
201 {"web_push":8030,"app_badge":0,"notification":{"title":"Hi","navigate":"HTTPS://shop.example:8443/?q=1#top"}}

=== TEST 4: a navigate that is not https: is refused with 5400 and a detail naming the member
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},"payload":{"web_push":8030,"notification":{"title":"Hi","navigate":"http://shop.example/"}}}}}
--- error_code: 400
--- response_json
{"errors":[{"code":"5400","status":400,"message":"Wrong request body.","detail":"\"payload.notification.navigate\" must be an absolute https: URL"}]}

=== TEST 5: each invalid form is refused with 400 / 5400 and its detail
--- check
post() {
    curl -s -w ' %{http_code}\n' -X POST \
        -H 'Content-Type: application/vnd.api+json' \
        --data "{\"data\":{\"type\":\"push-notifications\",\"attributes\":{\"providerName\":\"web-push-php\",\"group\":{\"name\":\"main\",\"identifier\":\"1\"},\"payload\":$1}}}" \
        http://127.0.0.1:$TEST_NGINX_PORT/api/push-notifications \
    | sed -e 's/^{"errors":\[{"code":"5400","status":400,"message":"Wrong request body.","detail":/5400 /' -e 's/}\]} / /'
}
N='"navigate":"https://shop.example/"'
post '{"web_push":8030}'
post '{"web_push":8030,"notification":"Hi"}'
post '{"web_push":8030,"notification":{'"$N"'}}'
post '{"web_push":8030,"notification":{"title":"",'"$N"'}}'
post '{"web_push":8030,"notification":{"title":7,'"$N"'}}'
post '{"web_push":8030,"notification":{"title":"Hi"}}'
post '{"web_push":8030,"notification":{"title":"Hi","navigate":"/orders/42"}}'
post '{"web_push":8030,"notification":{"title":"Hi","navigate":"javascript:alert(1)"}}'
post '{"web_push":8030,"notification":{"title":"Hi","navigate":"https://"}}'
post '{"web_push":8030,"notification":{"title":"Hi",'"$N"',"actions":{}}}'
post '{"web_push":8030,"notification":{"title":"Hi",'"$N"',"actions":["x"]}}'
post '{"web_push":8030,"notification":{"title":"Hi",'"$N"',"actions":[{"title":"A",'"$N"'},{"title":"B","navigate":"http://shop.example/"}]}}'
post '{"web_push":8030,"notification":{"title":"Hi",'"$N"',"actions":[{"action":"a",'"$N"'}]}}'
post '{"web_push":8030,"notification":{"title":"Hi",'"$N"',"actions":[{"title":"A"}]}}'
post '{"web_push":8030,"app_badge":-1,"notification":{"title":"Hi",'"$N"'}}'
post '{"web_push":8030,"app_badge":"3","notification":{"title":"Hi",'"$N"'}}'
post '{"web_push":8030,"notification":{"title":"Hi",'"$N"',"app_badge":1.5}}'
post '{"web_push":8030,"notification":{"title":"Hi",'"$N"',"app_badge":null}}'
post '{"web_push":8030,"mutable":"yes","notification":{"title":"Hi",'"$N"',"icon":"icon.png"}}'
post '{"web_push":8030,"notification":{"title":"",'"$N"',"actions":[{}]}}'
--- check_result
5400 "\"payload.notification\" must be an object (Declarative Web Push, \"web_push\": 8030)" 400
5400 "\"payload.notification\" must be an object (Declarative Web Push, \"web_push\": 8030)" 400
5400 "\"payload.notification.title\" must be a non-empty string" 400
5400 "\"payload.notification.title\" must be a non-empty string" 400
5400 "\"payload.notification.title\" must be a non-empty string" 400
5400 "\"payload.notification.navigate\" must be an absolute https: URL" 400
5400 "\"payload.notification.navigate\" must be an absolute https: URL" 400
5400 "\"payload.notification.navigate\" must be an absolute https: URL" 400
5400 "\"payload.notification.navigate\" must be an absolute https: URL" 400
5400 "\"payload.notification.actions\" must be an array" 400
5400 "\"payload.notification.actions[0]\" must be an object" 400
5400 "\"payload.notification.actions[1].navigate\" must be an absolute https: URL" 400
5400 "\"payload.notification.actions[0].title\" must be a non-empty string" 400
5400 "\"payload.notification.actions[0].navigate\" must be an absolute https: URL" 400
5400 "\"payload.app_badge\" must be an integer >= 0" 400
5400 "\"payload.app_badge\" must be an integer >= 0" 400
5400 "\"payload.notification.app_badge\" must be an integer >= 0" 400
5400 "\"payload.notification.app_badge\" must be an integer >= 0" 400
5400 "\"payload.mutable\" must be a boolean; \"payload.notification.icon\" must be an absolute URL" 400
5400 "\"payload.notification.title\" must be a non-empty string; \"payload.notification.actions[0].title\" must be a non-empty string; \"payload.notification.actions[0].navigate\" must be an absolute https: URL" 400
--- sql
SELECT count(*) FROM spy_push_notification;
SELECT count(*) FROM webpush_deliveries;
--- sql_result
2
4

=== TEST 6: a payload without web_push 8030 is not checked (sent as it is)
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},"payload":{"web_push":1,"notification":{"title":"","navigate":"/x"},"app_badge":-1}}}}
--- error_code: 201
--- eventually: 10
--- check
cd $TEST_TOP/t/node
node mock-push.js log $TEST_PORT_A --path /push/ok/2 --fields status,payload | tail -n 1
--- check_result
201 {"web_push":1,"notification":{"title":"","navigate":"/x"},"app_badge":-1}
--- sql
SELECT count(*) FROM spy_push_notification;
--- sql_result
3
