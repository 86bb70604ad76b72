#!/usr/bin/perl

# nacre: access log format, error log format, log_level, access_log: off,
# reopening logs on USR1.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;

use Time::HiRes qw/ time sleep /;
use Time::Local qw/ timegm /;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new();

$t->write_file_expand('nacre.yaml', <<'EOF')->plan(24);
daemon: false
worker_processes: 1
api:
  listen: 127.0.0.1:%%PORT_8848%%
EOF

my $quiet = $t->instance('quiet');
$quiet->write_file_expand('nacre.yaml', <<'EOF');
daemon: false
worker_processes: 1
log_level: warn
access_log: "off"
api:
  listen: 127.0.0.1:%%PORT_8849%%
EOF

my $alt = $t->instance('alt');
$alt->write_file_expand('nacre.yaml', <<'EOF');
daemon: false
worker_processes: 1
error_log: other/err.log
access_log: other/acc.log
pid: other/n.pid
api:
  listen: 127.0.0.1:%%PORT_8850%%
EOF
$alt->write_file('other/.keep', '');

$t->write_file('html/file.txt', "0123456789");

$t->run();
$quiet->run();
$alt->run();

my $LIVE = '/nacos/v1/console/health/liveness';

###############################################################################

# access log lines

http_get($LIVE);
http_get('/nope?x=1');
http_head('/nacos/file.txt');
http_get('/nacos/file.txt');
http("GET $LIVE HTTP/1.0\r\n\r\n");
http("BAD\r\n\r\n");

my @l = wait_access($t, 6);
is(scalar @l, 6, 'six access log lines');

my $re = qr{^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)([+-]\d\d:\d\d|Z)
    [ ]127\.0\.0\.1[ ]"([^"]*)"[ ](\d{3})[ ](\d+)[ ](\d+)$}x;

like($l[0] // '', qr{"GET \Q$LIVE\E HTTP/1\.1" 200 2 \d+$},
    'liveness line');
like($l[0] // '', $re, 'line format');
like($l[1] // '', qr{"GET /nope\?x=1 HTTP/1\.1" 404 \d+ \d+$}, '404 line');
like($l[2] // '', qr{"HEAD /nacos/file\.txt HTTP/1\.1" 200 0 \d+$},
    'HEAD line: 0 body bytes');
like($l[3] // '', qr{"GET /nacos/file\.txt HTTP/1\.1" 200 10 \d+$},
    'file line: 10 body bytes');
like($l[4] // '', qr{"GET \Q$LIVE\E HTTP/1\.0" 200 2 \d+$}, 'HTTP/1.0 line');
like($l[5] // '', qr{" 400 \d+ \d+$}, 'bad request logged');

my @m = ($l[0] // '') =~ $re;
my $tz = $m[6] // 'Z';
my $off = $tz eq 'Z' ? 0 : (substr($tz, 0, 1) eq '-' ? -1 : 1)
    * (substr($tz, 1, 2) * 3600 + substr($tz, 4, 2) * 60);
my $ts = @m ? timegm($m[5], $m[4], $m[3], $m[2], $m[1] - 1, $m[0]) - $off
    : 0;
ok(abs($ts - time()) < 60, 'access log time is now');

# request time in ms

SKIP: {
    skip 'no --with-debug', 1 unless $t->has_feature('debug');

    http_get('/nacre/debug/sleep?ms=300');
    my ($last) = (wait_access($t, 7))[6];
    my ($ms) = ($last // '') =~ / (\d+)$/;
    ok(defined $ms && $ms >= 290 && $ms < 2000,
        'request time in milliseconds: ' . ($ms // 'none'));
}

###############################################################################

# the error log format

my $el = $t->read_file('logs/error.log');
my @bad = grep { !m{^\d{4}/\d\d/\d\d[ ]\d\d:\d\d:\d\d[ ]
    \[(emerg|alert|crit|error|warn|notice|info|debug)\][ ]\d+\#\d+:[ ]\S}x }
    split /\n/, $el;
is(join("\n", @bad), '', 'every error log line well formed');
like($el, qr/\[notice\] \d+#0: start worker process \d+$/m,
    'start worker process line');

# log_level: warn has no notices; access_log: off writes nothing

http_get($LIVE, port => 8849);
http_get('/nope', port => 8849);
ok($quiet->running(), 'quiet instance running');
unlike($quiet->read_file('logs/error.log'), qr/\[(notice|info|debug)\]/,
    'log_level warn: no notices');
ok(!-e $quiet->prefix() . '/logs/access.log', 'access_log off: no file');

# paths relative to the prefix

http_get($LIVE, port => 8850);
ok($t->waitforfile($alt->prefix() . '/other/err.log'), 'error_log path');
ok($t->wait_until(sub { -s $alt->prefix() . '/other/acc.log' }, 5),
    'access_log path');
ok(-e $alt->prefix() . '/other/n.pid', 'pid path');

###############################################################################

# USR1: rename both logs, reopen, new lines go to new files

my $d = $t->testdir();
rename("$d/logs/access.log", "$d/logs/access.log.1") or die;
rename("$d/logs/error.log", "$d/logs/error.log.1") or die;

my $before = -s "$d/logs/access.log.1";
$t->signal('USR1');

ok($t->waitforfile("$d/logs/error.log", undef, 5), 'new error log');
ok($t->wait_until(sub {
    my $n = () = ($t->read_file('logs/error.log.1')
        . (-e "$d/logs/error.log" ? $t->read_file('logs/error.log') : ''))
        =~ /reopening logs/g;
    $n >= 2;
}, 5), 'master and worker reopened');
ok($t->waitforfile("$d/logs/access.log", undef, 5), 'new access log');

# the worker reopened the access log: the next request lands there

http_get("$LIVE?after-usr1");
ok($t->wait_until(sub {
    -e "$d/logs/access.log" && $t->read_file('logs/access.log')
        =~ /after-usr1/
}, 5), 'new request in the new access log');
is(-s "$d/logs/access.log.1", $before, 'nothing more in the old one');

# the error log file is in use again: a reload logs there

my $o = $t->log_offset();
$t->reload();
ok($t->wait_for_log(qr/reconfiguring/, 5, $o), 'master logs to the new file');

###############################################################################

sub wait_access {
    my ($inst, $n) = @_;
    my @l;

    $inst->wait_until(sub {
        my $f = $inst->access_log();
        @l = -e $f ? split /\n/, $inst->read_file($f) : ();
        @l >= $n;
    }, 5);

    return @l;
}

###############################################################################
