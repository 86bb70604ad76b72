#!/usr/bin/perl

# nacre: a cluster of three members on loopback: bootstrap and election,
# writes through followers, linearizable reads, a killed leader (its
# consensus process, then the whole node) replaced within three election
# timeouts with no acknowledged write lost, the old member back and caught
# up, a graceful SIGQUIT of the leader handing over without failed writes,
# peers without the secret and garbage frames refused, and the status
# endpoints.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;

use IO::Socket::INET;
use JSON::PP;
use Time::HiRes qw/ time sleep /;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new()->plan(57);

my $ELECTION = 1;                                # seconds, as configured
my $json = JSON::PP->new->canonical;
my @names = qw/ n1 n2 n3 /;
my %node;

for my $i (1 .. 3) {
    my $n = $t->instance("n$i");

    $n->write_file('cluster.key', "a shared secret of the test cluster\n");
    $n->write_file_expand('nacre.yaml', <<"EOF");
daemon: false
worker_processes: 1
auth:
  enabled: false              # this file tests the store, t/auth.t tests auth
api:
  listen: 127.0.0.1:%%PORT_881$i%%
cluster:
  self: 127.0.0.1:%%PORT_791$i%%
  members: [127.0.0.1:%%PORT_7911%%, 127.0.0.1:%%PORT_7912%%, 127.0.0.1:%%PORT_7913%%]
  secret_file: cluster.key
  election_timeout: ${ELECTION}s
  heartbeat_interval: 100ms
  snapshot_entries: 100
  wal_segment_size: 64k
EOF

    $node{"n$i"} = { inst => $n, http => port(8810 + $i),
        peer => '127.0.0.1:' . port(7910 + $i) };
}

$node{$_}{inst}->run() for @names;

###############################################################################

sub req {
    my ($name, $method, $uri, $body) = @_;
    my $addr = "127.0.0.1:$node{$name}{http}";

    my $raw = defined $body
        ? http_post($uri, $body, method => $method, addr => $addr,
              content_type => 'application/octet-stream', timeout => 15,
              quiet => 1)
        : http_get($uri, addr => $addr, timeout => 15, quiet => 1);

    return (0, {}, '') unless defined $raw;
    return parse_response($raw);
}

sub status {
    my ($name) = @_;
    my ($st, $h, $b) = req($name, 'GET', '/v1/cluster/raft');
    return $st == 200 ? eval { $json->decode($b) } : undef;
}

# the member every running member agrees leads, in a term above $after
sub leader {
    my ($after, @running) = @_;
    my ($lead, $term);

    for my $n (@running) {
        my $s = status($n) or return;
        return unless defined $s->{leader} && $s->{term} > $after;
        return if defined $lead && ($s->{leader} ne $lead
            || $s->{term} != $term);
        ($lead, $term) = ($s->{leader}, $s->{term});
    }

    my ($name) = grep { $node{$_}{peer} eq $lead } @names;

    return ($name, $term);
}

sub wait_leader {
    my ($after, @running) = @_;
    my @l;

    $t->wait_until(sub { @l = leader($after, @running); @l == 2 }, 20);

    return @l;
}

sub put {
    my ($name, $key, $value) = @_;
    my ($st, $h, $b) = req($name, 'PUT', "/v1/kv/$key", $value);
    return $st == 200 && $b eq 'true';
}

sub raw {
    my ($name, $key, $consistent) = @_;
    my ($st, $h, $b) = req($name, 'GET',
        "/v1/kv/$key?raw" . ($consistent ? '&consistent' : ''));
    return $st == 200 ? $b : "status $st";
}

sub caught_up {
    my ($name, $index) = @_;
    return $t->wait_until(sub {
        my $s = status($name);
        $s && $s->{applied} >= $index;
    }, 20);
}

###############################################################################

# bootstrap: one leader, every member agrees

ok($node{$_}{inst}->wait_ready(20, port => $node{$_}{http}), "$_ ready")
    for @names;

my ($lead, $term) = wait_leader(0, @names);
ok($lead, "one leader elected ($lead, term $term)");

