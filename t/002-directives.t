# Configuration checks: "nginx -t" rejects wrong values with an [emerg]
# line that names the directive and the reason.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;

run_tests();

__DATA__

=== TEST 1: missing key file
--- http_config
webpush_vapid_key /nonexistent/vapid.pem;
--- must_die
--- error_log
[emerg]
"webpush_vapid_key" "/nonexistent/vapid.pem": cannot read
No such file or directory

=== TEST 2: a file that is not a PEM key
--- http_config
webpush_vapid_key $TEST_NGINX_SERVROOT/conf/nginx.conf;
--- must_die
--- error_log
"webpush_vapid_key"
not a PEM private key

=== TEST 3: a P-384 key is refused
--- shell
openssl ecparam -name secp384r1 -genkey -noout -out $TEST_NGINX_SERVROOT/conf/p384.pem
--- http_config
webpush_vapid_key $TEST_NGINX_SERVROOT/conf/p384.pem;
--- must_die
--- error_log
"webpush_vapid_key"
not a P-256 key (curve secp384r1)

=== TEST 4: an RSA key is refused
--- shell
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out $TEST_NGINX_SERVROOT/conf/rsa.pem 2>/dev/null
--- http_config
webpush_vapid_key $TEST_NGINX_SERVROOT/conf/rsa.pem;
--- must_die
--- error_log
"webpush_vapid_key"
not a P-256 key

=== TEST 5: a PKCS#8 P-256 key is accepted
--- shell
openssl pkcs8 -topk8 -nocrypt -in $TEST_VAPID_KEY -out $TEST_NGINX_SERVROOT/conf/pkcs8.pem
--- http_config
webpush_vapid_key $TEST_NGINX_SERVROOT/conf/pkcs8.pem;
webpush_vapid_subject https://example.com/contact;
--- config
location = /vapid { webpush_vapid_public_key; }
--- request
GET /vapid
--- error_code: 200
--- response_json
{"publicKey":"$TEST_VAPID_PUBLIC_KEY"}

=== TEST 6: a key file others can read gets a warning
--- shell
cp $TEST_VAPID_KEY $TEST_NGINX_SERVROOT/conf/open.pem
chmod 0644 $TEST_NGINX_SERVROOT/conf/open.pem
--- http_config
webpush_vapid_key $TEST_NGINX_SERVROOT/conf/open.pem;
webpush_vapid_subject mailto:ops@example.com;
--- config
location = /vapid { webpush_vapid_public_key; }
--- request
GET /vapid
--- error_code: 200
--- error_log
[warn]
is accessible by other users (mode 644), it should be 0600 or 0400

=== TEST 7: subject with a localhost host
--- http_config
webpush_vapid_subject mailto:admin@localhost;
--- must_die
--- error_log
"webpush_vapid_subject" "mailto:admin@localhost":
localhost

=== TEST 8: subject with a doubled scheme
--- http_config
webpush_vapid_subject mailto:mailto:a@example.com;
--- must_die
--- error_log
"webpush_vapid_subject" "mailto:mailto:a@example.com":

=== TEST 9: subject with angle brackets
--- http_config
webpush_vapid_subject "mailto:<a@example.com>";
--- must_die
--- error_log
"webpush_vapid_subject"

=== TEST 10: subject with a space
--- http_config
webpush_vapid_subject "mailto: a@example.com";
--- must_die
--- error_log
"webpush_vapid_subject"

=== TEST 11: subject that is not mailto: or https:
--- http_config
webpush_vapid_subject http://example.com/;
--- must_die
--- error_log
"webpush_vapid_subject" "http://example.com/":

=== TEST 12: unparsable connection string, password not echoed
--- http_config
webpush_postgres "host=/tmp password=s3cret bogus_option=1";
--- must_die
--- error_log
"webpush_postgres": invalid connection string: an unknown keyword
--- no_error_log
s3cret
bogus

=== TEST 12a: a password with an unquoted space is not echoed
--- http_config
webpush_postgres "host=/tmp password=hunter2 secret42 dbname=x";
--- must_die
--- error_log
"webpush_postgres": invalid connection string: an unknown keyword or a word without "="
--- no_error_log
hunter
nter2
secre
ret42

=== TEST 12b: a password with a bad percent-escape in a URI is not echoed
--- http_config
webpush_postgres "postgresql://shop:Tr0ub4%zzdor@db.internal/shop";
--- must_die
--- error_log
"webpush_postgres": invalid connection string: a bad percent-escape in the URI
--- no_error_log
Tr0u
ub4%
%zzd
zdor

=== TEST 13: unparsable size
--- http_config
webpush_queue_size 8q;
--- must_die
--- error_log
"webpush_queue_size" directive invalid value

