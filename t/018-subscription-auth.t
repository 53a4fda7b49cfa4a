# Who may subscribe (issue 12 §1): webpush_subscription_identity,
# webpush_subscription_token_secret, webpush_public_groups. A refused
# subscription is 403 / 5010 and nothing is stored; a location with none of
# them stays open. Tokens are minted here independently of the module: in
# Perl (Digest::SHA) and with README.md's Node lines
# (t/node/mint-subscription-token.js).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;
use Digest::SHA qw(hmac_sha256);
use JSON::PP ();
use MIME::Base64 qw(encode_base64url);

# the secret as "openssl rand -hex 32 > file" writes it (a final newline)
our $SECRET = 'c0ffee' x 10 . 'beef';
our $OTHER = 'deadbeef' x 8;
our $P256DH = 'BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4';
our $AUTH = 'BTBZMqHH6r4Tts7J_aSIgg';

Test::Webpush::Runner::setup();
my $conf = Test::Webpush::Runner::servroot() . '/conf';

sub write_file {
    my ($path, $text, $mode) = @_;
    open my $fh, '>', $path or die "$path: $!";
    print $fh $text;
    close $fh;
    chmod $mode, $path;
}

write_file("$conf/push.secret", "$SECRET\n", 0600);
write_file("$conf/crlf.secret", "$SECRET\r\n", 0600);
write_file("$conf/short.secret", ('x' x 31) . "\n\n", 0600);
write_file("$conf/long.secret", 'x' x 5000, 0600);
write_file("$conf/open.secret", "$SECRET\n", 0644);

