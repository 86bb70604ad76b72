#!/usr/bin/perl

# nacre: linearizability of /v1/kv on a cluster of three under faults.
# Several concurrent clients write, compare-and-set and read with
# ?consistent a few keys through every member while the leader's consensus
# process is killed (kill -9, the master respawns it) or paused
# (SIGSTOP ... SIGCONT) again and again; the history is then checked key by
# key with Test::Nacre::Linearizability (Wing & Gong with Lowe's memo).
#
# NACRE_LIN_SECONDS sets how long the clients run (default 8: the short
# version make test runs), NACRE_LIN_CLIENTS how many (default 6).

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;
use Test::Nacre::Linearizability;

use JSON::PP;
use MIME::Base64;
use POSIX qw/ _exit /;
use Time::HiRes qw/ time sleep /;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $SECONDS = $ENV{NACRE_LIN_SECONDS} // 8;
my $CLIENTS = $ENV{NACRE_LIN_CLIENTS} // 6;
my @KEYS = qw/ x y z /;

my $t = Test::Nacre->new()->plan(8);

my $json = JSON::PP->new->canonical;
my @names = qw/ n1 n2 n3 /;
my %node;

for my $i (1 .. 3) {
    my $n = $t->instance("n$i");

    $n->write_file('cluster.key', "linearizable, or else\n");
    $n->write_file_expand('nacre.yaml', <<"EOF");
daemon: false
worker_processes: 2
auth:
  enabled: false              # this file tests the store, t/auth.t tests auth
api:
  listen: 127.0.0.1:%%PORT_883$i%%
cluster:
  self: 127.0.0.1:%%PORT_793$i%%
  members: [127.0.0.1:%%PORT_7931%%, 127.0.0.1:%%PORT_7932%%, 127.0.0.1:%%PORT_7933%%]
  secret_file: cluster.key
  election_timeout: 500ms
  heartbeat_interval: 50ms
EOF

    $node{"n$i"} = { inst => $n, http => port(8830 + $i),
        peer => '127.0.0.1:' . port(7930 + $i) };
}

$node{$_}{inst}->run() for @names;

###############################################################################

