package Test::Webpush::Runner;

# Runs Test::Base blocks against the stock nginx binary with the module
# loaded: master process + 2 workers under a temporary prefix, one
# PostgreSQL database per test file (from the cluster t/bin/with-postgres
# started), one VAPID key per test file.
#
# Sections of a block:
# Files may set defaults for the configuration sections with
# defaults(http_config => ..., config => ...) before run_tests(), and
# variables of their own with vars(TEST_NAME => 'text', ...): expanded
# like the ones below (their text may use those).
#
#   --- main_config        text in the main context
#   --- events_config      text in the events block (worker_connections
#                          is 1024 unless it sets it)
#   --- http_config        text in the http block
#   --- config             text in the server block
#   --- shell              bash commands run first (variables expanded)
#   --- nginx_env          "NAME=value" lines added to the environment
#                          nginx is started with (the master's: read when
#                          it parses the configuration, unlike "env")
#   --- init_sql           SQL run (psql) before the request
#   --- request            "METHOD URI" then the body (use "eval" for exact
#                          bytes); HTTP/1.1 over a new connection
#   --- more_headers       "Name: value" lines
#   --- error_code         expected status
#   --- response_body      exact body (a trailing newline is ignored)
#   --- response_body_like regex
#   --- response_json      JSON compared structurally; a string "~re" in the
#                          expected document matches by regex, "*" anything
#   --- response_headers   "Name: value" exact, "Name: ~re" regex, "!Name"
#                          absent
#   --- sql / --- sql_result  a query run after the request and its expected
#                          output (psql -At: one row a line, "|" between
#                          columns); --- sql_db names another database
#   --- error_log          substrings (or eval'd qr// list) that must appear
#                          in the new part of error.log (or in the output
#                          of "nginx -t" with --- must_die)
#   --- no_error_log       substrings that must not appear
#   --- must_die           "nginx -t" must fail
#   --- check              bash run after the request; its stdout compared
#                          with --- check_result (exact) or --- check_like
#   --- eventually         seconds: repeat the sql and check comparisons
#                          until they pass or the time is up
#   --- wait               seconds to sleep after the request, before the
#                          log checks
#   --- timeout            request timeout (default 10 s)
#   --- vars               "NAME=value" lines: variables of this block's
#                          own, expanded like the file's (before them)
#   --- same_as: TEST 8    the sections this block does not have are
#                          those of the earlier block whose name begins
#                          so ("TEST 8:"), its --- vars included (this
#                          block's own win): a variant of a block is its
#                          name, what differs and its --- vars
#
# $TEST_NGINX_PORT, $TEST_PORT_A...F (free ports for peers; a peer started
# in the background writes its pid to $TEST_NGINX_SERVROOT/pids/NAME.pid
# and is stopped at the end), $TEST_NGINX_SERVROOT, $TEST_PG_CONNINFO, $TEST_PG_DIR,
# $TEST_VAPID_KEY, $TEST_SCHEMA_VERSION (this build's, from src/db/sql.hpp),
# $TEST_VAPID_PUBLIC_KEY and $TEST_TOP are expanded in configs, requests,
# SQL, shell commands and expected JSON.
#
# Every block also fails on an [alert], [crit] or [emerg] it did not list
# in --- error_log, and on a worker "exited on signal".
#
# Environment: TEST_NGINX_BINARY (default /usr/sbin/nginx),
# TEST_NGINX_MODULE (default build/ngx_http_webpush_module.so),
# TEST_PG_DIR (the cluster's socket directory), TEST_NGINX_LEAVE=1 keeps
# the prefix for inspection, TEST_NGINX_LOG_LEVEL (default info).

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(basename dirname);
use File::Path qw(make_path remove_tree);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use IPC::Run ();
use JSON::PP ();
use Test::More;
use Time::HiRes qw(sleep time);

my $top = abs_path(dirname(__FILE__) . '/../../../..');

our $NGINX = $ENV{TEST_NGINX_BINARY} || '/usr/sbin/nginx';
our $MODULE = $ENV{TEST_NGINX_MODULE}
              || "$top/build/ngx_http_webpush_module.so";
our $PGCLUSTER = "$top/t/bin/pgcluster";