my $s = status($lead);
is($s->{role}, 'leader', 'the leader says so');
is(scalar @{$s->{members}}, 3, 'three members');
is(scalar(grep { $_->{role} eq 'leader' } @{$s->{members}}), 1,
    'exactly one of them leads');
ok(!(grep { !$_->{connected} || !defined $_->{address} } @{$s->{members}}),
    'all connected, all with their addresses');
like($s->{fsync}{p50_us}, qr/^\d+$/, 'fsync latency reported');

my ($f1, $f2) = grep { $_ ne $lead } @names;
is(status($f1)->{role}, 'follower', 'the others follow');

my ($st, $h, $b) = req($f1, 'GET', '/nacos/v1/core/cluster/nodes');
my $nodes = $st == 200 ? $json->decode($b) : {};
is($nodes->{code}, 200, 'nacos cluster/nodes answers');
is(scalar(grep { $_->{state} eq 'UP' } @{$nodes->{data} || []}), 3,
    'nacos cluster/nodes: three members UP');

###############################################################################

# writes through a follower: read your write there, on all with ?consistent

ok(put($f1, 'a', 'one'), 'a write through a follower is acknowledged');
is(raw($f1, 'a'), 'one', 'read back at once on that follower');
is(raw($_, 'a', 1), 'one', "consistent read on $_") for @names;

ok(put($lead, 'b', 'two'), 'a write on the leader');
is(raw($f2, 'b', 1), 'two', 'consistent read of it on a follower');

($st, $h, $b) = req($f2, 'PUT', '/v1/kv/a?cas=1', 'nope');
is($b, 'false', 'a cas through a follower with a stale index fails');

my (@acked, $off);

for my $i (1 .. 30) {
    my $n = $names[$i % 3];
    push @acked, "k$i" if put($n, "k$i", "v$i");
}

is(scalar @acked, 30, '30 writes spread over the members acknowledged');

###############################################################################

# kill -9 the leader's consensus process: a new leader soon, nothing lost

my $old = $lead;
my $t0 = time();
kill 'KILL', $node{$old}{inst}->consensus_pid();

my ($lead2, $term2) = wait_leader($term, $f1, $f2);
my $took = time() - $t0;
ok($lead2, "a new leader ($lead2, term $term2) after the leader's "
    . "consensus process was killed");
cmp_ok($took, '<', 3 * $ELECTION + 0.5,
    sprintf('elected within 3 election timeouts (%.2f s)', $took));

ok(put($lead2 eq $f1 ? $f2 : $f1, 'after1', 'x'),
    'writes go on through the remaining follower');

is(scalar(grep { raw($lead2, $_, 1) =~ /^v\d+$/ } @acked), 30,
    'no acknowledged write lost');

# the old leader's consensus process is respawned and catches up
my $commit = status($lead2)->{commit};
ok(caught_up($old, $commit), "$old respawned and caught up to $commit");
is(raw($old, 'after1'), 'x', "$old has the write made while it was down");

###############################################################################

# kill -9 the whole leader node, then bring it back

($lead, $term) = wait_leader(0, @names);
($f1, $f2) = grep { $_ ne $lead } @names;

$t0 = time();
$node{$lead}{inst}->kill_instance();

($lead2, $term2) = wait_leader($term, $f1, $f2);
$took = time() - $t0;
ok($lead2, "a new leader ($lead2) after the leader node was killed");
cmp_ok($took, '<', 3 * $ELECTION + 0.5,
    sprintf('elected within 3 election timeouts (%.2f s)', $took));

ok(put($f1, 'after2', 'y'), 'a write with one member down');
ok(put($f2, 'after3', 'z'), 'and through the other');

# enough writes for the others to snapshot and compact past the dead one
my $many = 0;

for my $i (1 .. 250) {
    $many++ if put($names[$i % 3] eq $lead ? $f1 : $names[$i % 3],
        "m$i", "w$i" . ('.' x 2000));
}

is($many, 250, '250 more writes while it is down');
ok($t->wait_until(sub { status($lead2)->{snapshot_index} > 40 }, 10),
    'the leader has compacted its log behind a snapshot');

