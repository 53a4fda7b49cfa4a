# The client kit, the demo pages and the service worker in a real browser:
# Debian's Chromium driven by npm playwright-core (t/node). The node
# scripts in t/browser/ print TAP; this file starts nginx with the module,
# serving client/ and the module's locations, runs each script and reports
# it as a subtest. nginx serves a copy of client/ under the prefix: its
# workers (user nobody) may not enter the checkout (a clone in /root or in
# a 0700 home).
#
# Needs /usr/bin/chromium (skipped without it), node and t/node's npm
# packages; click.test.js also needs Xvfb and xdotool (skipped without;
# engagement.test.js then runs headless and skips its click).
# admin.test.js drives the admin page against t/node/mock-push.js on its
# own port (ADMIN_PUSH_PORT, allowed in webpush_push_hosts) and reads
# webpush_status at /api/webpush-status as conf/nginx.conf serves it.
# Screenshots go to build/screenshots/. Run alone with
#   t/bin/with-postgres prove -v t/050-browser.t
#
# The JSON:API locations are configured only for the directives the module
# knows (probed with nginx -t); subscribe.test.js says why it skips.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";

use IPC::Run ();
use TAP::Parser;
use Test::More;
use Test::Webpush::Runner ();

my $top = Test::Webpush::Runner::top();
my $chromium = $ENV{CHROMIUM} || '/usr/bin/chromium';

plan skip_all => "$chromium is absent (apt-get install chromium)"
    unless -x $chromium;
plan skip_all => 'node is absent'
    unless grep { -x "$_/node" } split /:/, $ENV{PATH};
plan skip_all => 'npm playwright-core is not installed in t/node'
                 . ' (make -f Makefile.wrapper deps)'
    unless -d "$top/t/node/node_modules/playwright-core";

Test::Webpush::Runner::setup();
my $servroot = Test::Webpush::Runner::servroot();
system('cp', '-R', "$top/client", "$servroot/client") == 0
    && system('chmod', '-R', 'go+rX', "$servroot/client") == 0
    or die "cannot copy client/ into $servroot";
my $wpt_port = Test::Webpush::Runner::free_port();
my $admin_push_port;
do { $admin_push_port = Test::Webpush::Runner::free_port() }
    while $admin_push_port == $wpt_port
          || $admin_push_port == Test::Webpush::Runner::port();

{
    package Browser::Block;
    sub new { my ($c, %a) = @_; return bless {%a}, $c }
    sub main_config { return $_[0]{main_config} }
    sub http_config { return $_[0]{http_config} }
    sub config { return $_[0]{config} }
    sub events_config { return $_[0]{events_config} }
}

my $http = join "\n",
    'include /etc/nginx/mime.types;',
    'webpush_vapid_key $TEST_VAPID_KEY;',
    'webpush_vapid_subject mailto:ops@example.com;', '';

my $server = join "\n",
    'location / { root $TEST_NGINX_SERVROOT/client; }',
    'location = /webpush/vapid-public-key { webpush_vapid_public_key; }',
    # as in conf/nginx.conf (there behind auth_basic)
    'location = /api/webpush-status { keepalive_timeout 0; webpush_status; }',
    '';

# the JSON:API endpoints and the engagement reports, each where the module
# knows its directive
my %api = (
    webpush_subscriptions => '/api/push-notification-subscriptions',
    webpush_providers     => '/api/push-notification-providers',
    webpush_notifications => '/api/push-notifications',
    webpush_events        => '/webpush/events',
);
my @missing;
if ($ENV{TEST_PG_DIR}) {
    my $pg = join "\n",
        'webpush_postgres "$TEST_PG_CONNINFO";',
        "webpush_push_hosts default http://127.0.0.1:$wpt_port"
        . " http://127.0.0.1:$admin_push_port;", '';
    my @known = grep { knows($_, $pg) } sort keys %api;
    @missing = grep { my $d = $_; !grep { $_ eq $d } @known } sort keys %api;
    if (@known) {
        $http .= $pg;
        $server .= "location $api{$_} { $_; }\n" for @known;
    }
} else {
    @missing = ('TEST_PG_DIR unset: run under t/bin/with-postgres');
}

sub conf {
    my ($h, $s) = @_;
    return Test::Webpush::Runner::render_conf(
        Browser::Block->new(http_config => $h, config => $s));
}

# does "nginx -t" accept the directive? (unknown directive = not built yet)
sub knows {
    my ($directive, $pg) = @_;
    Test::Webpush::Runner::write_conf(
        conf($http . $pg, "location /probe { $directive; }"));
    my ($out, $err) = ('', '');
    IPC::Run::run([Test::Webpush::Runner::nginx_cmd('-t')], '<', \undef,
                  '>', \$out, '2>', \$err);
    return "$out$err" !~ /unknown directive "\Q$directive\E"/;
}

Test::Webpush::Runner::start_nginx(conf($http, $server));
my $base = 'http://127.0.0.1:' . Test::Webpush::Runner::port();

my %env = (
    WEBPUSH_BASE_URL => $base,
    CHROMIUM         => $chromium,
    SCREENSHOT_DIR   => "$top/build/screenshots",
    WPT_PORT         => $wpt_port,
    ADMIN_PUSH_PORT  => $admin_push_port,
    WEBPUSH_API_NOTE => @missing ? 'not configured here: '
                                   . join(', ', @missing) : '',
    $ENV{TEST_PG_DIR}
        ? (TEST_PG_CONNINFO => Test::Webpush::Runner::pg_conninfo()) : (),
);

# TEST_BROWSER_SCRIPTS="admin subscribe" runs only those
my @scripts = $ENV{TEST_BROWSER_SCRIPTS}
              ? split(/[\s,]+/, $ENV{TEST_BROWSER_SCRIPTS})
              : qw(sw kit click subscribe engagement admin);
for my $script (@scripts) {
    run_node("$top/t/browser/$script.test.js");
}

# the module said nothing alarming while the browser used it
{
    open my $fh, '<', "$servroot/logs/error.log" or die $!;
    local $/;
    my $log = <$fh> // '';
    my @bad = grep { /\[(alert|crit|emerg)\]|exited on signal/ }
              split /\n/, $log;
    ok(!@bad, 'no alert, crit, emerg or crash in error.log')
        or diag(join "\n", @bad);
}

done_testing();

# runs a node script and turns its TAP into a subtest
sub run_node {
    my ($script) = @_;
    (my $name = $script) =~ s{.*/}{};
    local @ENV{keys %env} = values %env;
    subtest $name => sub {
        my $parser = TAP::Parser->new({exec => ['node', $script]});
        my $tests = 0;
        while (my $r = $parser->next) {
            if ($r->is_plan && $r->directive eq 'SKIP') {
                plan skip_all => $r->explanation;
            } elsif ($r->is_test) {
                $tests++;
                my $desc = $r->description;
                $desc =~ s/^-\s*//;
                if ($r->has_skip) {
                    SKIP: { skip $r->explanation, 1 }
                } else {
                    ok($r->is_actual_ok, $desc);
                }
            } elsif ($r->is_comment) {
                note($r->as_string);
            }
        }
        my $exit = $parser->exit;
        ok(0, "$name exited with status $exit")
            if $exit && !$parser->failed;
        ok(0, "$name ran no test") unless $tests;
        done_testing();
    };
}
