package Test::Webpush::Fixture;

# The rows and settings the sending tests start from, so that a file says
# only what is its own (which subscriptions, at which push scenario):
#
#   use Test::Webpush::Fixture;
#   defaults(http_config => Test::Webpush::Fixture::http_config(
#                               'webpush_timeout 2s;'), ...);
#   vars(Test::Webpush::Fixture::vars('/api/push-notifications'));
#
#   --- init_sql eval
#   Test::Webpush::Fixture::provider_sql()
#   . Test::Webpush::Fixture::groups_sql([1, 'early', '1'], [2, 'slow', '1'])
#   . Test::Webpush::Fixture::subscriptions_sql(<<'SQL')
#   SELECT id, 1, 'ok', NULL, '' FROM generate_series(21, 23) id
#   SQL
#
# Subscriptions carry the keys of RFC 8291 Appendix A's user agent (what
# t/node/mock-push.js and mock-push-h2.js decrypt with) and point at the
# mock push service on $TEST_PORT_A.

use strict;
use warnings;

# RFC 8291 Appendix A: the user agent's public key and auth secret
our $P256DH = 'BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4';
our $AUTH = 'BTBZMqHH6r4Tts7J_aSIgg';

# "keys":{...} of a subscription's payload
sub keys_json {
    return qq{"keys":{"p256dh":"$P256DH","auth":"$AUTH"}};
}

# the http block of a module that sends to the mock on $TEST_PORT_A,
# then the lines given
sub http_config {
    my @more = @_;
    return join "\n", 'webpush_vapid_key $TEST_VAPID_KEY;',
        'webpush_vapid_subject mailto:ops@example.com;',
        'webpush_postgres "$TEST_PG_CONNINFO";',
        'webpush_push_hosts http://127.0.0.1:$TEST_PORT_A;', @more, '';
}

# the file variables to call the notifications endpoint at PATH with curl:
#   $TEST_POST  curl -s -X POST -H "Content-Type: ..." URL (add -d BODY)
#   $TEST_GET   curl -s URL (add /UUID)
#   $TEST_API   the URL
sub vars {
    my ($path) = @_;
    my $url = 'http://127.0.0.1:$TEST_NGINX_PORT' . $path;
    return (
        TEST_API  => $url,
        TEST_POST => 'curl -s -X POST -H "Content-Type: application/vnd.api+json" '
                     . $url,
        TEST_GET  => "curl -s $url",
    );
}

# provider 1, "web-push-php"
sub provider_sql {
    return "INSERT INTO spy_push_notification_provider VALUES (1,"
        . " '00000000-0000-4000-8000-000000000001', 'web-push-php',"
        . " now(), now());\n";
}

# groups [id, name, identifier], uuid c0000000-...-<id>; the sequence is
# moved past them (to 10): groups the module makes come after
sub groups_sql {
    my @groups = @_;
    my $rows = join ",\n    ", map {
        my ($id, $name, $identifier) = @$_;
        sprintf "(%d, 'c0000000-0000-4000-8000-%012d', '%s', %s, now(), now())",
            $id, $id, $name,
            defined $identifier ? "'$identifier'" : 'NULL';
    } @groups;
    return "INSERT INTO spy_push_notification_group VALUES\n    $rows;\n"
        . "SELECT setval('id_push_notification_group_pk_seq', 10);\n";
}

# subscriptions of provider 1 from ROWS, a query giving (id, group,
# scenario, locale, extra): uuid a0000000-...-<id>, endpoint
# http://127.0.0.1:$TEST_PORT_A/push/<scenario>/<id>, the keys above,
# then EXTRA inside the payload object (',"contentEncoding":"aesgcm"'),
# fk_locale LOCALE, expiring in a day
sub subscriptions_sql {
    my ($rows) = @_;
    my $keys = keys_json();
    return <<"SQL";
INSERT INTO spy_push_notification_subscription
SELECT s.id, 'a0000000-0000-4000-8000-' || lpad(s.id::text, 12, '0'),
       s.grp, 1, s.locale::integer,
       '{"endpoint":"http://127.0.0.1:\$TEST_PORT_A/push/' || s.scenario
       || '/' || s.id || '",$keys' || s.extra || '}',
       md5(s.id::text), now() AT TIME ZONE 'UTC' + interval '1 day',
       now(), now()
FROM ($rows) AS s(id, grp, scenario, locale, extra);
SQL
}

1;
