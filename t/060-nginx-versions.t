# The module against the nginx versions deployments run: for the oldest
# and the newest source archive in ../shared/nginx (all of them with
# WEBPUSH_ALL_NGINX=1), nginx and the module are built from the tree
# (--with-compat --with-http_ssl_module, warnings are errors) and
# t/smoke/nginx-smoke.pl runs against that nginx with load_module: the
# example configuration under "nginx -t", provider CRUD, a subscription, a
# notification delivered to web-push-testing and decrypted, the status
# endpoint, a reload.
#
# Builds go to build/nginx-versions/<version>, removed first: nothing is
# reused from an earlier run.  WEBPUSH_NGINX_ARCHIVES names another
# directory of archives (with its SHA256SUMS); WEBPUSH_SKIP_NGINX_VERSIONS=1
# skips the file (the sanitizer pass of "make test" does: it would build
# the same nginx again).

use strict;
use warnings;
use FindBin;
use Cwd qw(abs_path);
use File::Path qw(remove_tree);
use IPC::Run ();
use Test::More;
use Time::HiRes qw(time);

my $top = abs_path("$FindBin::Bin/..");

if ($ENV{WEBPUSH_SKIP_NGINX_VERSIONS}) {
    plan skip_all => 'WEBPUSH_SKIP_NGINX_VERSIONS is set';
}
die "TEST_PG_DIR is not set: run under t/bin/with-postgres\n"
    unless $ENV{TEST_PG_DIR};

# beside the checkout (the workplace's layout), or where this workplace
# keeps them when the checkout is a clone elsewhere
my ($dir) = grep { defined && -d }
            ($ENV{WEBPUSH_NGINX_ARCHIVES}, "$top/../shared/nginx",
             '/work/shared/nginx');
if (!defined $dir) {
    plan skip_all => 'no nginx source archives (../shared/nginx); '
                     . 'set WEBPUSH_NGINX_ARCHIVES';
}
my @archives = sort { vcmp($a->[0], $b->[0]) }
               map { /nginx-(\d+\.\d+\.\d+)\.tar\.gz$/ ? [$1, $_] : () }
               glob "$dir/nginx-*.tar.gz";
BAIL_OUT("no nginx-X.Y.Z.tar.gz in $dir (WEBPUSH_NGINX_ARCHIVES)")
    if @archives < 2;
@archives = ($archives[0], $archives[-1]) unless $ENV{WEBPUSH_ALL_NGINX};

sub vcmp {
    my @a = split /\./, shift;
    my @b = split /\./, shift;
    return $a[0] <=> $b[0] || $a[1] <=> $b[1] || $a[2] <=> $b[2];
}

# the archives are the ones SHA256SUMS names
{
    my ($out, $err) = ('', '');
    my $ok = IPC::Run::run(['sha256sum', '--check', '--ignore-missing',
                            'SHA256SUMS'], init => sub { chdir $dir },
                           '<', \undef, '>', \$out, '2>', \$err);
    ok($ok, 'the archives match SHA256SUMS') or diag("$out$err");
}

for my $a (@archives) {
    my ($version, $archive) = @$a;
    my $out = "$top/build/nginx-versions/$version";
    remove_tree($out);

    my $t0 = time;
    my ($log, $rc) = ('');
    IPC::Run::run(["$top/t/bin/nginx-from-source", $archive, $out],
                  '<', \undef, '>&', \$log);
    my $built = ($? == 0);
    ok($built, sprintf("nginx %s and the module build without warnings"
                       . " (%.0f s)", $version, time - $t0))
        or diag($log);
    next unless $built;

    $t0 = time;
    local $ENV{TEST_NGINX_BINARY} = "$out/objs/nginx";
    local $ENV{TEST_NGINX_MODULE} = "$out/objs/ngx_http_webpush_module.so";
    local $ENV{WEBPUSH_NGINX_VERSION} = $version;
    my $tap = '';
    IPC::Run::run([$^X, "$top/t/smoke/nginx-smoke.pl"], '<', \undef,
                  '>&', \$tap);
    my $passed = ($? == 0) && $tap !~ /^not ok/m && $tap =~ /^1\.\.\d+/m;
    ok($passed, sprintf("nginx %s: the smoke passes (%.0f s)", $version,
                        time - $t0))
        or diag($tap);
}

done_testing();