my $servroot;
my $port;
my @extra_ports;
my $dbname;
my $running_conf;
my $log_offset = 0;
my $startup_output = '';     # what nginx said on stderr while starting
my %defaults;                # sections every block has unless it says
my %vars;                    # the file's own variables (vars())
my %block_vars;              # the running block's (--- vars)
my @seen;                    # the blocks run so far (--- same_as)

sub set_defaults {
    %defaults = (%defaults, @_);
}

sub set_vars {
    %vars = (%vars, @_);
}

# the earlier block a block's --- same_as names, or undef
sub base_block {
    my ($block) = @_;
    my $ref = $block->can('same_as') ? $block->same_as : undef;
    return undef unless defined $ref;
    $ref =~ s/^\s+|\s+$//g;
    for my $b (reverse @seen) {
        return $b if $b->name =~ /^\Q$ref\E(?::|\s*$)/;
    }
    die "--- same_as: no earlier block named \"$ref\"\n";
}

# a section of the block, else of its --- same_as block (scalar: the
# first value of an eval'd list)
sub own_section {
    my ($block, $name) = @_;
    my $value = $block->can($name) ? $block->$name : undef;
    return $value if defined $value;
    my $base = base_block($block);
    return $base ? own_section($base, $name) : undef;
}

# the same, every value (an eval'd section may give a list)
sub section_list {
    my ($block, $name) = @_;
    return $block->$name if $block->can($name) && defined $block->$name;
    my $base = base_block($block);
    return $base ? section_list($base, $name) : ();
}

# a section of the block (or of its --- same_as block), or the file's
# default for it
sub section {
    my ($block, $name) = @_;
    my $value = own_section($block, $name);
    return defined $value ? $value : $defaults{$name};
}

# the block's --- vars, over those of its --- same_as block
sub vars_of {
    my ($block) = @_;
    my $base = base_block($block);
    my $own = $block->can('vars') ? $block->vars : undef;
    return (($base ? vars_of($base) : ()),
            %{parse_assignments($own, 'vars')});
}

sub servroot { $servroot }
sub port { $port }
sub top { $top }

sub free_port {
    my $sock = IO::Socket::INET->new(
        Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0,
        Proto => 'tcp', ReuseAddr => 1,
    ) or die "no free port: $!";
    my $p = $sock->sockport;
    close $sock;
    return $p;
}

sub pg_conninfo {
    return undef unless $ENV{TEST_PG_DIR};
    return "host=$ENV{TEST_PG_DIR} port=5432 user=postgres dbname=$dbname";
}

