# The database named by DNS, as real deployments name it: the name is
# resolved by nginx's resolver (a stub DNS server here), again at every
# reconnect; several hosts are tried in order (one refuses, one never
# answers), target_session_attrs is honoured, and meanwhile the same nginx
# answers a plain location without delay (no worker waits on the network).
#
# Two clusters of the test's own, on TCP: the primary on 127.0.0.1, a
# read-only one on 127.0.0.3, both on $TEST_PORT_A; DNS on $TEST_PORT_B; a
# host that accepts and never answers on 127.0.0.1:$TEST_PORT_C; in front
# of the primary on 127.0.0.4:$TEST_PORT_C, one whose TLS breaks.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;

defaults(
    http_config => <<'EOC',
resolver 127.0.0.1:$TEST_PORT_B ipv6=off valid=1s;
resolver_timeout 2s;
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "host=db.webpush.test port=$TEST_PORT_A user=postgres dbname=postgres";
webpush_postgres_timeout 10s;
webpush_sender off;
EOC
    config => <<'EOC',
location /api/ { webpush_providers; }
location = /ping { return 200; }
EOC
);

run_tests();

__DATA__

=== TEST 1: a host name, resolved by nginx's resolver
--- shell
cat > $TEST_NGINX_SERVROOT/hosts <<EOF
db.webpush.test 127.0.0.1
refused.webpush.test 127.0.0.2
hangs.webpush.test 127.0.0.1
ro.webpush.test 127.0.0.3
tls.webpush.test 127.0.0.4
EOF
PGCLUSTER_LISTEN=127.0.0.1 PGCLUSTER_PORT=$TEST_PORT_A \
    $TEST_TOP/t/bin/pgcluster start $TEST_NGINX_SERVROOT/pg fast >/dev/null
PGCLUSTER_LISTEN=127.0.0.3 PGCLUSTER_PORT=$TEST_PORT_A \
    $TEST_TOP/t/bin/pgcluster start $TEST_NGINX_SERVROOT/ro fast >/dev/null
$TEST_TOP/t/bin/pgcluster psql $TEST_NGINX_SERVROOT/ro -d postgres \
    -c "ALTER SYSTEM SET default_transaction_read_only = on" \
    -c "SELECT pg_reload_conf()" >/dev/null
$TEST_TOP/t/bin/dns-stub $TEST_PORT_B $TEST_NGINX_SERVROOT/hosts \
    > $TEST_NGINX_SERVROOT/pids/dns.pid
$TEST_TOP/t/bin/tcp-blackhole 127.0.0.1 $TEST_PORT_C \
    > $TEST_NGINX_SERVROOT/pids/blackhole.pid
$TEST_TOP/t/bin/pg-ssl-refuser 127.0.0.4 $TEST_PORT_C \
    $TEST_NGINX_SERVROOT/pg/.s.PGSQL.$TEST_PORT_A $TEST_NGINX_SERVROOT/tls.log \
    > $TEST_NGINX_SERVROOT/pids/tls.pid
