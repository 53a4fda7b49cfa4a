# HTTP/1.1 carries one request per connection: with webpush_concurrency
# counting streams (default 1000), a push service that speaks HTTP/1.1
# only must not take every connection of the worker.  The client keeps
# its HTTP/1.1 connections within half of worker_connections; requests
# beyond wait for a free connection (issue 13).
#
# worker_connections 64 (32 push connections per worker, 2 workers), 240
# subscriptions on a plain-HTTP mock that answers each push after 300 ms:
# without the cap each worker would try to open ~120 connections at once
# ("worker_connections are not enough", an [alert], and failed sends).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;

defaults(
    events_config => "worker_connections 64;\n",
    http_config => <<'EOC',
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_push_hosts http://127.0.0.1:$TEST_PORT_A;
webpush_timeout 5s;
EOC
    config => <<'EOC',
location /api/push-notifications { webpush_notifications; }
EOC
);

run_tests();

__DATA__

=== TEST 1: 240 slow answers over HTTP/1.1 through 64 worker connections
--- shell
node $TEST_TOP/t/node/mock-push.js --port $TEST_PORT_A --pidfile $TEST_NGINX_SERVROOT/pids/mock.pid
--- init_sql
INSERT INTO spy_push_notification_provider VALUES (1, '00000000-0000-4000-8000-000000000001', 'web-push-php', now(), now());
INSERT INTO spy_push_notification_group VALUES
    (1, 'c0000000-0000-4000-8000-000000000001', 'main', '1', now(), now());
INSERT INTO spy_push_notification_subscription
SELECT id, 'a0000000-0000-4000-8000-' || lpad(id::text, 12, '0'), 1, 1, NULL,
       '{"endpoint":"http://127.0.0.1:$TEST_PORT_A/push/slow-300/' || id
       || '","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}',
       md5(id::text), now() AT TIME ZONE 'UTC' + interval '1 day', now(), now()
FROM generate_series(1, 240) id;
--- request
POST /api/push-notifications
{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"main","identifier":"1"},"payload":{"n":1}}}}
--- error_code: 201
--- eventually: 60
--- sql
SELECT state, attempts, count(*) FROM webpush_deliveries GROUP BY 1, 2
--- sql_result
sent|1|240
--- check
curl -s http://127.0.0.1:$TEST_PORT_A/log | node -e '
const log = JSON.parse(require("fs").readFileSync(0, "utf8"))
    .filter((r) => r.path.startsWith("/push/slow-300/"));
// answers are held 300 ms: pushes that arrived within 300 ms of each
// other were in flight at once, each on its own connection
const t = log.map((r) => r.t).sort((a, b) => a - b);
let peak = 0;
for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i] - t[j] >= 300) j++;
    peak = Math.max(peak, i - j + 1);
}
const paths = new Set(log.map((r) => r.path));
console.log(`${log.length} pushes, ${paths.size} paths, decrypted ${
    log.filter((r) => r.payload === "{\"n\":1}").length}`);
console.log(peak <= 64 ? "in flight within 2 x 32" : `in flight ${peak}`);
console.log(peak > 40 ? "the cap was reached" : `peak only ${peak}`);
'
--- check_result
240 pushes, 240 paths, decrypted 240
in flight within 2 x 32
the cap was reached
--- no_error_log
worker_connections are not enough
no socket or connection available
