# Push notification providers: the reference's five routes with its
# bodies, codes and statuses (spryker.md §1.3 (1)-(5)).

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
EOC
);

run_tests();

__DATA__

=== TEST 1: create a provider
--- config
location /push-notification-providers { webpush_providers; }
--- init_sql
TRUNCATE spy_push_notification_provider, spy_push_notification_group,
    spy_push_notification, spy_push_notification_subscription,
    spy_push_notification_subscription_delivery_log RESTART IDENTITY CASCADE;
--- request
POST /push-notification-providers
{"data":{"type":"push-notification-providers","attributes":{"name":"web-push-php"}}}
--- more_headers
Content-Type: application/vnd.api+json
--- error_code: 201
--- response_headers
Content-Type: application/vnd.api+json
--- response_json
{"data":{"type":"push-notification-providers","id":"~^[0-9a-f-]{36}$",
 "attributes":{"uuid":"~^[0-9a-f-]{36}$","name":"web-push-php"},
 "links":{"self":"~^http://127\\.0\\.0\\.1:\\d+/push-notification-providers/[0-9a-f-]{36}$"}}}
--- sql
SELECT name, uuid ~ '^[0-9a-f-]{36}$', created_at IS NOT NULL FROM spy_push_notification_provider
--- sql_result
web-push-php|t|t

=== TEST 2: the same name again is 5008
--- config
location /push-notification-providers { webpush_providers; }
--- request
POST /push-notification-providers
{"data":{"type":"push-notification-providers","attributes":{"name":"web-push-php"}}}
--- error_code: 400
--- response_json
{"errors":[{"code":"5008","status":400,
 "message":"A push notification provider with the same name already exists."}]}
--- sql
SELECT count(*) FROM spy_push_notification_provider
--- sql_result
1

=== TEST 3: an empty name is a wrong body (5400)
--- config
location /push-notification-providers { webpush_providers; }
--- request
POST /push-notification-providers
{"data":{"type":"push-notification-providers","attributes":{"name":""}}}
--- error_code: 400
--- response_json
{"errors":[{"code":"5400","status":400,"message":"Wrong request body.","detail":"*"}]}

=== TEST 4: "0" is falsy as in PHP
--- config
location /push-notification-providers { webpush_providers; }
--- request
POST /push-notification-providers
{"data":{"type":"push-notification-providers","attributes":{"name":"0"}}}
--- error_code: 400
--- response_body_like
"code":"5400"

=== TEST 5: a name over 255 characters is 5007
--- config
location /push-notification-providers { webpush_providers; }
--- request eval
use utf8;
my $name = "é" x 256;
utf8::encode($name);
"POST /push-notification-providers\n"
. '{"data":{"type":"push-notification-providers","attributes":{"name":"'
. $name . '"}}}'
--- error_code: 400
--- response_json
{"errors":[{"code":"5007","status":400,
 "message":"A push notification provider name must have length from 1 to 255 characters."}]}

=== TEST 6: 255 multi-byte characters are fine
--- config
location /push-notification-providers { webpush_providers; }
--- request eval
use utf8;
my $name = "é" x 255;
utf8::encode($name);
"POST /push-notification-providers\n"
. '{"data":{"type":"push-notification-providers","attributes":{"name":"'
. $name . '"}}}'
--- error_code: 201
--- sql
SELECT char_length(name) FROM spy_push_notification_provider WHERE name LIKE 'é%'
--- sql_result
255

