# localizedPayloads (issue 15): a subscription whose locale (spy_locale
# via its fk_locale) is a key of localizedPayloads gets that payload, the
# others get "payload".  Each value is checked as "payload" is (an
# object, at most 3052 bytes compact, the Declarative Web Push rules with
# "localizedPayloads.<locale>" in the detail); keys are locale names, here
# one of webpush_locales.  An invalid form is refused with 400 / 5400 and
# nothing is stored.  GET and the 201 reply echo it; the Idempotency-Key
# fingerprint includes it.
#
# spy_locale as in a Spryker database: de_DE 46, fr_FR 47, en_US 66.
# Subscriptions (RFC 8291 Appendix A keys) at the mock push service,
# group "main": 1 de_DE, 2 fr_FR, 3 no locale, 4 en_US (aesgcm).
# The ten-argument webpush_notification_create() of version 5 stays.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;
use Test::Webpush::Fixture;

defaults(
    http_config => Test::Webpush::Fixture::http_config(
        'webpush_timeout 2s;', 'webpush_locales de_DE fr_FR en_US;'),
    config => <<'EOC',
location /api/push-notifications { webpush_notifications; }
EOC
);

run_tests();

__DATA__

=== TEST 1: a notification with payloads for de_DE and en_US is created and echoed
--- shell
node $TEST_TOP/t/node/mock-push.js --port $TEST_PORT_A --pidfile $TEST_NGINX_SERVROOT/pids/mock.pid
--- init_sql eval
<<'SQL'
CREATE TABLE spy_locale (id_locale integer NOT NULL PRIMARY KEY,
    locale_name varchar(5) NOT NULL UNIQUE, is_active boolean);
INSERT INTO spy_locale VALUES (46, 'de_DE', 't'), (47, 'fr_FR', 't'),
    (66, 'en_US', 't');
SQL
. Test::Webpush::Fixture::provider_sql()
. Test::Webpush::Fixture::groups_sql([1, 'main', '1'])
. Test::Webpush::Fixture::subscriptions_sql(<<'SQL')
VALUES (1, 1, 'ok', 46, ''), (2, 1, 'ok', 47, ''), (3, 1, 'ok', NULL, ''),
       (4, 1, 'ok', 66, ',"contentEncoding":"aesgcm"')
SQL
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},"payload":{"title":"Order shipped","lang":"en"},"localizedPayloads":{"en_US":{"title":"Your order shipped"},"de_DE":{"title":"Bestellung versandt","body":"Gr\u00fc\u00dfe", "n" : [1, 2]}}}}}
--- error_code: 201
--- response_json
{"data":{"type":"push-notifications","id":"~^[0-9a-f-]{36}$",
 "attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},
   "payload":{"title":"Order shipped","lang":"en"},
   "localizedPayloads":{"de_DE":{"title":"Bestellung versandt","body":"Grüße","n":[1,2]},
                        "en_US":{"title":"Your order shipped"}},
   "ttl":"*","urgency":null,"topic":null},
 "links":{"self":"*"}}}
--- sql
SELECT max(version) = $TEST_SCHEMA_VERSION FROM webpush_schema_version;
SELECT localized_payloads ->> 'de_DE' FROM webpush_notification;
SELECT string_agg(k, ',' ORDER BY k) FROM webpush_notification,
    jsonb_object_keys(localized_by_locale) k;
--- sql_result
t
{"title":"Bestellung versandt","body":"Grüße","n":[1,2]}
46,66

=== TEST 2: each subscription got its locale's payload, the others the default (decrypted by the push service)
--- eventually: 10
--- check
cd $TEST_TOP/t/node
for i in 1 2 3 4; do
    node mock-push.js log $TEST_PORT_A --path /push/ok/$i --fields status,ce,payload
done
--- check_result
201 aes128gcm {"title":"Bestellung versandt","body":"Grüße","n":[1,2]}
201 aes128gcm {"title":"Order shipped","lang":"en"}
201 aes128gcm {"title":"Order shipped","lang":"en"}
201 aesgcm {"title":"Your order shipped"}

