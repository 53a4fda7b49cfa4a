# The module loads into the stock nginx and its informational handlers
# answer.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;

run_tests();

__DATA__

=== TEST 1: the module loads and a status location answers
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
--- config
location = /status { webpush_status; }
--- request
GET /status
--- error_code: 200
--- response_headers
Content-Type: application/json
--- response_json
{"version":"~^\\d+\\.\\d+\\.\\d+$","nginx":"1.22.1","pid":"*",
 "postgres":{"configured":false,"schema_ready":false,"pool":2,
  "connected":0,"busy":0,"queued":0,"queries":0,"errors":0,"timeouts":0,
  "reconnects":0}}
--- no_error_log
[error]

=== TEST 2: the VAPID public key is the key file's public point
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
--- config
location = /vapid { webpush_vapid_public_key; }
--- request
GET /vapid
--- error_code: 200
--- response_json
{"publicKey":"$TEST_VAPID_PUBLIC_KEY"}

=== TEST 3: only GET and HEAD are allowed
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
--- config
location = /vapid { webpush_vapid_public_key; }
--- request
POST /vapid
x
--- error_code: 405

=== TEST 4: Prometheus format
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
--- config
location = /status { webpush_status; }
--- request
GET /status?format=prometheus
--- error_code: 200
--- response_headers
Content-Type: ~^text/plain; version=0\.0\.4
--- response_body_like
^# HELP webpush_info .*\nwebpush_info\{version="[0-9.]+",nginx="1\.22\.1"\} 1\n.*# TYPE webpush_postgres_queries_total counter\nwebpush_postgres_queries_total\{pid="\d+"\} 0\n

=== TEST 5: a configuration without webpush handlers needs no settings
--- config
location = /plain { return 200 "plain\n"; }
--- request
GET /plain
--- error_code: 200
--- response_body
plain
