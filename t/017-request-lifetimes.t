# Requests that go away while their query waits: a client that
# disconnects, and a reload whose worker_shutdown_timeout closes what the
# old workers still hold.  The query finishes later; its answer finds the
# request gone and is dropped (no use of freed memory: the suite runs
# again under AddressSanitizer), the old workers exit, nothing is left
# open ("open socket left" would be an alert).
#
# A row lock held by another session keeps the queries waiting.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;

defaults(
    main_config => <<'EOC',
worker_shutdown_timeout 1s;
EOC
    http_config => <<'EOC',
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_postgres_timeout 10s;
webpush_sender off;
EOC
    config => <<'EOC',
location /api/ { webpush_providers; }
EOC
);

run_tests();

__DATA__

=== TEST 1: a provider whose row the next blocks lock
--- request
POST /api/push-notification-providers
{"data":{"type":"push-notification-providers","attributes":{"name":"locked"}}}
--- error_code: 201
--- sql
UPDATE spy_push_notification_provider
   SET uuid = '11111111-1111-4111-8111-111111111111'
 WHERE name = 'locked' RETURNING name
--- sql_result
locked

=== TEST 2: the client gives up while the query waits for the lock
--- shell
psql() { $TEST_TOP/t/bin/pgcluster psql $TEST_PG_DIR -d "$TEST_PG_CONNINFO" "$@"; }
psql -c "BEGIN;
         SELECT 1 FROM spy_push_notification_provider
          WHERE name = 'locked' FOR UPDATE;
         SELECT pg_sleep(4);
         COMMIT" >/dev/null 2>&1 &
until [ "$(psql -Atc "SELECT count(*) FROM pg_stat_activity
                       WHERE query LIKE '%pg_sleep(4)%'
                         AND state = 'active' AND pid <> pg_backend_pid()")" = 1 ]
do
    sleep 0.05
done
--- request
PATCH /api/push-notification-providers/11111111-1111-4111-8111-111111111111
{"data":{"type":"push-notification-providers","attributes":{"name":"renamed"}}}
--- timeout: 1
--- error_code: 599
--- error_log
client prematurely closed connection
--- eventually: 15
--- sql
SELECT name FROM spy_push_notification_provider
 WHERE uuid = '11111111-1111-4111-8111-111111111111'
--- sql_result
renamed

=== TEST 3: a reload while queries wait; worker_shutdown_timeout ends them
--- shell
psql() { $TEST_TOP/t/bin/pgcluster psql $TEST_PG_DIR -d "$TEST_PG_CONNINFO" "$@"; }
psql -c "BEGIN;
         SELECT 1 FROM spy_push_notification_provider
          WHERE name = 'renamed' FOR UPDATE;
         SELECT pg_sleep(5);
         COMMIT" >/dev/null 2>&1 &
until [ "$(psql -Atc "SELECT count(*) FROM pg_stat_activity
                       WHERE query LIKE '%pg_sleep(5)%'
                         AND state = 'active' AND pid <> pg_backend_pid()")" = 1 ]
do
    sleep 0.05
done
for i in 1 2 3 4; do
    curl -s -o /dev/null -m 15 -X PATCH \
        --data "{\"data\":{\"type\":\"push-notification-providers\",\"attributes\":{\"name\":\"renamed-$i\"}}}" \
        http://127.0.0.1:$TEST_NGINX_PORT/api/push-notification-providers/11111111-1111-4111-8111-111111111111 &
done
# the four wait for the lock: the module's sessions show it
until [ "$(psql -Atc "SELECT count(*) FROM pg_stat_activity
                       WHERE application_name = 'nginx-webpush'
                         AND wait_event_type = 'Lock'")" -ge 2 ]
do
    sleep 0.05
done
ps -o pid= --ppid "$(cat $TEST_NGINX_SERVROOT/logs/nginx.pid)" \
    > $TEST_NGINX_SERVROOT/old-workers
kill -HUP "$(cat $TEST_NGINX_SERVROOT/logs/nginx.pid)"
--- request
GET /api/push-notification-providers
--- error_code: 200
--- error_log
nginx closes the worker's connections
--- eventually: 20
--- check
# the old workers are gone (they did not wait for the lock to go)
for pid in $(cat $TEST_NGINX_SERVROOT/old-workers); do
    if kill -0 $pid 2>/dev/null; then echo "$pid still runs"; fi
done
echo done
--- check_result
done
