# The smoke run against one nginx binary and one build of the module
# (TEST_NGINX_BINARY, TEST_NGINX_MODULE): t/060-nginx-versions.t runs it
# with nginx built from each source archive, t/smoke/deb-test with the
# system nginx and the module a package installed.  Not a .t file: "prove
# -r t" does not run it on its own.
#
#   WEBPUSH_NGINX_VERSION  the version "nginx -v" must report (optional)
#   WEBPUSH_RENDER_CONF    the example configuration "nginx -t" checks
#                          (default conf/nginx.conf)

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::Webpush;

defaults(
    http_config => <<'EOC',
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_push_hosts http://127.0.0.1:$TEST_PORT_A;
webpush_timeout 5s;
EOC
    config => <<'EOC',
location /api/ {
    webpush_subscriptions;
}
location /api/push-notification-providers { webpush_providers; }
location /api/push-notifications { webpush_notifications; }
location = /status { webpush_status; }
EOC
);

run_tests();

__DATA__

=== TEST 1: the nginx asked for; "nginx -t" accepts the example configuration
--- shell
if [ -n "${WEBPUSH_NGINX_VERSION:-}" ]; then
    v=$($TEST_NGINX_BINARY -v 2>&1)
    if [ "$v" != "nginx version: nginx/$WEBPUSH_NGINX_VERSION" ]; then
        echo "$TEST_NGINX_BINARY is \"$v\", not $WEBPUSH_NGINX_VERSION" >&2
        exit 1
    fi
fi
cp $TEST_VAPID_KEY $TEST_NGINX_SERVROOT/vapid.pem
touch $TEST_NGINX_SERVROOT/htpasswd
WEBPUSH_RENDER_MODULE=$TEST_NGINX_MODULE \
    $TEST_TOP/t/bin/demo render $TEST_NGINX_SERVROOT > $TEST_NGINX_SERVROOT/example.conf
grep -q "^load_module $TEST_NGINX_MODULE;" $TEST_NGINX_SERVROOT/example.conf
--- request
GET /status
--- error_code: 200
--- check
$TEST_NGINX_BINARY -t -p $TEST_NGINX_SERVROOT/ -c $TEST_NGINX_SERVROOT/example.conf \
    -g "pid $TEST_NGINX_SERVROOT/example.pid; error_log stderr;" 2>&1 | sed 's/^nginx: //'
--- check_like
the configuration file \S+example.conf syntax is ok\nconfiguration file \S+example.conf test is successful

=== TEST 2: providers: create
--- request
POST /api/push-notification-providers
{"data":{"type":"push-notification-providers","attributes":{"name":"web-push-php"}}}
--- more_headers
Content-Type: application/vnd.api+json
--- error_code: 201
--- response_json
{"data":{"type":"push-notification-providers","id":"~^[0-9a-f-]{36}$",
 "attributes":{"uuid":"~^[0-9a-f-]{36}$","name":"web-push-php"},
 "links":{"self":"~/api/push-notification-providers/[0-9a-f-]{36}$"}}}

=== TEST 3: providers: create another, list
--- shell
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
    -H 'Content-Type: application/vnd.api+json' \
    --data '{"data":{"type":"push-notification-providers","attributes":{"name":"spare"}}}' \
    http://127.0.0.1:$TEST_NGINX_PORT/api/push-notification-providers)
[ "$code" = 201 ]
--- init_sql
UPDATE spy_push_notification_provider SET uuid = '00000000-0000-4000-8000-000000000009' WHERE name = 'spare';
--- request
GET /api/push-notification-providers?sort=name
--- error_code: 200
--- response_body_like
"name":"spare".*"name":"web-push-php"

=== TEST 4: providers: rename
--- request
PATCH /api/push-notification-providers/00000000-0000-4000-8000-000000000009
{"data":{"type":"push-notification-providers","attributes":{"name":"spare2"}}}
--- error_code: 200
--- response_json
{"data":{"type":"push-notification-providers","id":"00000000-0000-4000-8000-000000000009",
 "attributes":{"uuid":"00000000-0000-4000-8000-000000000009","name":"spare2"},
 "links":{"self":"*"}}}

