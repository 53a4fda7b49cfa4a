# t/030-durability.t again, with HTTP/2: a worker killed with SIGKILL and
# reloads mid fan-out, against t/node/mock-push-h2.js over TLS with a test
# CA, decrypting every push (t/bin/fanout-mock-h2), and the module with
# webpush_http2 on.  The same checks, and every push came over h2 and
# decrypted.  See Test::Webpush::FanoutMock.

use strict;
use warnings;
use FindBin;

$ENV{WEBPUSH_FANOUT_MOCK} = 'h2';
do "$FindBin::Bin/030-durability.t";
die $@ if $@;
