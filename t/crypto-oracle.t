# src/crypto checked by independent implementations: t/node/crypto_oracle.js
# runs webpush_crypto_tool and decrypts its output with npm http_ece and
# verifies its VAPID JWTs with npm jws and node:crypto.
#
#   WEBPUSH_CRYPTO_TOOL  the webpush_crypto_tool binary
#                        (default: build/cmake/tools/webpush_crypto_tool)
#   WEBPUSH_NODE_DIR     directory with node_modules/{http_ece,jws}
#                        (default: t/node)

use strict;
use warnings;

use Cwd qw(abs_path);
use FindBin;
use Test::More;

my $top = abs_path("$FindBin::Bin/..");
my $tool = $ENV{WEBPUSH_CRYPTO_TOOL}
    // "$top/build/cmake/tools/webpush_crypto_tool";
my $node_dir = $ENV{WEBPUSH_NODE_DIR} // "$top/t/node";
my $script = "$top/t/node/crypto_oracle.js";

plan skip_all => "webpush_crypto_tool not built: $tool is not executable"
    . " (build the CMake project or set WEBPUSH_CRYPTO_TOOL)"
    unless -x $tool;

for my $module (qw(http_ece jws)) {
    plan skip_all => "npm package $module missing in $node_dir/node_modules"
        . " (npm install there or set WEBPUSH_NODE_DIR)"
        unless -d "$node_dir/node_modules/$module";
}

plan skip_all => 'node is not installed'
    unless system('node --version >/dev/null 2>&1') == 0;

local $ENV{WEBPUSH_CRYPTO_TOOL} = $tool;
local $ENV{NODE_PATH} = join ':', grep { defined && length }
    "$node_dir/node_modules", $ENV{NODE_PATH};

open my $oracle, '-|', 'node', $script
    or BAIL_OUT("cannot run node $script: $!");

# Re-emit the oracle's TAP through Test::More so prove sees one stream.
my ($planned, $seen) = (undef, 0);
while (my $line = <$oracle>) {
    chomp $line;
    if ($line =~ /^(not )?ok \d+ - (.*)$/) {
        $seen++;
        ok(!defined $1, $2);
    } elsif ($line =~ /^1\.\.(\d+)/) {
        $planned = $1;
    } elsif ($line =~ /^#\s?(.*)$/) {
        diag($1);
    } else {
        diag("oracle: $line");
    }
}
close $oracle;
my $status = $? >> 8;

is($status, 0, 'oracle exited with status 0');
is($seen, $planned, 'oracle ran all its planned checks');

done_testing();