=== TEST 7: not JSON
--- config
location /push-notification-providers { webpush_providers; }
--- request
POST /push-notification-providers
{"data":
--- error_code: 400
--- response_body_like
"code":"5400"

=== TEST 8: wrong data.type
--- config
location /push-notification-providers { webpush_providers; }
--- request
POST /push-notification-providers
{"data":{"type":"push-notification-subscriptions","attributes":{"name":"x"}}}
--- error_code: 400
--- response_body_like
"code":"5400"

=== TEST 9: SQL-looking names are stored as they are
--- config
location /push-notification-providers { webpush_providers; }
--- request
POST /push-notification-providers
{"data":{"type":"push-notification-providers","attributes":{"name":"x'); DROP TABLE spy_push_notification_provider; --"}}}
--- error_code: 201
--- sql
SELECT count(*) FROM spy_push_notification_provider WHERE name LIKE 'x''); DROP%'
--- sql_result
1

=== TEST 10: list, sorted by name descending, paged
--- config
location /push-notification-providers { webpush_providers; }
--- init_sql
TRUNCATE spy_push_notification_provider RESTART IDENTITY CASCADE;
INSERT INTO spy_push_notification_provider VALUES
  (1, '00000000-0000-4000-8000-000000000001', 'alpha', now(), now()),
  (2, '00000000-0000-4000-8000-000000000002', 'beta', now(), now()),
  (3, '00000000-0000-4000-8000-000000000003', 'gamma', now(), now());
--- request
GET /push-notification-providers?sort=-name&page[offset]=1&page[limit]=1
--- error_code: 200
--- response_json
{"data":[{"type":"push-notification-providers","id":"00000000-0000-4000-8000-000000000002",
  "attributes":{"uuid":"00000000-0000-4000-8000-000000000002","name":"beta"},
  "links":{"self":"~/push-notification-providers/00000000-0000-4000-8000-000000000002$"}}],
 "links":{"self":"~/push-notification-providers\\?sort=-name&page\\[offset\\]=1&page\\[limit\\]=1$"}}

=== TEST 11: list sorted by uuid
--- config
location /push-notification-providers { webpush_providers; }
--- request
GET /push-notification-providers?sort=uuid
--- error_code: 200
--- response_body_like
"name":"alpha".*"name":"beta".*"name":"gamma"

=== TEST 12: an unknown sort field is 400, never SQL
--- config
location /push-notification-providers { webpush_providers; }
--- request
GET /push-notification-providers?sort=id_push_notification_provider;DROP
--- error_code: 400
--- response_body_like
"code":"5400"

=== TEST 13: get one
--- config
location /push-notification-providers { webpush_providers; }
--- request
GET /push-notification-providers/00000000-0000-4000-8000-000000000003
--- error_code: 200
--- response_json
{"data":{"type":"push-notification-providers","id":"00000000-0000-4000-8000-000000000003",
 "attributes":{"uuid":"00000000-0000-4000-8000-000000000003","name":"gamma"},
 "links":{"self":"*"}}}

=== TEST 14: get an unknown one is 404 / 5001
--- config
location /push-notification-providers { webpush_providers; }
--- request
GET /push-notification-providers/00000000-0000-4000-8000-0000000000ff
--- error_code: 404
--- response_json
{"errors":[{"code":"5001","status":404,"message":"The push notification provider was not found."}]}

=== TEST 15: a malformed id is 404 / 5001 too
--- config
location /push-notification-providers { webpush_providers; }
--- request
GET /push-notification-providers/1%27%20OR%201=1
--- error_code: 404
--- response_body_like
"code":"5001"

=== TEST 16: rename
--- config
location /push-notification-providers { webpush_providers; }
--- request
PATCH /push-notification-providers/00000000-0000-4000-8000-000000000003
{"data":{"type":"push-notification-providers","attributes":{"name":"delta","uuid":"00000000-0000-4000-8000-000000000001"}}}
--- error_code: 200
--- response_json
{"data":{"type":"push-notification-providers","id":"00000000-0000-4000-8000-000000000003",
 "attributes":{"uuid":"00000000-0000-4000-8000-000000000003","name":"delta"},
 "links":{"self":"*"}}}
--- sql
SELECT uuid, name FROM spy_push_notification_provider ORDER BY id_push_notification_provider
--- sql_result
00000000-0000-4000-8000-000000000001|alpha
00000000-0000-4000-8000-000000000002|beta
00000000-0000-4000-8000-000000000003|delta

=== TEST 17: rename to its own name succeeds
--- config
location /push-notification-providers { webpush_providers; }
--- request
PATCH /push-notification-providers/00000000-0000-4000-8000-000000000003
{"data":{"type":"push-notification-providers","attributes":{"name":"delta"}}}
--- error_code: 200

=== TEST 18: rename to another provider's name is 5008
--- config
location /push-notification-providers { webpush_providers; }
--- request
PATCH /push-notification-providers/00000000-0000-4000-8000-000000000003
{"data":{"type":"push-notification-providers","attributes":{"name":"alpha"}}}
--- error_code: 400
--- response_body_like
"code":"5008"

=== TEST 19: rename an unknown provider is 5001
--- config
location /push-notification-providers { webpush_providers; }
--- request
PATCH /push-notification-providers/00000000-0000-4000-8000-0000000000ff
{"data":{"type":"push-notification-providers","attributes":{"name":"x"}}}
--- error_code: 404
--- response_body_like
"code":"5001"

=== TEST 20: delete blocked by a subscription (5004) and a notification (5005): 207
--- config
location /push-notification-providers { webpush_providers; }
--- init_sql
INSERT INTO spy_push_notification_group VALUES (1, NULL, 'warehouse', '1', now(), now());
INSERT INTO spy_push_notification_subscription VALUES (1, 'a0000000-0000-4000-8000-000000000001', 1, 1, NULL, '{}', 'x', now() + interval '7 days', now(), now());
INSERT INTO spy_push_notification VALUES (1, 'b0000000-0000-4000-8000-000000000001', 1, 1, '{}', now(), now());
--- request
DELETE /push-notification-providers/00000000-0000-4000-8000-000000000001
--- error_code: 207
--- response_json
{"errors":[
 {"code":"5005","status":400,"message":"Unable to delete push notification provider while push notification exists."},
 {"code":"5004","status":400,"message":"Unable to delete push notification provider while push notification subscription exists."}]}

=== TEST 21: delete blocked by a subscription only: 5004
--- config
location /push-notification-providers { webpush_providers; }
--- init_sql
DELETE FROM spy_push_notification;
--- request
DELETE /push-notification-providers/00000000-0000-4000-8000-000000000001
--- error_code: 400
--- response_json
{"errors":[{"code":"5004","status":400,"message":"Unable to delete push notification provider while push notification subscription exists."}]}

=== TEST 22: delete
--- config
location /push-notification-providers { webpush_providers; }
--- request
DELETE /push-notification-providers/00000000-0000-4000-8000-000000000002
--- error_code: 204
--- response_body
--- sql
SELECT count(*) FROM spy_push_notification_provider WHERE name = 'beta'
--- sql_result
0

=== TEST 23: delete an unknown provider is 404 / 5001
--- config
location /push-notification-providers { webpush_providers; }
--- request
DELETE /push-notification-providers/00000000-0000-4000-8000-000000000002
--- error_code: 404
--- response_body_like
"code":"5001"

=== TEST 24: mounted under a prefix, links follow it
--- config
location /api/ { webpush_providers; }
--- request
GET /api/push-notification-providers/00000000-0000-4000-8000-000000000003
--- error_code: 200
--- response_body_like
"self":"http://127\.0\.0\.1:\d+/api/push-notification-providers/00000000-0000-4000-8000-000000000003"

=== TEST 25: a method the collection does not have
--- config
location /push-notification-providers { webpush_providers; }
--- request
DELETE /push-notification-providers
--- error_code: 405