$off = $node{$lead}{inst}->log_offset();
$node{$lead}{inst}->run();
$commit = status($lead2)->{commit};
ok(caught_up($lead, $commit), "$lead restarted and caught up to $commit");
ok($node{$lead}{inst}->wait_for_log(qr/installed the leader's snapshot/, 5,
    $off), 'from the leader\'s snapshot');
is(raw($lead, 'after3'), 'z', 'it has the writes it missed');
is(scalar(grep { raw($lead, "m$_") eq "w$_" . ('.' x 2000) } 1 .. 250), 250,
    'all 250 of them');
is(scalar(grep { raw($lead, $_) =~ /^v\d+$/ } @acked), 30,
    'and everything acknowledged before');

###############################################################################

# a graceful SIGQUIT of the leader hands over: no failed write meanwhile

($lead, $term) = wait_leader(0, @names);
($f1, $f2) = grep { $_ ne $lead } @names;

my ($ok, $failed) = (0, 0);
$t0 = time();
my $quit_sent = 0;

while (time() - $t0 < 4) {
    if (!$quit_sent && time() - $t0 > 0.5) {
        $node{$lead}{inst}->signal('QUIT');
        $quit_sent = 1;
    }

    put($ok % 2 ? $f1 : $f2, "q$ok", 'w') ? $ok++ : $failed++;
}

ok($node{$lead}{inst}->wait_exit(15), "$lead exited on SIGQUIT");
like($t->instance($lead)->read_file('logs/error.log'),
    qr/handing leadership over/, 'it handed leadership over first');
cmp_ok($ok, '>', 10, "writes went on during the hand-over ($ok)");
is($failed, 0, 'no write failed');

($lead2, $term2) = wait_leader($term, $f1, $f2);
ok($lead2, "$lead2 leads now");

$node{$lead}{inst}->run();
$commit = status($lead2)->{commit};
ok(caught_up($lead, $commit), "$lead back and caught up");

###############################################################################

# the peer port: no secret, bad MAC, garbage length

my $victim = $names[0];
my ($host, $pport) = split /:/, $node{$victim}{peer};

sub frame {
    my ($type, $body) = @_;
    return pack('VCx3', length $body, $type) . $body;
}

sub peer_send {
    my ($bytes) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $pport,
        Timeout => 2) or return 'connect failed';
    $sock->syswrite($bytes);
    my $buf = '';
    my $n = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm 3;
        my $r = $sock->sysread($buf, 4096);
        alarm 0;
        $r;
    };
    return defined $n && $n == 0 ? 'closed' : 'open';
}

$off = $node{$victim}{inst}->log_offset();

# a HELLO-shaped frame with a tag made without the secret
is(peer_send(frame(1, pack('VVQ<Q<Q<Q<', 1, 0, 42, 0, 0, 0) . ("\0" x 16)
    . pack('C', 14) . '127.0.0.1:9999' . ("\xaa" x 32))), 'closed',
    'a frame with a bad MAC: connection closed');
ok($node{$victim}{inst}->wait_for_log(qr/bad MAC/, 5, $off),
    'and logged');

is(peer_send(pack('VCx3', 0x7fffffff, 2) . ("x" x 64)), 'closed',
    'a garbage length: connection closed');
ok($node{$victim}{inst}->wait_for_log(qr/frame of \d+ bytes from \S+ refused/, 5, $off),
    'and logged');

is(peer_send("GET / HTTP/1.0\r\n\r\n"), 'closed', 'HTTP on the peer port');

ok(put($victim, 'still', 'fine'), "$victim still takes writes");
is(raw($_, 'still', 1), 'fine', "consistent read on $_ after the garbage")
    for @names;

###############################################################################

# no quorum: a write waits a bounded time for a leader, then 503 with JSON

$node{$_}{inst}->stop() for $names[1], $names[2];

my $t1 = time();
($st, $h, $b) = req($names[0], 'PUT', '/v1/kv/lonely', 'x');
my $waited = time() - $t1;

is($st, 503, 'without a quorum a write gets 503');
like($b, qr/^\{"error":"[^"]+"\}$/, 'with a JSON error');
cmp_ok($waited, '<', 8, sprintf('after a bounded wait (%.1f s)', $waited));
is(raw($names[0], 'still'), 'fine', 'reads go on from the local store');

###############################################################################
