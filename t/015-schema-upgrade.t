# The schema at start-up (src/db/sql.cpp, schema_sql()): every worker's
# first connection reads the version recorded and runs the script only
# below this build's version, so that a start (a reload, a respawned
# worker, another node) takes no lock that traffic waits for:
#   - at this build's version nothing of the script runs again (an index
#     it makes, dropped here, stays dropped), and a session holding a
#     table lock (a long report) does not delay the start;
#   - a newer version recorded (a newer module ran): the same, nothing is
#     downgraded, the module serves;
#   - an older version: the script runs and records this one.
# Each start is a new nginx (--- nginx_env differs), 2 workers.

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
    config => <<'EOC',
location /push-notification-providers { webpush_providers; }
EOC
);

my $psql = '$TEST_TOP/t/bin/pgcluster psql $TEST_PG_DIR -d "$TEST_PG_CONNINFO" -At';

vars(
    TEST_PSQL => $psql,
    # a session holding ACCESS SHARE on webpush_notification (what any
    # query of it takes) until it is terminated: ALTER TABLE waits for it
    TEST_HOLD_LOCK => <<"SH",
PGAPPNAME=t015-holder $psql -c "BEGIN" \\
    -c "LOCK TABLE webpush_notification IN ACCESS SHARE MODE" \\
    -c "SELECT pg_sleep(300)" > /dev/null 2>&1 &
echo \$! > \$TEST_NGINX_SERVROOT/pids/holder.pid
for _ in \$(seq 200); do
    [ "\$($psql -c "SELECT count(*) FROM pg_locks l
                    JOIN pg_stat_activity a ON a.pid = l.pid
                    WHERE a.application_name = 't015-holder'
                      AND l.relation = 'webpush_notification'::regclass
                      AND l.granted")" = 1 ] && break
    sleep 0.05
done
SH
);

run_tests();

__DATA__

=== TEST 1: a new database gets every version
--- request
GET /push-notification-providers
--- error_code: 200
--- sql
SELECT string_agg(version::text, ',' ORDER BY version) FROM webpush_schema_version;
SELECT to_regclass('webpush_delivery_subscription') IS NOT NULL
--- sql_result
1,2,3,4,5,6
t

=== TEST 2: started again at its version under a table lock: served at once, the script does not run
--- shell
$TEST_PSQL -c "DROP INDEX webpush_delivery_subscription" > /dev/null
$TEST_HOLD_LOCK
--- nginx_env
T015_START=2
--- request
GET /push-notification-providers
--- error_code: 200
--- sql
SELECT to_regclass('webpush_delivery_subscription') IS NULL;
SELECT string_agg(version::text, ',' ORDER BY version) FROM webpush_schema_version;
SELECT count(*) FROM pg_stat_activity WHERE application_name = 't015-holder'
--- sql_result
t
1,2,3,4,5,6
1
--- no_error_log
schema setup failed

=== TEST 3: a newer module ran: served at once under the lock, nothing downgraded
--- shell
$TEST_PSQL -c "INSERT INTO webpush_schema_version (version) VALUES (7)" \
    -c "UPDATE webpush_schema_script SET md5 = 'the newer script'" > /dev/null
--- nginx_env
T015_START=3
--- request
GET /push-notification-providers
--- error_code: 200
--- sql
SELECT to_regclass('webpush_delivery_subscription') IS NULL;
SELECT string_agg(version::text, ',' ORDER BY version) FROM webpush_schema_version;
SELECT md5 FROM webpush_schema_script;
SELECT count(*) FROM pg_stat_activity WHERE application_name = 't015-holder'
--- sql_result
t
1,2,3,4,5,6,7
the newer script
1
--- no_error_log
schema setup failed

=== TEST 4: an older version recorded: the script runs and records this one
--- shell
$TEST_PSQL -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
               WHERE application_name = 't015-holder'" > /dev/null
$TEST_PSQL -c "DELETE FROM webpush_schema_version WHERE version >= 6" > /dev/null
--- nginx_env
T015_START=4
--- request
GET /push-notification-providers
--- error_code: 200
--- sql
SELECT to_regclass('webpush_delivery_subscription') IS NOT NULL;
SELECT string_agg(version::text, ',' ORDER BY version) FROM webpush_schema_version;
SELECT count(*) FROM webpush_schema_script
--- sql_result
t
1,2,3,4,5,6
2
