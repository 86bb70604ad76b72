#!/usr/bin/perl

# nacre: reload (SIGHUP): listeners added and removed without refusing
# connections on the ones kept, new workers, a bad conf keeps the old
# generation, in-flight requests and idle connections of old workers.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;

use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw/ time sleep /;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new();
my $debug = $t->has_feature('debug');

my $conf = <<'EOF';
daemon: false
worker_processes: 2
worker_shutdown_timeout: %%WST%%
access_log: %%ACCESS%%
api:
  listen:
%%LISTEN%%
EOF

write_conf('logs/access.log', '10s', 8848, 8849);
$t->plan(26);
$t->run();

my $LIVE = '/nacos/v1/console/health/liveness';
my ($A, $B, $C) = (port(8848), port(8849), port(8850));

###############################################################################

my @old = wait_workers(2);
is(scalar @old, 2, 'two workers');
ok(up($A) && up($B), 'both listeners up');

# hammer A from a child while reloading: nothing may be refused

my $stopfile = $t->testdir() . '/hammer.stop';
my $result = $t->testdir() . '/hammer.result';
my $hammer = fork();
die "fork: $!" unless defined $hammer;

if ($hammer == 0) {
    my ($ok, $fail, @err) = (0, 0);

    until (-e $stopfile) {
        my $r = http_get($LIVE, port => 8848, timeout => 5, quiet => 1);
        if (defined $r && $r =~ m{^HTTP/1\.1 200 }) {
            $ok++;
        } else {
            $fail++;
            push @err, ($r // "error: $!") if @err < 3;
        }
    }

    open my $fh, '>', $result;
    print {$fh} "$ok $fail\n", map { "$_\n" } @err;
    close $fh;
    POSIX::_exit(0);
}

sleep(0.2);

my $off = $t->log_offset();
write_conf('logs/access2.log', '10s', 8848, 8850);
$t->reload();

ok($t->wait_for_log(qr/reconfiguring/, 10, $off), 'reconfiguring logged');
my @new = wait_workers(2, \@old);
is(scalar @new, 2, 'two new workers');
ok($t->wait_until(sub { !grep { kill 0, $_ } @old }, 10), 'old workers gone');
ok($t->wait_for_log(qr/worker process $old[0] exited with code 0/, 10, $off),
    'old worker exit logged');

ok($t->waitforsocket("127.0.0.1:$C", 5) && up($C), 'added listener serves');
ok($t->wait_until(sub {
    !IO::Socket::INET->new(PeerAddr => "127.0.0.1:$B", Timeout => 1)
}, 10), 'removed listener closed');

sleep(0.3);
open my $stop, '>', $stopfile or die;
close $stop;
waitpid($hammer, 0);

my ($counts, @errs) = split /\n/, $t->read_file('hammer.result');
my ($ok, $fail) = split / /, $counts;
ok($ok > 5, "hammered during reload: $ok requests");
is($fail, 0, 'no failures on the kept listener') or diag(join("\n", @errs));

# the new access log is used

$t->waitforfile($t->testdir() . '/logs/access2.log', undef, 5);
my $before = -s $t->testdir() . '/logs/access.log';
http_get("$LIVE?after-reload", port => 8848);
ok($t->wait_until(sub {
    (-e "$t->{_testdir}/logs/access2.log"
        ? $t->read_file('logs/access2.log') : '') =~ /after-reload/
}, 5), 'new access log written');
is(-s $t->testdir() . '/logs/access.log', $before, 'old access log untouched');

###############################################################################

# an invalid conf: old workers keep serving

$t->write_file('nacre.yaml', $t->read_file('nacre.yaml') . "bogus: 1\n");
my $badline = () = $t->read_file('nacre.yaml') =~ /\n/g;

$off = $t->log_offset();
my @gen = $t->worker_pids();
$t->reload();

my $line = $t->wait_for_log(qr/reload failed/, 10, $off);
like($line // '', qr/\[error\] .*reload failed: \S*nacre\.yaml:$badline:1: .*unknown key/i,
    'reload failed logged with position');
sleep(0.3);
is_deeply([ $t->worker_pids() ], \@gen, 'same workers after a failed reload');
ok(up($A) && up($C), 'still serving after a failed reload');
ok($t->running(), 'master running');

# a conf that parses but cannot be applied (port in use): old kept too

my $busy = IO::Socket::INET->new(LocalAddr => '127.0.0.1:' . port(8851),
    Listen => 5, ReuseAddr => 1) or die "listen: $!";
write_conf('logs/access2.log', '10s', 8848, 8850, 8851);
$off = $t->log_offset();
$t->reload();
ok($t->wait_for_log(qr/\[(error|emerg|crit)\]/, 10, $off),
    'busy port on reload: error logged');
sleep(0.3);
is_deeply([ $t->worker_pids() ], \@gen, 'busy port: same workers');
ok(up($A) && up($C), 'busy port: still serving');
close $busy;

###############################################################################

# a request in flight survives a reload

SKIP: {
    skip 'no --with-debug', 6 unless $debug;

    write_conf('logs/access2.log', '10s', 8848, 8850);
    $off = $t->log_offset();
    $t->reload();
    $t->wait_for_log(qr/reconfigured|start worker process/, 10, $off);
    @gen = wait_workers(2, \@gen);

    my $s = inflight('/nacre/debug/sleep?ms=1500');

    # and an idle keep-alive connection on an old worker is closed

    my $k = http_get($LIVE, keepalive => 1, start => 1);
    http_read_response($k);

    sleep(0.2);
    $off = $t->log_offset();
    $t->reload();
    ok($t->wait_for_log(qr/reconfiguring/, 10, $off), 'reload with a request');
    my @n = wait_workers(2, \@gen);
    is(scalar @n, 2, 'new workers while the old one drains');

    my $r = http_end($s);
    like($r, qr{^HTTP/1\.1 200 }, 'in-flight request completed');
    like($r, qr/slept 1500$/, 'in-flight request body');

    my $buf;
    my $n = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm(5);
        my $n = sysread($k, $buf, 100);
        alarm(0);
        $n;
    };
    ok(defined $n && $n == 0 || !defined $n && !$@,
        'idle keep-alive connection closed by the old worker');

    # worker_shutdown_timeout cuts a long request

    write_conf('logs/access2.log', '1s', 8848, 8850);
    $off = $t->log_offset();
    $t->reload();
    @gen = wait_workers(2, \@n);

    $s = inflight('/nacre/debug/sleep?ms=8000');
    sleep(0.2);
    my $t0 = time();
    $t->reload();
    $r = http_end($s);
    my $el = time() - $t0;
    ok($el < 4 && $r !~ /slept/, 'worker_shutdown_timeout closed the request')
        or diag("took $el s: $r");
}

ok(up($A), 'serving at the end');

###############################################################################

sub write_conf {
    my ($access, $wst, @ports) = @_;

    my $c = $conf;
    my $listen = join('', map { "    - 127.0.0.1:%%PORT_$_%%\n" } @ports);
    chomp $listen;

    $c =~ s/%%WST%%/$wst/;
    $c =~ s/%%ACCESS%%/$access/;
    $c =~ s/%%LISTEN%%/$listen/;

    $t->write_file_expand('nacre.yaml', $c);
}

sub up {
    my ($port) = @_;
    my $r = http_get($LIVE, addr => "127.0.0.1:$port", quiet => 1) // '';
    return $r =~ m{^HTTP/1\.1 200 };
}

sub wait_workers {
    my ($n, $exclude) = @_;
    my %e = map { $_ => 1 } @{$exclude || []};
    my @w;

    $t->wait_until(sub {
        @w = $t->worker_pids();
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
