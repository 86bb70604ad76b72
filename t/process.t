#!/usr/bin/perl

# nacre: processes: master and workers, titles, pid file, respawn,
# signals (QUIT, TERM, USR1), -s, in-flight requests on stop.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;

use IO::Socket::INET;
use Time::HiRes qw/ time sleep /;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new();
my $debug = $t->has_feature('debug');

$t->write_file_expand('nacre.yaml', <<'EOF')->plan(56);
daemon: false
worker_processes: 2
worker_shutdown_timeout: 1s
api:
  listen: 127.0.0.1:%%PORT_8848%%
EOF

my $LIVE = '/nacos/v1/console/health/liveness';

$t->run();

###############################################################################

# master, workers, titles, pid file

my $master = $t->master_pid();
is($t->read_file('logs/nacre.pid'), "$master\n", 'pid file holds the master');
like($t->cmdline($master), qr/^nacre: master process/, 'master title');

my @w = wait_workers($t, 2);
is(scalar @w, 2, 'two workers');
is(scalar(grep { $t->cmdline($_) =~ /^nacre: worker process/ } @w), 2,
    'worker titles');

my @started = $t->wait_for_log_count(qr/start worker process \d+/, 2, 5);
is_deeply([ sort map { /start worker process (\d+)/; $1 } @started ],
    [ sort @w ], 'start worker process logged for each worker');

like(http_get($LIVE), qr{^HTTP/1\.1 200 }, 'serving');

# both workers accept: 20 connections spread over them (SO_REUSEPORT or a
# shared socket); at least the service answers them all