=== TEST 14: a queue too small to be useful
--- http_config
webpush_queue_size 1k;
--- must_die
--- error_log
"webpush_queue_size" of 1024 bytes is too small

=== TEST 15: pool size out of range
--- http_config
webpush_postgres_pool 0;
--- must_die
--- error_log
"webpush_postgres_pool" must be between 1 and 64, not 0

=== TEST 16: zero timeout
--- http_config
webpush_timeout 0;
--- must_die
--- error_log
"webpush_timeout" must be greater than zero

=== TEST 17: unparsable time
--- http_config
webpush_message_ttl 3fortnights;
--- must_die
--- error_log
"webpush_message_ttl" directive invalid value

=== TEST 18: a handler without a key
--- http_config
webpush_vapid_subject mailto:ops@example.com;
--- config
location = /status { webpush_status; }
--- must_die
--- error_log
"webpush_vapid_key" is required

=== TEST 19: a handler without a subject
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
--- config
location = /status { webpush_status; }
--- must_die
--- error_log
"webpush_vapid_subject" is required

=== TEST 20: http-level directive in a location
--- config
location / { webpush_vapid_key $TEST_VAPID_KEY; }
--- must_die
--- error_log
"webpush_vapid_key" directive is not allowed here

=== TEST 21: two handlers in one location
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
--- config
location / { webpush_status; webpush_vapid_public_key; }
--- must_die
--- error_log
"webpush_vapid_public_key": this location already has a webpush handler

=== TEST 22: duplicate directive
--- http_config
webpush_vapid_subject mailto:ops@example.com;
webpush_vapid_subject mailto:ops@example.com;
--- must_die
--- error_log
"webpush_vapid_subject" directive is duplicate

=== TEST 23: empty group name list entry
--- http_config
webpush_groups warehouse "";
--- must_die
--- error_log
"webpush_groups": a name must be 1 to 255 bytes long

=== TEST 24: a lease shorter than four request timeouts
--- http_config
webpush_timeout 10s;
webpush_lease 20s;
--- must_die
--- error_log
"webpush_lease" must be at least 10s and four times "webpush_timeout"

=== TEST 25: a database handler without a database
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
--- config
location /api/ { webpush_providers; }
--- must_die
--- error_log
"webpush_postgres" is required

=== TEST 25a: webpush_events needs the database
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
--- config
location /webpush/events { webpush_events; }
--- must_die
--- error_log
"webpush_postgres" is required in the http block when webpush_providers, webpush_subscriptions, webpush_notifications or webpush_events is used

=== TEST 25b: webpush_events takes no argument, and only in a location
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
--- config
location /webpush/events { webpush_events on; }
--- must_die
--- error_log
invalid number of arguments in "webpush_events" directive

=== TEST 25c: webpush_events in the http block is refused
--- http_config
webpush_events;
--- must_die
--- error_log
"webpush_events" directive is not allowed here

=== TEST 26: a bad push host pattern
--- http_config
webpush_push_hosts default *.com;
--- must_die
--- error_log
"webpush_push_hosts" "*.com":

=== TEST 26b: webpush_delivery_log takes on or off
--- http_config
webpush_delivery_log sometimes;
--- must_die
--- error_log
"webpush_delivery_log" directive, it must be "on" or "off"

=== TEST 27: every directive with a valid value
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_postgres_pool 4;
webpush_queue_size 1m;
webpush_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;
webpush_ssl_verify on;
webpush_concurrency 64;
webpush_keepalive 8;
webpush_http2 off;
webpush_timeout 5s;
webpush_message_ttl 1d;
webpush_subscription_ttl 30d;
webpush_max_attempts 3;
webpush_lease 2m;
webpush_sender on;
webpush_delivery_log on;
webpush_groups warehouse store;
webpush_locales en_US de_DE;
--- config
location = /status { webpush_status; }
location /webpush/events { webpush_events; }
--- request
GET /status
--- error_code: 200
--- response_json
{"version":"*","nginx":"*","pid":"*",
 "postgres":{"configured":true,"schema_ready":true,"pool":4,
  "connected":4,"busy":"*","queued":"*","queries":"*","errors":0,"timeouts":0,
  "reconnects":0},
 "queue":{"depth":0,"capacity_bytes":"*","free_bytes":"*","in_flight":0,
  "sent":0,"failed":0,"retried":0,"gone":0,"expired":0,"pushed":0,
  "popped":0,"full":0,"rejected":0,"corrupt":0},
 "sender":{"in_flight":0,"claimed":0,"fanned_out":0,"completed":0,
  "connections":0,"idle":0,"requests":0,"errors":0,"connects":0,
  "reuses":0,"h2_connections":0,"streams":0,"refused_streams":0,
  "origins":{}}}
