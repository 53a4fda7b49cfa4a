package Test::Webpush::FanoutMock;

# The push service of the fan-out fault tests (t/030-durability.t,
# t/031-two-nodes.t), chosen by WEBPUSH_FANOUT_MOCK:
#
#   (unset)  bench/fanout/mock-push: a stock nginx, plain HTTP/1.1
#   h2       t/bin/fanout-mock-h2: t/node/mock-push-h2.js --decrypt over
#            TLS with a test CA, and the module with webpush_http2 on
#            (t/030-durability-h2.t and t/031-two-nodes-h2.t set it)
#
# Both are started as "$TEST_PUSH_MOCK start DIR PORT", print their pid
# and append one line per request to DIR/access.log, "PATH OUTCOME" (the
# status; mock-push-h2.js also "refused" or "unanswered"), so the tests
# count deliveries per subscription the same way with either.
#
#   vars(Test::Webpush::FanoutMock::vars());
#
# gives the file
#   $TEST_PUSH_MOCK     the start command
#   $TEST_PUSH_ORIGIN   scheme://127.0.0.1:$TEST_PORT_A, for the endpoints
#                       and webpush_push_hosts
#   $TEST_PUSH_CONFIG   http-level directives the push service needs (the
#                       CA to trust, webpush_http2); empty for plain HTTP
#   $TEST_PUSH_CHECK    a command printing "push service: as expected"
#                       when the pushes came as the mode wants (h2: every
#                       one over HTTP/2, none that did not decrypt); the
#                       stock nginx cannot tell, it prints that anyway
# The mock's directory must be $TEST_NGINX_SERVROOT/mock (the CA is made
# there when it starts, before nginx reads its configuration).

use strict;
use warnings;

sub mode {
    my $m = $ENV{WEBPUSH_FANOUT_MOCK} // '';
    die "WEBPUSH_FANOUT_MOCK=$m: want h2 or nothing\n"
        unless $m eq '' || $m eq 'h2';
    return $m;
}

sub vars {
    if (mode() eq 'h2') {
        return (
            TEST_PUSH_MOCK   => '$TEST_TOP/t/bin/fanout-mock-h2',
            TEST_PUSH_ORIGIN => 'https://127.0.0.1:$TEST_PORT_A',
            TEST_PUSH_CONFIG => "webpush_http2 on;\n"
                . 'webpush_ssl_trusted_certificate $TEST_NGINX_SERVROOT/mock/ca.pem;',
            TEST_PUSH_CHECK  => '$TEST_TOP/t/bin/fanout-mock-h2 check $TEST_PORT_A',
        );
    }
    return (
        TEST_PUSH_MOCK   => '$TEST_TOP/bench/fanout/mock-push',
        TEST_PUSH_ORIGIN => 'http://127.0.0.1:$TEST_PORT_A',
        TEST_PUSH_CONFIG => '',
        TEST_PUSH_CHECK  => 'echo "push service: as expected"',
    );
}

1;
