# conf/nginx.conf, the example users copy and the demo runs, stays valid:
# "nginx -t" accepts it with the module (paths pointed at a test prefix the
# way "make -f Makefile.wrapper run" does).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::Webpush;

run_tests();

__DATA__

=== TEST 1: nginx -t accepts conf/nginx.conf
--- shell
cp $TEST_VAPID_KEY $TEST_NGINX_SERVROOT/vapid.pem
touch $TEST_NGINX_SERVROOT/htpasswd
$TEST_TOP/t/bin/demo render $TEST_NGINX_SERVROOT > $TEST_NGINX_SERVROOT/example.conf
--- config
location = /t { return 200; }
--- request
GET /t
--- check
/usr/sbin/nginx -t -p $TEST_NGINX_SERVROOT/ -c $TEST_NGINX_SERVROOT/example.conf \
    -g "pid $TEST_NGINX_SERVROOT/example.pid; error_log stderr;" 2>&1 | sed 's/^nginx: //'
--- check_like
the configuration file \S+example.conf syntax is ok\nconfiguration file \S+example.conf test is successful