sub req {
    my ($name, $method, $uri, $body, $timeout) = @_;
    my $addr = "127.0.0.1:$node{$name}{http}";

    my $raw = defined $body
        ? http_post($uri, $body, method => $method, addr => $addr,
              content_type => 'application/octet-stream',
              timeout => $timeout // 5, quiet => 1)
        : http_get($uri, addr => $addr, timeout => $timeout // 5,
              quiet => 1);

    return (0, {}, '') unless defined $raw && length $raw;
    return parse_response($raw);
}

sub status {
    my ($name) = @_;
    my ($st, $h, $b) = req($name, 'GET', '/v1/cluster/raft', undef, 1);
    return $st == 200 ? eval { $json->decode($b) } : undef;
}

sub leader {
    for my $n (@names) {
        my $s = status($n) or next;
        next unless defined $s->{leader};
        my ($l) = grep { $node{$_}{peer} eq $s->{leader} } @names;
        return $l if $l;
    }
    return;
}

###############################################################################

# one client: random ops on random members, each recorded with its times

sub client {
    my ($id, $file) = @_;

    srand($$ ^ time());
    open my $out, '>', $file or _exit(1);

    my ($seq, %seen) = (0);
    my $end = time() + $SECONDS;

    while (time() < $end) {
        my $key = $KEYS[int rand @KEYS];
        my $name = $names[int rand @names];
        my $r = rand();
        my %op = (client => "c$id", key => $key, node => $name);

        if ($r < 0.4) {
            my $v = "c$id-" . $seq++;
            @op{qw/ op value /} = ('put', $v);
            $op{call} = time();
            my ($st, $h, $b) = req($name, 'PUT', "/v1/kv/$key", $v);
            $op{end} = time();

            if ($st == 200 && $b eq 'true') {
                @op{qw/ ret ok index /} = ($op{end}, 1,
                    $h->{'x-consul-index'});
            }

        } elsif ($r < 0.7) {
            my $v = "c$id-" . $seq++;
            my $e = $seen{$key} // 0;
            @op{qw/ op value expect /} = ('cas', $v, $e);
            $op{call} = time();
            my ($st, $h, $b) = req($name, 'PUT', "/v1/kv/$key?cas=$e", $v);
            $op{end} = time();

            if ($st == 200 && ($b eq 'true' || $b eq 'false')) {
                $op{ret} = $op{end};
                $op{ok} = $b eq 'true' ? 1 : 0;
                $op{index} = $h->{'x-consul-index'} if $op{ok};
            }

        } else {
            $op{op} = 'get';
            $op{call} = time();
            my ($st, $h, $b) = req($name, 'GET', "/v1/kv/$key?consistent");
            $op{end} = time();

            if ($st == 200) {
                my $kv = eval { $json->decode($b)->[0] } or next;
                @op{qw/ ret found rvalue rindex /} = ($op{end}, 1,
                    decode_base64($kv->{Value} // ''), $kv->{ModifyIndex});
                $seen{$key} = $kv->{ModifyIndex};

            } elsif ($st == 404) {
                @op{qw/ ret found /} = ($op{end}, 0);
                $seen{$key} = 0;

            } else {
                next;                   # a failed read changed nothing
            }
        }

        print {$out} $json->encode(\%op), "\n";
    }

    close $out;
    _exit(0);
}

###############################################################################

ok($node{$_}{inst}->wait_ready(20, port => $node{$_}{http}), "$_ ready")
    for @names;
ok($t->wait_until(sub { leader() }, 20), 'a leader');

my @files = map { $t->testdir() . "/history-$_.jsonl" } 1 .. $CLIENTS;
my @pids;

for my $i (1 .. $CLIENTS) {
    my $pid = fork();
    die "fork: $!\n" unless defined $pid;
    client($i, $files[$i - 1]) if $pid == 0;
    push @pids, $pid;
}

# the nemesis: the leader's consensus process killed or paused, in turn

my ($kills, $pauses) = (0, 0);
my $end = time() + $SECONDS - 1;

while (time() < $end) {
    sleep(0.7 + rand(0.6));

    my $l = leader() or next;
    my $pid = $node{$l}{inst}->consensus_pid() or next;

    if (($kills + $pauses) % 2 == 0) {
        kill 'KILL', $pid;
        $kills++;

    } else {
        kill 'STOP', $pid;
        sleep(0.5 + rand(1));
        kill 'CONT', $pid;
        $pauses++;
    }
}

waitpid($_, 0) for @pids;

###############################################################################

my @history;

for my $f (@files) {
    open my $fh, '<', $f or next;
    push @history, map { $json->decode($_) } <$fh>;
}

my @done = grep { defined $_->{ret} } @history;
my $unknown = @history - @done;

cmp_ok(scalar @history, '>', 50 * $SECONDS / 8,
    sprintf('%d ops by %d clients (%d with unknown outcome), %d kills, '
        . '%d pauses', scalar @history, $CLIENTS, $unknown, $kills,
        $pauses));
cmp_ok($kills + $pauses, '>=', 2, 'faults were injected');
cmp_ok(scalar(grep { $_->{op} ne 'get' && $_->{ok} } @done), '>', 10,
    'writes succeeded through the faults');

my ($ok, $info) = Test::Nacre::Linearizability::check(\@history,
    timeout => 60);

is($ok, 1, sprintf('the history is linearizable (%d states explored, '
    . '%.2f s)', $info->{states} // 0, $info->{time} // 0))
    or diag($info->{explanation} // 'search budget exhausted'),
       diag(Test::Nacre::Linearizability::format_history(\@history,
           key => $info->{key}));

###############################################################################