=== TEST 3: GET echoes localizedPayloads
--- init_sql
UPDATE spy_push_notification SET uuid = 'd0000000-0000-4000-8000-000000000001';
--- request
GET /api/push-notifications/d0000000-0000-4000-8000-000000000001
--- error_code: 200
--- response_json
{"data":{"type":"push-notifications","id":"d0000000-0000-4000-8000-000000000001",
 "attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},
   "payload":{"title":"Order shipped","lang":"en"},
   "localizedPayloads":{"de_DE":{"title":"Bestellung versandt","body":"Grüße","n":[1,2]},
                        "en_US":{"title":"Your order shipped"}},
   "ttl":"*","urgency":null,"topic":null,
   "delivery":{"targeted":4,"sent":4,"pending":0,"failed":0,"gone":0,"cancelled":0},
   "state":"done",
   "engagement":{"shown":0,"clicked":0,"closed":0}},
 "links":{"self":"*"}}}

=== TEST 4: without localizedPayloads every subscription gets the payload; GET has no localizedPayloads
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},"payload":{"n":2},"localizedPayloads":null}}}
--- error_code: 201
--- response_json
{"data":{"type":"push-notifications","id":"~^[0-9a-f-]{36}$",
 "attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},
   "payload":{"n":2},"ttl":"*","urgency":null,"topic":null},
 "links":{"self":"*"}}}
--- eventually: 10
--- check
cd $TEST_TOP/t/node
for i in 1 2 3 4; do
    node mock-push.js log $TEST_PORT_A --path /push/ok/$i --fields status,payload | tail -n 1
done
--- check_result
201 {"n":2}
201 {"n":2}
201 {"n":2}
201 {"n":2}
--- sql
SELECT count(*) FROM webpush_notification WHERE localized_payloads IS NULL;
--- sql_result
1

=== TEST 5: each invalid form is refused with 400 / 5400 and its detail, nothing is stored
--- check
post() {
    curl -s -w ' %{http_code}\n' -X POST \
        -H 'Content-Type: application/vnd.api+json' \
        --data "{\"data\":{\"type\":\"push-notifications\",\"attributes\":{\"providerName\":\"web-push-php\",\"group\":{\"name\":\"main\",\"identifier\":\"1\"},\"payload\":{\"title\":\"Hi\"},\"localizedPayloads\":$1}}}" \
        http://127.0.0.1:$TEST_NGINX_PORT/api/push-notifications \
    | sed -e 's/^{"errors":\[{"code":"5400","status":400,"message":"\([^"]*\)","detail":/5400 \1 /' -e 's/}\]} / /'
}
N='"navigate":"https://shop.example/"'
big=$(head -c 3100 /dev/zero | tr '\0' x)
post '[{"de_DE":{}}]'
post '"de_DE"'
post '{"de_DE":"Hallo"}'
post '{"de_DE":null}'
post '{"de_DE":{"t":"'"$big"'"}}'
post '{"xx_XX":{"title":"Hi"}}'
post '{"":{"title":"Hi"}}'
post '{"de_DE":{"web_push":8030,"notification":{"title":"",'"$N"'}}}'
post '{"fr_FR":{"web_push":8030,"notification":{"title":"Salut","navigate":"http://shop.example/"}}}'
--- check_result
5400 Wrong request body. "\"localizedPayloads\" must be an object or null" 400
5400 Wrong request body. "\"localizedPayloads\" must be an object or null" 400
5400 Wrong request body. "\"localizedPayloads.de_DE\" must be an object" 400
5400 Wrong request body. "\"localizedPayloads.de_DE\" must be an object" 400
5400 The maximum payload length exceeded. "the compact \"localizedPayloads.de_DE\" is 3108 bytes, at most 3052 are allowed" 400
5400 Wrong request body. "\"localizedPayloads.xx_XX\": the locale is not one of webpush_locales" 400
5400 Wrong request body. "\"localizedPayloads\" keys must be locale names of 1 to 255 characters" 400
5400 Wrong request body. "\"localizedPayloads.de_DE.notification.title\" must be a non-empty string" 400
5400 Wrong request body. "\"localizedPayloads.fr_FR.notification.navigate\" must be an absolute https: URL" 400
--- sql
SELECT count(*) FROM spy_push_notification;
SELECT count(*) FROM webpush_deliveries;
--- sql_result
2
8

