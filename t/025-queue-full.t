# The smallest send queue (webpush_queue_size 64k: a dozen 3 KB messages)
# under a 1,000-delivery fan-out: claims follow the room left, nothing is
# dropped, every subscription gets the message once, the counters agree.

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
webpush_queue_size 64k;
webpush_timeout 2s;
EOC
    config => <<'EOC',
location /api/push-notifications { webpush_notifications; }
location = /status { webpush_status; }
EOC
);

run_tests();

__DATA__

=== TEST 1: 1,000 subscriptions, a 3 KB payload, a queue for a dozen
--- shell
$TEST_TOP/bench/fanout/mock-push start $TEST_NGINX_SERVROOT/mock $TEST_PORT_A \
    > $TEST_NGINX_SERVROOT/pids/mock.pid
--- init_sql
INSERT INTO spy_push_notification_provider VALUES (1, '00000000-0000-4000-8000-000000000001', 'web-push-php', now(), now());
INSERT INTO spy_push_notification_group VALUES (1, '00000000-0000-4000-8000-000000000002', 'all', NULL, now(), now());
INSERT INTO spy_push_notification_subscription
    SELECT i, gen_random_uuid(), 1, 1, NULL,
           '{"endpoint":"http://127.0.0.1:$TEST_PORT_A/push/' || i || '","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}}',
           md5(i::text), now() + interval '1 day', now(), now()
    FROM generate_series(1, 1000) i;
--- request eval
"POST /api/push-notifications\n"
. '{"data":{"type":"push-notifications","attributes":{"providerName":"web-push-php","group":{"name":"all"},"payload":{"text":"' . ('x' x 3000) . '"}}}}'
--- error_code: 201
--- eventually: 30
--- sql
SELECT state, count(*), max(attempts) FROM webpush_deliveries GROUP BY state
--- sql_result
sent|1000|1
--- check
log=$TEST_NGINX_SERVROOT/mock/access.log
echo "requests $(wc -l < $log) endpoints $(cut -d' ' -f1 $log | sort -u | wc -l)"
curl -s http://127.0.0.1:$TEST_NGINX_PORT/status | perl -MJSON::PP -0ne '
    my $q = decode_json($_)->{queue};
    print "sent $q->{sent} pushed $q->{pushed} popped $q->{popped} depth $q->{depth}\n";
    print "capacity ", ($q->{capacity_bytes} <= 65536 ? "small" : "big"), "\n"'
--- check_result
requests 1000 endpoints 1000
sent 1000 pushed 1000 popped 1000 depth 0
capacity small