# the token the site's application mints (README.md)
sub token {
    my ($name, $identifier, $expiry, $secret) = @_;
    my $mac = encode_base64url(hmac_sha256(
        "$name\n" . ($identifier // '') . "\n$expiry", $secret // $SECRET));
    return "$expiry.$mac";
}

# the same with README.md's Node function
sub node_token {
    my ($name, $identifier, $expiry) = @_;
    my $out = qx{node $FindBin::Bin/node/mint-subscription-token.js \\
                 $conf/push.secret '$name' '@{[$identifier // '-']}' $expiry};
    die "mint-subscription-token.js failed" if $? != 0;
    chomp $out;
    return $out;
}

# POST PREFIX/push-notification-subscriptions with a new browser endpoint:
# name, id (undef: null; absent: no identifier), token, provider
my $n = 0;
sub post {
    my ($prefix, %a) = @_;
    $n++;
    my %group = (name => $a{name});
    $group{identifier} = $a{id} if exists $a{id};
    my %attrs = (
        providerName => $a{provider} // 'web-push-php',
        group => \%group,
        payload => {endpoint => "https://fcm.googleapis.com/fcm/send/t18-$n",
                    keys => {p256dh => $P256DH, auth => $AUTH}},
    );
    $attrs{token} = $a{token} if exists $a{token};
    return "POST $prefix/push-notification-subscriptions\n"
        . JSON::PP->new->canonical->encode({data => {
              type => 'push-notification-subscriptions',
              attributes => \%attrs}});
}

my $now = time;
is(node_token('customer', '42', $now + 600), token('customer', '42', $now + 600),
   'README.md\'s Node lines mint what the Perl formula mints');
is(node_token('news', undef, $now + 600), token('news', '', $now + 600),
   'a null identifier is signed as the empty string');

defaults(
    http_config => <<'EOF',
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
EOF
    config => <<'EOF',
location /open/ { webpush_subscriptions; }
location /identity/ {
    webpush_subscription_identity $http_x_user;
    webpush_subscriptions;
}
location /token/ {
    webpush_subscription_token_secret $TEST_NGINX_SERVROOT/conf/push.secret;
    webpush_subscriptions;
}
location /public/ {
    webpush_public_groups news offers;
    webpush_subscriptions;
}
location /all/ {
    webpush_public_groups news;
    webpush_subscription_identity $http_x_user;
    webpush_subscription_token_secret $TEST_NGINX_SERVROOT/conf/crlf.secret;
    webpush_subscriptions;
}
location /outer/ {
    webpush_subscription_identity $http_x_user;
    location /outer/api/ { webpush_subscriptions; }
}
EOF
);

run_tests();

__DATA__

=== TEST 1: without any of the three the location is open: anyone subscribes to customer 42
--- init_sql
INSERT INTO spy_push_notification_provider VALUES (1, '00000000-0000-4000-8000-000000000001', 'web-push-php', now(), now());
--- request eval
main::post('/open', name => 'customer', id => '42')
--- error_code: 201
--- sql
SELECT g.name, g.identifier FROM spy_push_notification_subscription s
JOIN spy_push_notification_group g ON g.id_push_notification_group = s.fk_push_notification_group
--- sql_result
customer|42

=== TEST 2: identity: an anonymous client (no header, empty variable) is refused, nothing stored
--- request eval
main::post('/identity', name => 'customer', id => '43')
--- error_code: 403
--- response_json
{"errors":[{"code":"5010","status":403,"message":"Not allowed to subscribe to this push notification group."}]}
--- sql
SELECT (SELECT count(*) FROM spy_push_notification_subscription),
       (SELECT count(*) FROM spy_push_notification_group)
--- sql_result
1|1
--- error_log
webpush: subscription refused: no identity

=== TEST 3: identity: an empty header is no identity either
--- more_headers
X-User:
--- request eval
main::post('/identity', name => 'customer', id => '')
--- error_code: 403
--- response_json
{"errors":[{"code":"5010","status":403,"message":"Not allowed to subscribe to this push notification group."}]}

=== TEST 4: identity: another customer's identifier is refused
--- more_headers
X-User: 42
--- request eval
main::post('/identity', name => 'customer', id => '43')
--- error_code: 403
--- response_json
{"errors":[{"code":"5010","status":403,"message":"Not allowed to subscribe to this push notification group."}]}
--- sql
SELECT count(*) FROM spy_push_notification_group WHERE identifier = '43'
--- sql_result
0
--- error_log
webpush: subscription refused: identifier is not the identity

=== TEST 5: identity: a null identifier is refused
--- more_headers
X-User: 42
--- request eval
main::post('/identity', name => 'customer', id => undef)
--- error_code: 403

=== TEST 6: identity: the own identifier is accepted
--- more_headers
X-User: 43
--- request eval
main::post('/identity', name => 'customer', id => '43')
--- error_code: 201
--- response_json
{"data":{"type":"push-notification-subscriptions","id":"*",
 "attributes":{"providerName":"web-push-php","payload":"*","localeName":null,
   "group":{"name":"customer","identifier":"43"},"expiredAt":"*"},
 "links":{"self":"*"}}}
--- sql
SELECT count(*) FROM spy_push_notification_subscription s
JOIN spy_push_notification_group g ON g.id_push_notification_group = s.fk_push_notification_group
WHERE g.identifier = '43'
--- sql_result
1

=== TEST 7: identity is inherited from an enclosing location
--- request eval
main::post('/outer/api', name => 'customer', id => '44')
--- error_code: 403

=== TEST 8: refused before any SQL: an unknown provider is 403, not 404
--- request eval
main::post('/identity', name => 'customer', id => '44', provider => 'nope')
--- error_code: 403

=== TEST 9: public groups: any identifier
--- request eval
main::post('/public', name => 'news', id => 'anything')
--- error_code: 201

=== TEST 10: public groups: a null identifier
--- request eval
main::post('/public', name => 'offers', id => undef)
--- error_code: 201

=== TEST 11: public groups: another group is refused
--- request eval
main::post('/public', name => 'customer', id => '45')
--- error_code: 403
--- response_json
{"errors":[{"code":"5010","status":403,"message":"Not allowed to subscribe to this push notification group."}]}
--- sql
SELECT count(*) FROM spy_push_notification_group WHERE identifier = '45'
--- sql_result
0
--- error_log
webpush: subscription refused: not a public group

=== TEST 12: token: valid for the group
--- request eval
main::post('/token', name => 'customer', id => '46', token => main::token('customer', '46', time + 600))
--- error_code: 201
--- response_json
{"data":{"type":"push-notification-subscriptions","id":"*",
 "attributes":{"providerName":"web-push-php","payload":"*","localeName":null,
   "group":{"name":"customer","identifier":"46"},"expiredAt":"*"},
 "links":{"self":"*"}}}
--- sql
SELECT count(*) FROM spy_push_notification_group WHERE identifier = '46'
--- sql_result
1

=== TEST 13: token: minted by README.md's Node lines
--- request eval
main::post('/token', name => 'customer', id => '47', token => main::node_token('customer', '47', time + 600))
--- error_code: 201

=== TEST 14: token: a null identifier is signed as the empty string
--- request eval
main::post('/token', name => 'news', id => undef, token => main::token('news', undef, time + 600))
--- error_code: 201

=== TEST 15: token: expired
--- request eval
main::post('/token', name => 'customer', id => '48', token => main::token('customer', '48', time - 1))
--- error_code: 403
--- response_json
{"errors":[{"code":"5010","status":403,"message":"Not allowed to subscribe to this push notification group."}]}
--- sql
SELECT count(*) FROM spy_push_notification_group WHERE identifier = '48'
--- sql_result
0
--- error_log
webpush: subscription refused: expired token

=== TEST 16: token: minted for another customer
--- request eval
main::post('/token', name => 'customer', id => '49', token => main::token('customer', '42', time + 600))
--- error_code: 403
--- error_log
webpush: subscription refused: token not valid for this group

=== TEST 17: token: minted for another group name
--- request eval
main::post('/token', name => 'customer', id => '49', token => main::token('vip', '49', time + 600))
--- error_code: 403

=== TEST 18: token: another secret
--- request eval
main::post('/token', name => 'customer', id => '49', token => main::token('customer', '49', time + 600, $main::OTHER))
--- error_code: 403

=== TEST 19: token: the expiry moved forward (the expiry is signed)
--- request eval
my $t = main::token('customer', '49', time - 10);
$t =~ s/^\d+/time + 600/e;
main::post('/token', name => 'customer', id => '49', token => $t)
--- error_code: 403

=== TEST 20: token: a padded MAC is malformed
--- request eval
main::post('/token', name => 'customer', id => '49', token => main::token('customer', '49', time + 600) . '=')
--- error_code: 403
--- error_log
webpush: subscription refused: malformed token

=== TEST 21: token: garbage is malformed
--- request eval
main::post('/token', name => 'customer', id => '49', token => 'Bearer abc.def')
--- error_code: 403
--- response_json
{"errors":[{"code":"5010","status":403,"message":"Not allowed to subscribe to this push notification group."}]}

=== TEST 22: token: none at all
--- request eval
main::post('/token', name => 'customer', id => '49')
--- error_code: 403
--- error_log
webpush: subscription refused: no token

=== TEST 23: token: not a string is a malformed body
--- request eval
main::post('/token', name => 'customer', id => '49', token => 17)
--- error_code: 400
--- response_json
{"errors":[{"code":"5400","status":400,"message":"Wrong request body.","detail":"\"token\" must be a string or null"}]}

=== TEST 24: refusals stored nothing, and no token reached the log
--- request
GET /open/push-notification-subscriptions
--- error_code: 405
--- sql
SELECT count(*) FROM spy_push_notification_group WHERE identifier IN ('44', '45', '48', '49', '')
--- sql_result
0
--- check
grep -c 'subscription refused' $TEST_NGINX_SERVROOT/logs/error.log; grep -cE '[A-Za-z0-9_-]{43}' $TEST_NGINX_SERVROOT/logs/error.log || true
--- check_result
15
0

=== TEST 25: all three: the identity alone suffices
--- more_headers
X-User: 50
--- request eval
main::post('/all', name => 'customer', id => '50')
--- error_code: 201

=== TEST 26: all three: a token alone suffices (secret file with CRLF)
--- more_headers
X-User: 7
--- request eval
main::post('/all', name => 'customer', id => '51', token => main::token('customer', '51', time + 600))
--- error_code: 201

=== TEST 27: all three: a public group alone suffices
--- request eval
main::post('/all', name => 'news', id => '52')
--- error_code: 201

=== TEST 28: all three: none of them is refused, every reason logged
--- more_headers
X-User: 7
--- request eval
main::post('/all', name => 'customer', id => '53', token => main::token('customer', '53', time - 1))
--- error_code: 403
--- error_log
webpush: subscription refused: not a public group; identifier is not the identity; expired token

=== TEST 29: DELETE by uuid is not restricted: the uuid is the capability
--- init_sql
UPDATE spy_push_notification_subscription SET uuid = 'c0000000-0000-4000-8000-000000000018'
WHERE id_push_notification_subscription = (SELECT min(id_push_notification_subscription) FROM spy_push_notification_subscription);
--- request
DELETE /token/push-notification-subscriptions/c0000000-0000-4000-8000-000000000018
--- error_code: 204

=== TEST 30: public groups in the http block apply to every subscription location
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_public_groups news;
--- config
location /api/ { webpush_subscriptions; }
--- request eval
main::post('/api', name => 'customer', id => '54')
--- error_code: 403

=== TEST 31: ... and allow their own groups
--- http_config
webpush_vapid_key $TEST_VAPID_KEY;
webpush_vapid_subject mailto:ops@example.com;
webpush_postgres "$TEST_PG_CONNINFO";
webpush_public_groups news;
--- config
location /api/ { webpush_subscriptions; }
--- request eval
main::post('/api', name => 'news', id => '54')
--- error_code: 201

=== TEST 32: nginx -t: the secret file is missing
--- config
location /api/ {
    webpush_subscription_token_secret $TEST_NGINX_SERVROOT/conf/missing.secret;
    webpush_subscriptions;
}
--- must_die
--- error_log
"webpush_subscription_token_secret" "
missing.secret": cannot read the secret file
No such file or directory

=== TEST 33: nginx -t: the secret is shorter than 32 bytes
--- config
location /api/ {
    webpush_subscription_token_secret $TEST_NGINX_SERVROOT/conf/short.secret;
    webpush_subscriptions;
}
--- must_die
--- error_log
"webpush_subscription_token_secret"
the secret must be at least 32 bytes long (without trailing newlines), it has 31

=== TEST 34: nginx -t: the secret file is far too long to be one
--- config
location /api/ {
    webpush_subscription_token_secret $TEST_NGINX_SERVROOT/conf/long.secret;
    webpush_subscriptions;
}
--- must_die
--- error_log
"webpush_subscription_token_secret"
the secret file is longer than 4096 bytes

=== TEST 35: nginx -t: a directory is not a secret file
--- config
location /api/ {
    webpush_subscription_token_secret $TEST_NGINX_SERVROOT/conf;
    webpush_subscriptions;
}
--- must_die
--- error_log
"webpush_subscription_token_secret"
cannot read the secret file

=== TEST 36: nginx -t: the identity must be a variable
--- config
location /api/ {
    webpush_subscription_identity customer42;
    webpush_subscriptions;
}
--- must_die
--- error_log
"webpush_subscription_identity" "customer42": not a variable

=== TEST 37: nginx -t: the identity must be a known variable
--- config
location /api/ {
    webpush_subscription_identity $no_such_variable;
    webpush_subscriptions;
}
--- must_die
--- error_log
unknown "no_such_variable" variable

=== TEST 38: nginx -t: a secret readable by others is warned about
--- config
location /api/ {
    webpush_subscription_token_secret $TEST_NGINX_SERVROOT/conf/open.secret;
    webpush_subscriptions;
}
--- request eval
main::post('/api', name => 'customer', id => '55', token => main::token('customer', '55', time + 600))
--- error_code: 201
--- error_log
open.secret" is accessible by other users (mode 644), it should be 0600 or 0400
--- no_error_log
c0ffee