--- request
POST /api/push-notification-providers
{"data":{"type":"push-notification-providers","attributes":{"name":"by-name"}}}
--- error_code: 201
--- error_log
database connection 0 ready (db.webpush.test (127.0.0.1) port
--- check
$TEST_TOP/t/bin/pgcluster psql $TEST_NGINX_SERVROOT/pg -d postgres -Atc \
    "SELECT name FROM spy_push_notification_provider"
--- check_result
by-name

=== TEST 2: the name moves; the connections, once dropped, follow it
--- shell
sed -i 's/^db.webpush.test .*/db.webpush.test 127.0.0.3/' \
    $TEST_NGINX_SERVROOT/hosts
# past the resolver's valid=1s (it counts whole seconds)
sleep 3
$TEST_TOP/t/bin/pgcluster psql $TEST_NGINX_SERVROOT/pg -d postgres -Atc \
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
     WHERE application_name = 'nginx-webpush'" >/dev/null
--- eventually: 20
--- check
grep -c 'ready (db.webpush.test (127.0.0.3) port' \
    $TEST_NGINX_SERVROOT/logs/error.log || true
--- check_like
^[1-9]

=== TEST 3: the first host refuses, the second never answers, the third works
--- shell
sed -i 's/^db.webpush.test .*/db.webpush.test 127.0.0.1/' \
    $TEST_NGINX_SERVROOT/hosts
# pings the new nginx (once it replaced this one) while it connects
old=$(cat $TEST_NGINX_SERVROOT/logs/nginx.pid)
(
    until [ "$(cat $TEST_NGINX_SERVROOT/logs/nginx.pid 2>/dev/null)" != "$old" ] \
          && curl -s -o /dev/null http://127.0.0.1:$TEST_NGINX_PORT/ping; do
        sleep 0.02
    done
    end=$((SECONDS + 6))
    while [ $SECONDS -lt $end ]; do
        curl -s -o /dev/null -m 5 -w '%{http_code} %{time_total}\n' \
            http://127.0.0.1:$TEST_NGINX_PORT/ping || true
        sleep 0.05
    done > $TEST_NGINX_SERVROOT/ping.txt
    touch $TEST_NGINX_SERVROOT/ping.done
) >/dev/null 2>&1 &
--- http_config
resolver 127.0.0.1:$TEST_PORT_B ipv6=off valid=1s;
resolver_timeout 2s;
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "host=refused.webpush.test,hangs.webpush.test,db.webpush.test port=$TEST_PORT_A,$TEST_PORT_C,$TEST_PORT_A connect_timeout=2 user=postgres dbname=postgres";
webpush_postgres_timeout 10s;
webpush_sender off;
--- request
POST /api/push-notification-providers
{"data":{"type":"push-notification-providers","attributes":{"name":"after-failover"}}}
--- timeout: 15
--- error_code: 201
--- error_log
refused.webpush.test (127.0.0.2) port
Connection refused
hangs.webpush.test (127.0.0.1) port
timed out connecting
ready (db.webpush.test (127.0.0.1) port
--- eventually: 20
--- check
test -f $TEST_NGINX_SERVROOT/ping.done
# every ping answered; the slowest is reported (a worker that waited on
# the hanging host would hold its pings for 2 s)
perl -e '
    my (@ms, $failed);
    while (<>) {
        my ($code, $t) = split;
        if ($code eq "200") { push @ms, $t * 1000 } else { $failed++ }
    }
    @ms = sort { $a <=> $b } @ms;
    my $p95 = @ms ? $ms[int(0.95 * $#ms)] : 0;
    my $max = @ms ? $ms[-1] : 0;
    $failed //= 0;
    printf "pings %d failed %d p95 %.1f ms max %.1f ms\n",
           scalar @ms, $failed, $p95, $max;
    print @ms >= 20 && !$failed && $p95 <= 50 && $max < 1000
          ? "ok\n" : "slow\n";
' $TEST_NGINX_SERVROOT/ping.txt | tee $TEST_NGINX_SERVROOT/ping.summary >&2
tail -n 1 $TEST_NGINX_SERVROOT/ping.summary
--- check_like
ok$

=== TEST 4: target_session_attrs=read-write passes over a read-only server
--- http_config
resolver 127.0.0.1:$TEST_PORT_B ipv6=off valid=1s;
resolver_timeout 2s;
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "host=ro.webpush.test,db.webpush.test port=$TEST_PORT_A target_session_attrs=read-write user=postgres dbname=postgres";
webpush_postgres_timeout 10s;
webpush_sender off;
--- request
POST /api/push-notification-providers
{"data":{"type":"push-notification-providers","attributes":{"name":"on-the-primary"}}}
--- error_code: 201
--- error_log
ro.webpush.test (127.0.0.3) port
session is read-only
ready (db.webpush.test (127.0.0.1) port
--- check
$TEST_TOP/t/bin/pgcluster psql $TEST_NGINX_SERVROOT/pg -d postgres -Atc \
    "SELECT count(*) FROM spy_push_notification_provider
     WHERE name = 'on-the-primary'"
--- check_result
1

=== TEST 5: libpq moves to a new socket inside PQconnectPoll (TLS refused, sslmode=prefer)
--- http_config
resolver 127.0.0.1:$TEST_PORT_B ipv6=off valid=1s;
resolver_timeout 2s;
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "host=tls.webpush.test port=$TEST_PORT_C sslmode=prefer connect_timeout=5 user=postgres dbname=postgres";
webpush_postgres_timeout 10s;
webpush_sender off;
--- request
POST /api/push-notification-providers
{"data":{"type":"push-notification-providers","attributes":{"name":"after-tls-fallback"}}}
--- error_code: 201
--- error_log
ready (tls.webpush.test (127.0.0.4) port
--- no_error_log
timed out connecting
--- check
# each of the 2 x 2 connections fell back once
grep -c 'TLS agreed' $TEST_NGINX_SERVROOT/tls.log
--- check_result
4

=== TEST 6: a name without a resolver is refused by nginx -t
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "host=db.webpush.test user=postgres dbname=postgres";
--- must_die
--- error_log
"webpush_postgres": the host "db.webpush.test" is a name, and no "resolver" is set in the http block

=== TEST 7: localhost and addresses need no resolver
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "host=localhost port=$TEST_PORT_A user=postgres dbname=postgres";
webpush_postgres_timeout 10s;
webpush_sender off;
--- request
GET /api/push-notification-providers
--- error_code: 200
--- error_log
ready (localhost (127.0.0.1) port
