# The database going away and coming back: 503 with a JSON:API error
# within webpush_postgres_timeout, no crash, and requests succeed again
# without an nginx restart.  Also: identical subscriptions racing.
#
# The blocks share one nginx (same configuration) and a cluster of their
# own under the prefix, so stopping it disturbs no other test file.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;

defaults(
    http_config => <<'EOC',
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "host=$TEST_NGINX_SERVROOT/pg port=5432 user=postgres dbname=postgres";
webpush_postgres_timeout 1s;
EOC
);

run_tests();

__DATA__

=== TEST 1: a working database
--- shell
$TEST_TOP/t/bin/pgcluster start $TEST_NGINX_SERVROOT/pg fast >/dev/null
--- config
location /push-notification-providers { webpush_providers; }
location /push-notification-subscriptions { webpush_subscriptions; }
--- request
POST /push-notification-providers
{"data":{"type":"push-notification-providers","attributes":{"name":"p1"}}}
--- error_code: 201

=== TEST 2: the database stops: 503 in time, nothing crashes
--- shell
$TEST_TOP/t/bin/pgcluster stop $TEST_NGINX_SERVROOT/pg
--- config
location /push-notification-providers { webpush_providers; }
location /push-notification-subscriptions { webpush_subscriptions; }
--- request
POST /push-notification-providers
{"data":{"type":"push-notification-providers","attributes":{"name":"p2"}}}
--- timeout: 5
--- error_code: 503
--- response_json
{"errors":[{"code":"503","status":503,"message":"Database unavailable.","detail":"try again later"}]}
--- error_log
webpush: database unavailable

=== TEST 3: the database is back: the same request succeeds
--- shell
$TEST_TOP/t/bin/pgcluster start $TEST_NGINX_SERVROOT/pg fast >/dev/null
--- config
location /push-notification-providers { webpush_providers; }
location /push-notification-subscriptions { webpush_subscriptions; }
--- request
POST /push-notification-providers
{"data":{"type":"push-notification-providers","attributes":{"name":"p2"}}}
--- error_code: 201
--- no_error_log
webpush: database unavailable

=== TEST 4: twenty identical subscriptions at once store one row
--- shell
body='{"data":{"type":"push-notification-subscriptions","attributes":{"providerName":"p1","group":{"name":"race","identifier":"1"},"payload":{"endpoint":"https://fcm.googleapis.com/fcm/send/race","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}}}}'
for i in $(seq 20); do
    curl -s -o /dev/null -w '%{http_code}\n' -X POST --data "$body" \
        http://127.0.0.1:$TEST_NGINX_PORT/push-notification-subscriptions &
done > $TEST_NGINX_SERVROOT/race.txt
wait
sort $TEST_NGINX_SERVROOT/race.txt | uniq -c | awk '{print $2 "x" $1}' \
    | paste -sd ' ' > $TEST_NGINX_SERVROOT/race-summary.txt
--- config
location /push-notification-providers { webpush_providers; }
location /push-notification-subscriptions { webpush_subscriptions; }
location = /race { alias $TEST_NGINX_SERVROOT/race-summary.txt; }
--- request
GET /race
--- response_body: 201x1 400x19

=== TEST 5: the database stops for good: status still answers
--- shell
$TEST_TOP/t/bin/pgcluster stop $TEST_NGINX_SERVROOT/pg
--- config
location /push-notification-providers { webpush_providers; }
location /push-notification-subscriptions { webpush_subscriptions; }
location = /race { alias $TEST_NGINX_SERVROOT/race-summary.txt; }
location = /status { webpush_status; }
--- request
GET /status
--- error_code: 200
--- response_body_like
"configured":true
