package Test::Webpush;

# Test::Nginx-style data-driven tests for ngx_http_webpush_module.
#
#   use FindBin; use lib "$FindBin::Bin/lib";
#   use Test::Webpush;
#   run_tests();
#   __DATA__
#   === TEST 1: name
#   --- config
#   location = /t { webpush_status; }
#   --- request
#   GET /t
#   --- error_code: 200
#
# The sections are documented in Test/Webpush/Runner.pm, which does the
# work; this package only plugs it into Test::Base's block parser.

use Test::Base -Base;
use Test::Webpush::Runner ();

our @EXPORT = qw(run_tests defaults vars blocks plan is ok like is_deeply
                 diag done_testing);

# defaults(http_config => "...", config => "..."): sections a block does
# not have itself
sub defaults (@) {
    my %sections = @_;
    Test::Webpush::Runner::set_defaults(%sections);
}

# vars(TEST_NAME => "text", ...): variables of the file's own, expanded
# in the sections like $TEST_NGINX_PORT and the others (and before them:
# their text may use them)
sub vars (@) {
    my %vars = @_;
    Test::Webpush::Runner::set_vars(%vars);
}

sub run_tests () {
    # the prefix, key and database exist before eval'd sections run
    Test::Webpush::Runner::setup();
    Test::Webpush::Runner::run_blocks(Test::Base::blocks());
}

1;