sub psql {
    my ($sql, $db) = @_;
    die "TEST_PG_DIR is not set: run under t/bin/with-postgres\n"
        unless $ENV{TEST_PG_DIR};
    my ($out, $err) = ('', '');
    IPC::Run::run([$PGCLUSTER, 'psql', $ENV{TEST_PG_DIR}, '-At',
                   '-d', $db // $dbname, '-c', $sql],
                  '<', \undef, '>', \$out, '2>', \$err)
        or die "psql failed: $err";
    return $out;
}

sub setup {
    return if $servroot;

    $servroot = tempdir('webpush-t-XXXXXX', TMPDIR => 1,
                        CLEANUP => !$ENV{TEST_NGINX_LEAVE});
    chmod 0755, $servroot;
    make_path("$servroot/conf", "$servroot/logs", "$servroot/html");
    $port = free_port();
    @extra_ports = map { free_port() } 1 .. 6;
    make_path("$servroot/pids");

    system('openssl', 'ecparam', '-name', 'prime256v1', '-genkey',
           '-noout', '-out', "$servroot/conf/vapid.pem") == 0
        or die "openssl failed to make a VAPID key";
    chmod 0600, "$servroot/conf/vapid.pem";

    if ($ENV{TEST_PG_DIR}) {
        ($dbname = 't_' . basename($0) . "_$$") =~ s/\W/_/g;
        psql("CREATE DATABASE $dbname", 'postgres');
    }

    diag("prefix $servroot") if $ENV{TEST_NGINX_LEAVE};
}

# the VAPID public key as the module should publish it: the 65-byte
# uncompressed point (the tail of the DER SubjectPublicKeyInfo), base64url
sub vapid_public_key {
    my ($der, $err) = ('', '');
    IPC::Run::run(['openssl', 'ec', '-in', "$servroot/conf/vapid.pem",
                   '-pubout', '-outform', 'DER'],
                  '<', \undef, '>', \$der, '2>', \$err)
        or die "openssl ec failed: $err";
    require MIME::Base64;
    my $b64 = MIME::Base64::encode_base64(substr($der, -65), '');
    $b64 =~ tr{+/}{-_};
    $b64 =~ s/=+$//;
    return $b64;
}

# the schema version this build creates (src/db/sql.hpp), for tests that
# check a database was brought up to it
my $schema_version;
sub schema_version {
    return $schema_version if defined $schema_version;
    open my $fh, '<', "$top/src/db/sql.hpp" or die "src/db/sql.hpp: $!";
    while (my $line = <$fh>) {
        return $schema_version = $1
            if $line =~ /constexpr int\s+schema_version\s*=\s*(\d+);/;
    }
    die "src/db/sql.hpp names no schema_version";
}

sub expand {
    my ($text) = @_;
    return '' unless defined $text;
    # the block's own first, then the file's: their text may use the
    # file's and the built-in ones
    $text =~ s/\$(TEST_\w+)/exists $block_vars{$1}
                              ? $block_vars{$1} : "\$$1"/ge;
    $text =~ s/\$(TEST_\w+)/exists $vars{$1} ? $vars{$1} : "\$$1"/ge;
    my %builtin = (
        TEST_NGINX_PORT     => $port,
        TEST_PORT_A         => $extra_ports[0],
        TEST_PORT_B         => $extra_ports[1],
        TEST_PORT_C         => $extra_ports[2],
        TEST_PORT_D         => $extra_ports[3],
        TEST_PORT_E         => $extra_ports[4],
        TEST_PORT_F         => $extra_ports[5],
        TEST_NGINX_SERVROOT => $servroot,
        TEST_NGINX_MODULE   => $MODULE,
        TEST_PG_CONNINFO    => pg_conninfo() // 'dbname=none',
        TEST_VAPID_KEY      => "$servroot/conf/vapid.pem",
        TEST_VAPID_PUBLIC_KEY => vapid_public_key(),
        TEST_TOP            => $top,
        TEST_SCHEMA_VERSION => schema_version(),
        TEST_PG_DIR         => $ENV{TEST_PG_DIR} // '',
    );
    $text =~ s/\$(TEST_\w+)/exists $builtin{$1} ? $builtin{$1} : "\$$1"/ge;
    return $text;
}

sub render_conf {
    my ($block) = @_;
    my $level = $ENV{TEST_NGINX_LOG_LEVEL} || 'info';
    my $main = expand(section($block, 'main_config'));
    my $http = expand(section($block, 'http_config'));
    my $events = expand(section($block, 'events_config'));
    $events = "worker_connections 1024;\n$events"
        unless $events =~ /worker_connections/;
    my $server = expand(section($block, 'config'));

    return <<"EOF";
load_module $MODULE;

master_process on;
worker_processes 2;
daemon on;
pid logs/nginx.pid;
error_log logs/error.log $level;
$main

events {
    $events
}

http {
    access_log logs/access.log;
    client_body_temp_path temp/body;
    proxy_temp_path temp/proxy;
    fastcgi_temp_path temp/fastcgi;
    uwsgi_temp_path temp/uwsgi;
    scgi_temp_path temp/scgi;
    default_type text/plain;

$http

    server {
        listen 127.0.0.1:$port;
        server_name localhost;

$server
    }
}
EOF
}

sub write_conf {
    my ($conf) = @_;
    make_path("$servroot/temp");
    open my $fh, '>', "$servroot/conf/nginx.conf" or die $!;
    print $fh $conf;
    close $fh;
}

sub nginx_cmd {
    return ($NGINX, '-p', "$servroot/", '-c', 'conf/nginx.conf', @_);
}

sub read_pid {
    open my $fh, '<', "$servroot/logs/nginx.pid" or return undef;
    my $pid = <$fh>;
    close $fh;
    chomp $pid if defined $pid;
    return $pid;
}

sub running {
    my ($pid) = @_;
    return 0 unless kill 0, $pid;
    # a daemon's zombie waits for whoever reaps orphans here
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $stat = <$fh> // '';
    close $fh;
    return $stat !~ /^\d+ \(.*\) Z/;
}

sub stop_nginx {
    my $pid = read_pid();
    $running_conf = undef;
    return unless $pid && running($pid);

    kill 'QUIT', $pid;
    for (1 .. 400) {
        return unless running($pid);
        sleep 0.025;
    }
    diag("nginx $pid did not quit in 10 s, killing it");
    # its workers first, the master frozen so that it starts no others:
    # a killed master's workers would outlive the test
    kill 'STOP', $pid;
    my @workers = split ' ', `ps -o pid= --ppid $pid`;
    kill 'KILL', @workers if @workers;
    kill 'KILL', $pid;
    sleep 0.1;
}

# "NAME=value" lines of --- nginx_env or --- vars
sub parse_assignments {
    my ($text, $section) = @_;
    my %env;
    for my $line (split /\n/, $text // '') {
        next unless $line =~ /\S/;
        $line =~ /^\s*(\w+)=(.*?)\s*$/
            or die "bad --- $section line: $line";
        $env{$1} = $2;
    }
    return \%env;
}

# what nginx runs with: a different one restarts it
sub running_key {
    my ($conf, $env) = @_;
    return join "\n", $conf, map { "$_=$env->{$_}" } sort keys %{$env // {}};
}

sub start_nginx {
    my ($conf, $env) = @_;
    $env //= {};

    stop_nginx();
    write_conf($conf);

    my ($out, $err) = ('', '');
    {
        local @ENV{keys %$env} = values %$env;
        IPC::Run::run([nginx_cmd()], '<', \undef, '>', \$out, '2>', \$err)
            or die "nginx failed to start: $err$out";
    }
    $startup_output = "$out$err";

    for (1 .. 200) {
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
                                      Proto => 'tcp');
        if ($s) {
            close $s;
            $running_conf = running_key($conf, $env);
            return;
        }
        sleep 0.05;
    }
    die "nginx did not start listening on port $port";
}

# the workers create the schema when they connect; tests touching the
# tables wait for it
sub wait_for_schema {
    for (1 .. 200) {
        my $v = eval { psql("SELECT to_regclass('webpush_schema_version')"
                            . " IS NOT NULL AND EXISTS (SELECT 1 FROM"
                            . " pg_proc WHERE proname ="
                            . " 'webpush_subscription_delete')") };
        return if defined $v && $v =~ /^t/;
        sleep 0.05;
    }
    die "the module did not create its schema within 10 s";
}

sub log_size {
    return -s "$servroot/logs/error.log" || 0;
}

sub new_log {
    open my $fh, '<', "$servroot/logs/error.log" or return '';
    seek $fh, $log_offset, 0;
    local $/;
    my $text = <$fh> // '';
    close $fh;
    return $text;
}

sub patterns {
    return map {
        ref $_ eq 'ARRAY' ? @$_
        : ref $_ eq 'Regexp' ? $_
        : grep { length } split /\n/, $_
    } grep { defined } @_;
}

sub matches {
    my ($text, $pattern) = @_;
    return ref $pattern ? $text =~ $pattern : index($text, $pattern) >= 0;
}

sub check_logs {
    my ($block, $text, $name) = @_;

    my @expected = patterns(section_list($block, 'error_log'));
    for my $p (@expected) {
        ok(matches($text, $p), "$name - error log has \"$p\"")
            or diag("log:\n$text");
    }

    for my $p (patterns(section_list($block, 'no_error_log'))) {
        ok(!matches($text, $p), "$name - error log lacks \"$p\"");
    }

    my @bad;
    for my $line (split /\n/, $text) {
        next unless $line =~ /\[(alert|crit|emerg)\]|exited on signal/;
        next if grep { matches($line, $_) } @expected;
        push @bad, $line;
    }
    ok(!@bad, "$name - no unexpected alert, crit, emerg or crash")
        or diag(join "\n", @bad);
}

sub parse_request {
    my ($text) = @_;
    $text = '' unless defined $text;
    my ($line, $body) = split /\n/, $text, 2;
    my ($method, $uri) = split ' ', $line // '', 2;
    die "bad --- request line: $line" unless $method && $uri;
    $body = undef if defined $body && $body eq '';
    return ($method, $uri, $body);
}

sub parse_headers {
    my ($text) = @_;
    my %h;
    for my $line (split /\n/, $text // '') {
        next unless $line =~ /^\s*([^:\s]+)\s*:\s*(.*?)\s*$/;
        $h{$1} = $2;
    }
    return \%h;
}

# "~re" strings match by regex, "*" matches anything
sub json_match {
    my ($got, $want, $path) = @_;

    if (!ref $want && defined $want && !JSON::PP::is_bool($want)) {
        return undef if $want eq '*';
        if ($want =~ /^~(.*)$/s) {
            return (defined $got && !ref $got && $got =~ /$1/)
                ? undef : "$path: \"" . ($got // 'null') . "\" !~ /$1/";
        }
    }

    my $json = JSON::PP->new->canonical->allow_nonref;
    if (ref $want eq 'HASH') {
        return "$path: not an object" unless ref $got eq 'HASH';
        for my $k (sort keys %$want) {
            return "$path: missing \"$k\"" unless exists $got->{$k};
            my $e = json_match($got->{$k}, $want->{$k}, "$path.$k");
            return $e if $e;
        }
        for my $k (sort keys %$got) {
            return "$path: unexpected \"$k\"" unless exists $want->{$k};
        }
        return undef;
    }
    if (ref $want eq 'ARRAY') {
        return "$path: not an array" unless ref $got eq 'ARRAY';
        return "$path: " . scalar(@$got) . " elements, want "
               . scalar(@$want) unless @$got == @$want;
        for my $i (0 .. $#$want) {
            my $e = json_match($got->[$i], $want->[$i], "$path\[$i\]");
            return $e if $e;
        }
        return undef;
    }

    my ($g, $w) = ($json->encode($got), $json->encode($want));
    return $g eq $w ? undef : "$path: got $g, want $w";
}

sub run_block {
    my ($block) = @_;
    my $name = $block->name;
    %block_vars = vars_of($block);
    # its sections, or those of its --- same_as block
    my %sec = map { $_ => own_section($block, $_) }
        qw(shell must_die init_sql request more_headers timeout error_code
           response_body response_body_like response_json response_headers
           wait eventually sql sql_result sql_db check check_result
           check_like);

    if (defined $sec{shell}) {
        my $cmd = expand($sec{shell});
        system('bash', '-euc', $cmd) == 0 or die "--- shell failed: $cmd";
    }

    if (defined $sec{must_die}) {
        write_conf(render_conf($block));
        my ($out, $err) = ('', '');
        my $ok = IPC::Run::run([nginx_cmd('-t')], '<', \undef,
                               '>', \$out, '2>', \$err);
        ok(!$ok, "$name - nginx -t fails");
        my $text = "$out$err";
        for my $p (patterns(section_list($block, 'error_log'))) {
            ok(matches($text, $p), "$name - nginx -t says \"$p\"")
                or diag($text);
        }
        for my $p (patterns(section_list($block, 'no_error_log'))) {
            ok(!matches($text, $p), "$name - nginx -t does not say \"$p\"");
        }
        $running_conf = undef if defined $running_conf;
        return;
    }

    my $conf = render_conf($block);
    my $env = parse_assignments(expand(section($block, 'nginx_env')),
                                'nginx_env');
    my $key = running_key($conf, $env);
    if (!defined $running_conf || $running_conf ne $key) {
        $log_offset = log_size();
        start_nginx($conf, $env);
        # the test database: other clusters are the block's own business
        wait_for_schema()
            if (section($block, 'http_config') // '') =~ /\$TEST_PG_CONNINFO/;
    } else {
        $log_offset = log_size();
    }

    psql(expand($sec{init_sql})) if defined $sec{init_sql};

    if (defined $sec{request}) {
        my ($method, $uri, $body) = parse_request(expand($sec{request}));
        my $headers = parse_headers(expand($sec{more_headers}));
        my $http = HTTP::Tiny->new(timeout => $sec{timeout} || 10,
                                   keep_alive => 0,
                                   max_redirect => 0);
        my $res = $http->request($method, "http://127.0.0.1:$port$uri", {
            headers => $headers,
            defined $body ? (content => $body) : (),
        });

        if (defined $sec{error_code}) {
            is($res->{status}, $sec{error_code}, "$name - status")
                or diag($res->{content});
        }

        my $content = $res->{content} // '';
        if (defined $sec{response_body}) {
            my $want = $sec{response_body};
            $want =~ s/\n\z//;
            (my $got = $content) =~ s/\n\z//;
            is($got, $want, "$name - response body");
        }
        if (defined $sec{response_body_like}) {
            my $re = $sec{response_body_like};
            $re =~ s/\n\z//;
            like($content, qr/$re/s, "$name - response body like");
        }
        if (defined $sec{response_json}) {
            my $want = JSON::PP->new->decode(expand($sec{response_json}));
            my $got = eval { JSON::PP->new->decode($content) };
            my $err = $@ ? "not JSON: $content"
                         : json_match($got, $want, '$');
            ok(!$err, "$name - response JSON") or diag($err);
        }
        if (defined $sec{response_headers}) {
            for my $line (split /\n/, $sec{response_headers}) {
                if ($line =~ /^!\s*(\S+)/) {
                    ok(!exists $res->{headers}{lc $1},
                       "$name - no header $1");
                } elsif ($line =~ /^\s*([^:\s]+)\s*:\s*(.*?)\s*$/) {
                    my ($h, $v) = (lc $1, $2);
                    my $got = $res->{headers}{$h};
                    $got = join ', ', @$got if ref $got;
                    if ($v =~ /^~(.*)$/) {
                        like($got // '', qr/$1/, "$name - header $h");
                    } else {
                        is($got, $v, "$name - header $h");
                    }
                }
            }
        }
    }

    sleep($sec{wait}) if $sec{wait};

    # with --- eventually: N, checks are repeated until they pass or N
    # seconds have gone by (delivery is asynchronous)
    my $deadline = time + ($sec{eventually} // 0);

    if (defined $sec{sql}) {
        my $want = $sec{sql_result} // '';
        $want =~ s/\n\z//;
        my $got;
        while (1) {
            ($got = psql(expand($sec{sql}), $sec{sql_db})) =~ s/\n\z//;
            last if $got eq $want || time >= $deadline;
            sleep 0.2;
        }
        is($got, $want, "$name - sql result");
    }

    if (defined $sec{check}) {
        my $cmd = expand($sec{check});
        my $want = $sec{check_result};
        my $like = $sec{check_like};
        $want =~ s/\n\z// if defined $want;
        $like =~ s/\n\z// if defined $like;
        my $got;
        while (1) {
            my ($out, $err) = ('', '');
            IPC::Run::run(['bash', '-euc', $cmd], '<', \undef,
                          '>', \$out, '2>', \$err);
            ($got = $out) =~ s/\n\z//;
            last if defined $want && $got eq $want;
            last if defined $like && $got =~ /$like/s;
            last if time >= $deadline;
            sleep 0.2;
        }
        if (defined $want) {
            is($got, $want, "$name - check result");
        }
        if (defined $like) {
            like($got, qr/$like/s, "$name - check output");
        }
    }

    # give workers a moment to write what the request caused
    sleep 0.05;
    check_logs($block, $startup_output . new_log(), $name);
    $startup_output = '';
}

sub run_blocks {
    my @blocks = @_;

    setup();
    for my $block (@blocks) {
        run_block($block);
        push @seen, $block;
    }
    done_testing();
}

END {
    local $?;
    if ($servroot) {
        stop_nginx();
        # peers a block started in the background ("echo $! > .../pids/x")
        for my $file (glob "$servroot/pids/*.pid") {
            open my $fh, '<', $file or next;
            my $pid = <$fh>;
            close $fh;
            kill 'TERM', $1 if defined $pid && $pid =~ /^(\d+)/;
        }
        # clusters a block started under the prefix
        for my $pg (glob "$servroot/*/data/PG_VERSION") {
            (my $dir = $pg) =~ s{/data/PG_VERSION$}{};
            system($PGCLUSTER, 'stop', $dir);
        }
        if ($dbname && $ENV{TEST_PG_DIR}) {
            eval { psql("DROP DATABASE IF EXISTS $dbname WITH (FORCE)",
                        'postgres') };
        }
    }
}

1;