=== TEST 6: a valid declarative localized payload is accepted and delivered to its locale
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},"payload":{"title":"Hi"},"localizedPayloads":{"fr_FR":{"web_push":8030,"notification":{"title":"Salut","navigate":"https://shop.example/fr"}}}}}}
--- error_code: 201
--- eventually: 10
--- check
cd $TEST_TOP/t/node
for i in 1 2; do
    node mock-push.js log $TEST_PORT_A --path /push/ok/$i --fields status,payload | tail -n 1
done
--- check_result
201 {"title":"Hi"}
201 {"web_push":8030,"notification":{"title":"Salut","navigate":"https://shop.example/fr"}}

=== TEST 7: Idempotency-Key: the same request again is the same notification
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"idem","identifier":"1"},"payload":{"title":"Hi"},"localizedPayloads":{"de_DE":{"title":"Hallo","x":1}}}}}
--- more_headers
Idempotency-Key: localized-1
--- error_code: 201
--- response_json
{"data":{"type":"push-notifications","id":"~^[0-9a-f-]{36}$",
 "attributes":{"providerName":"web-push-php","group":{"name":"idem","identifier":"1"},
   "payload":{"title":"Hi"},"localizedPayloads":{"de_DE":{"title":"Hallo","x":1}},
   "ttl":"*","urgency":null,"topic":null},
 "links":{"self":"*"}}}
--- check
for i in 1 2; do
    curl -s -X POST -H 'Content-Type: application/vnd.api+json' \
        -H 'Idempotency-Key: localized-1' -w ' %{http_code}\n' \
        --data '{"data":{"type":"push-notifications","attributes":{"localizedPayloads":{"de_DE":{"x":1,"title":"Hallo"}},"providerName":"web-push-php","group":{"name":"idem","identifier":"1"},"payload":{"title":"Hi"}}}}' \
        http://127.0.0.1:$TEST_NGINX_PORT/api/push-notifications \
    | sed -E 's/.*"id":"([0-9a-f-]+)".* ([0-9]+)$/\2 \1/'
done > $TEST_NGINX_SERVROOT/idem.txt
cut -d' ' -f1 $TEST_NGINX_SERVROOT/idem.txt
cut -d' ' -f2 $TEST_NGINX_SERVROOT/idem.txt | sort -u | wc -l
--- check_result
201
201
1
--- sql
SELECT count(*) FROM spy_push_notification;
--- sql_result
4

=== TEST 8: the same key with other localizedPayloads (or none): 409 / 5011, nothing stored
--- check
post() {
    curl -s -X POST -H 'Content-Type: application/vnd.api+json' \
        -H 'Idempotency-Key: localized-1' -w ' %{http_code}\n' \
        --data "{\"data\":{\"type\":\"push-notifications\",\"attributes\":{\"providerName\":\"web-push-php\",\"group\":{\"name\":\"idem\",\"identifier\":\"1\"},\"payload\":{\"title\":\"Hi\"}$1}}}" \
        http://127.0.0.1:$TEST_NGINX_PORT/api/push-notifications
}
post ',"localizedPayloads":{"de_DE":{"title":"Hallo","x":2}}'
post ',"localizedPayloads":{"de_DE":{"title":"Hallo","x":1},"fr_FR":{"title":"Salut"}}'
post ''
--- check_result
{"errors":[{"code":"5011","status":409,"message":"Idempotency key reused with a different request."}]} 409
{"errors":[{"code":"5011","status":409,"message":"Idempotency key reused with a different request."}]} 409
{"errors":[{"code":"5011","status":409,"message":"Idempotency key reused with a different request."}]} 409
--- sql
SELECT count(*) FROM spy_push_notification;
--- sql_result
4

=== TEST 9: the ten-argument webpush_notification_create() of version 5 still works (no localized payloads)
--- init_sql
SELECT provider_found, conflict, replayed FROM webpush_notification_create('web-push-php', 'main', '1', '{"v":5}', 600, NULL, NULL, NULL, NULL, NULL);
--- request
GET /api/push-notifications/x
--- error_code: 404
--- eventually: 10
--- check
cd $TEST_TOP/t/node
for i in 1 4; do
    node mock-push.js log $TEST_PORT_A --path /push/ok/$i --fields status,payload | tail -n 1
done
--- check_result
201 {"v":5}
201 {"v":5}
--- sql
SELECT count(*) FROM webpush_notification WHERE localized_payloads IS NULL
    AND localized_by_locale IS NULL;
--- sql_result
2