=== TEST 5: providers: delete, then it is gone
--- request
DELETE /api/push-notification-providers/00000000-0000-4000-8000-000000000009
--- error_code: 204
--- check
curl -s -o /dev/null -w '%{http_code}\n' \
    http://127.0.0.1:$TEST_NGINX_PORT/api/push-notification-providers/00000000-0000-4000-8000-000000000009
--- check_result
404

=== TEST 6: a browser subscribes at web-push-testing, then at the module
--- shell
cd $TEST_TOP/t/node
node wpt.js start $TEST_PORT_A $TEST_NGINX_SERVROOT/pids/wpt.pid
node wpt.js subscribe $TEST_PORT_A $TEST_VAPID_PUBLIC_KEY > $TEST_NGINX_SERVROOT/sub1.json
sub=$(cat $TEST_NGINX_SERVROOT/sub1.json)
code=$(curl -s -o $TEST_NGINX_SERVROOT/subscribed.json -w '%{http_code}' -X POST \
    -H 'Content-Type: application/vnd.api+json' \
    --data "{\"data\":{\"type\":\"push-notification-subscriptions\",\"attributes\":{\"providerName\":\"web-push-php\",\"group\":{\"name\":\"warehouse\",\"identifier\":\"7\"},\"payload\":$sub}}}" \
    http://127.0.0.1:$TEST_NGINX_PORT/api/push-notification-subscriptions)
if [ "$code" != 201 ]; then
    echo "subscription: $code $(cat $TEST_NGINX_SERVROOT/subscribed.json)" >&2
    exit 1
fi
--- request
GET /api/push-notification-subscriptions/x
--- error_code: 405
--- sql
SELECT count(*) FROM spy_push_notification_subscription
--- sql_result
1

=== TEST 7: a notification is delivered and decrypted by web-push-testing
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"warehouse","identifier":"7"},"payload":{"title":"Picking list","body":"Order 42 is ready"}}}}
--- error_code: 201
--- eventually: 20
--- check
cd $TEST_TOP/t/node
hash=$(node -e "console.log(require('$TEST_NGINX_SERVROOT/sub1.json').clientHash)")
node wpt.js messages $TEST_PORT_A $hash
--- check_result
"{\"title\":\"Picking list\",\"body\":\"Order 42 is ready\"}"

=== TEST 8: the status endpoint counts it
--- request
GET /status
--- error_code: 200
--- response_body_like
"queue":\{"depth":0,.*"in_flight":0,"sent":1,"failed":0,

=== TEST 9: a reload: new workers, and they deliver
--- shell
master=$(cat $TEST_NGINX_SERVROOT/logs/nginx.pid)
old=$(ps -o pid= --ppid "$master" | tr -d ' ' | sort)
[ -n "$old" ]
kill -HUP "$master"
for i in $(seq 1 200); do
    now=$(ps -o pid= --ppid "$master" | tr -d ' ' | sort)
    if [ -n "$now" ] && [ -z "$(comm -12 <(echo "$old") <(echo "$now"))" ]; then
        exit 0
    fi
    sleep 0.1
done
echo "the old workers ($old) are still there after a reload: $now" >&2
exit 1
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"warehouse","identifier":"7"},"payload":{"after":"reload"}}}}
--- error_code: 201
--- eventually: 20
--- check
cd $TEST_TOP/t/node
hash=$(node -e "console.log(require('$TEST_NGINX_SERVROOT/sub1.json').clientHash)")
node wpt.js messages $TEST_PORT_A $hash
grep -c '(SIGHUP) received' $TEST_NGINX_SERVROOT/logs/error.log
--- check_result
"{\"title\":\"Picking list\",\"body\":\"Order 42 is ready\"}"
"{\"after\":\"reload\"}"
1