my $ok = 0;
for (1 .. 20) {
    $ok++ if (http_get($LIVE) // '') =~ m{^HTTP/1\.1 200 };
}
is($ok, 20, '20 requests served');

###############################################################################

# kill -9 a worker: the master logs it and starts another

my $off = $t->log_offset();
kill 'KILL', $w[0];

ok($t->wait_for_log(qr/worker process $w[0] exited on signal 9/, 10, $off),
    'master logged the killed worker');
ok($t->wait_for_log(qr/start worker process \d+/, 10, $off),
    'new worker started');

my @w2 = wait_workers($t, 2, [ $w[0] ]);
is(scalar @w2, 2, 'two workers again');
ok((grep { $_ == $w[1] } @w2) && !(grep { $_ == $w[0] } @w2),
    'the other worker untouched, the killed one replaced');
like(http_get($LIVE), qr{^HTTP/1\.1 200 }, 'serving after respawn');

# a worker exiting on its own: exit code logged, respawned

$off = $t->log_offset();
kill 'TERM', $w2[0];
ok($t->wait_for_log(qr/worker process $w2[0] exited (with code \d+|on signal 15)/,
    10, $off), 'worker TERM exit logged');
my @w3 = wait_workers($t, 2, [ $w2[0] ]);
is(scalar @w3, 2, 'respawned after TERM');

###############################################################################

# USR1: the master and the workers reopen their logs

my $el = $t->error_log();
rename($el, "$el.1") or die "rename: $!";
$t->signal('USR1');
ok($t->wait_until(sub {
    my $n = () = (($t->read_file("$el.1") . (-e $el ? $t->read_file($el) : ''))
        =~ /reopening logs/g);
    return $n >= 3;
}, 10), 'reopening logs by the master and 2 workers');
ok($t->waitforfile($el), 'new error log created');
ok(-s "$el.1", 'old file kept');

###############################################################################

# -s reload and -s reopen via the pid file

$off = $t->log_offset();
my @before = $t->worker_pids();
my $r = $t->nacre_in('-c', 'nacre.yaml', '-s', 'reload');
is($r->{code}, 0, '-s reload exit code');
ok($t->wait_for_log(qr/reconfiguring/, 10, $off), '-s reload: reconfiguring');
my @after = wait_workers($t, 2, \@before);
is(scalar(grep { my $p = $_; !grep { $_ == $p } @before } @after), 2,
    '-s reload: two new workers');
like(http_get($LIVE), qr{^HTTP/1\.1 200 }, 'serving after -s reload');

$off = $t->log_offset();
$r = $t->nacre_in('-c', 'nacre.yaml', '-s', 'reopen');
is($r->{code}, 0, '-s reopen exit code');
ok($t->wait_for_log(qr/reopening logs/, 10, $off), '-s reopen works');

# bad -s uses

$r = $t->nacre_in('-c', 'nacre.yaml', '-s', 'bogus');
isnt($r->{code}, 0, '-s bogus fails');

$t->write_file('other.yaml', "daemon: false\npid: logs/none.pid\n");
$r = $t->nacre_in('-c', 'other.yaml', '-s', 'reload');
is($r->{code}, 1, '-s without a running master fails');
like($r->{stderr}, qr/none\.pid/, '-s names the pid file');

# QUIT waits for a request in flight

SKIP: {
    skip 'no --with-debug', 3 unless $debug;

    my $s = inflight('/nacre/debug/sleep?ms=700');
    sleep(0.2);
    $t->signal('QUIT');
    $r = http_end($s);
    like($r, qr{^HTTP/1\.1 200 }, 'QUIT: request in flight completed');
    like($r, qr/slept 700$/, 'QUIT: request body');
    ok($t->wait_exit(10), 'QUIT: master exited');
}

# -s quit

$t->stop() if $t->running();
$t->run();
$master = $t->master_pid();

$off = $t->log_offset();
$r = $t->nacre_in('-c', 'nacre.yaml', '-s', 'quit');
is($r->{code}, 0, '-s quit exit code');
ok($t->wait_exit(10), '-s quit: master exited');
is($t->exit_status(), 0, 'exit status 0');
ok(!-e $t->pid_file(), 'pid file removed');
ok($t->wait_for_log(qr/gracefully shutting down/, 1, $off),
    'workers shut down gracefully');
ok($t->wait_for_log(qr/\] $master#\d+: exit$/, 1, $off), 'master exit');

###############################################################################

# TERM stops fast, also with a request in flight

$t->run();
my @kids = $t->worker_pids();

my $s;
$s = inflight('/nacre/debug/sleep?ms=5000') if $debug;
sleep(0.2);

my $t0 = time();
$t->signal('TERM');
ok($t->wait_exit(3), 'TERM: master exited fast');
ok(time() - $t0 < 3, 'TERM: in under 3 s');
is($t->exit_status(), 0, 'TERM: exit status 0');
ok(!-e $t->pid_file(), 'TERM: pid file removed');
ok($t->wait_until(sub { !grep { kill 0, $_ } @kids }, 3),
    'TERM: workers gone');

SKIP: {
    skip 'no --with-debug', 1 unless $debug;
    unlike(http_end($s) // '', qr/slept/, 'TERM: in-flight request dropped');
}

# worker_shutdown_timeout bounds QUIT

SKIP: {
    skip 'no --with-debug', 3 unless $debug;

    $t->run();
    $s = inflight('/nacre/debug/sleep?ms=8000');
    sleep(0.2);
    $t0 = time();
    $t->signal('QUIT');
    ok($t->wait_exit(6), 'QUIT with a long request: exited');
    my $took = time() - $t0;
    ok($took > 0.7 && $took < 4, 'after about worker_shutdown_timeout')
        or diag("took $took s");
    unlike(http_end($s) // '', qr/slept/, 'long request cut');
}

# -s stop

$t->run();
$r = $t->nacre_in('-c', 'nacre.yaml', '-s', 'stop');
is($r->{code}, 0, '-s stop exit code');
ok($t->wait_exit(3), '-s stop: master exited fast');
ok(!-e $t->pid_file(), '-s stop: pid file removed');

###############################################################################

# a busy port: start fails cleanly

my $busy = $t->instance('busy');
my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1:' . port(8849),
    Listen => 5, ReuseAddr => 1) or die "listen: $!";
$busy->write_file_expand('nacre.yaml', <<'EOF');
daemon: false
worker_processes: 1
api:
  listen: 127.0.0.1:%%PORT_8849%%
EOF

eval { $busy->run(timeout => 5); };
ok($@, 'start on a busy port fails');
ok(!$busy->running(), 'no master left');
isnt($busy->exit_status() // 0, 0, 'non-zero exit status');
my $log = $busy->all_logs();
like($log, qr/(bind|in use)/i, 'bind error logged');
close $l;

# another nacre on the port: refused, not sharing it (SO_REUSEPORT would
# let the kernel split the connections between the two)

my $one = $t->instance('one');
my $two = $t->instance('two');
for my $n ($one, $two) {
    $n->write_file_expand('nacre.yaml', <<'EOF');
daemon: false
worker_processes: 2
auth:
  enabled: false
api:
  listen: 127.0.0.1:%%PORT_8850%%
EOF
}

$one->run();
eval { $two->run(timeout => 5); };
ok($@ && !$two->running(), 'a second daemon on the same port: start fails');
like($two->all_logs(), qr/bind\(\) to 127\.0\.0\.1:\d+ failed .*in use/i,
    'the address in use logged');
ok($one->running(), 'the first serves on');
$one->stop();

# a bad conf at start

my $bad = $t->instance('bad');
$bad->write_file('nacre.yaml', "daemon: false\nbogus: 1\n");
eval { $bad->run(timeout => 5); };
ok($@, 'start with a bad conf fails');
like($bad->all_logs(), qr/nacre\.yaml:2:1: .*unknown key/i,
    'bad conf error with position');

###############################################################################

# workers of $inst, waiting until there are $n, none of them in @$exclude
sub wait_workers {
    my ($inst, $n, $exclude) = @_;
    my %e = map { $_ => 1 } @{$exclude || []};
    my @w;

    $inst->wait_until(sub {
        @w = $inst->worker_pids();
        return @w == $n && !grep { $e{$_} } @w;
    }, 10);

    return @w;
}

# a request surely inside a worker: the connection first serves a
# liveness request, then carries the slow one
sub inflight {
    my ($uri) = @_;

    my $s = http_get('/nacos/v1/console/health/liveness', keepalive => 1,
        start => 1) or return undef;
    http_read_response($s);

    return http_get($uri, socket => $s, start => 1);
}

###############################################################################
