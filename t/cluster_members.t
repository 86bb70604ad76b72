#!/usr/bin/perl

# nacre: membership at runtime: a member wiped and restarted under a new
# identity is removed and added again and catches up from the leader's
# snapshot; a fourth member joins as a learner and is promoted, then
# leaves; removing the leader hands leadership over first; bad requests.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;

use File::Path qw/ rmtree /;
use JSON::PP;
use Time::HiRes qw/ time sleep /;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new()->plan(43);

my $json = JSON::PP->new->canonical;
my @names = qw/ n1 n2 n3 n4 /;
my %node;

for my $i (1 .. 4) {
    my $n = $t->instance("n$i");
    my $four = $i == 4 ? ', 127.0.0.1:%%PORT_7924%%' : '';

    $n->write_file('cluster.key', "the secret of the membership test\n");
    $n->write_file_expand('nacre.yaml', <<"EOF");
daemon: false
worker_processes: 1
auth:
  enabled: false              # this file tests the store, t/auth.t tests auth
api:
  listen: 127.0.0.1:%%PORT_882$i%%
cluster:
  self: 127.0.0.1:%%PORT_792$i%%
  members: [127.0.0.1:%%PORT_7921%%, 127.0.0.1:%%PORT_7922%%, 127.0.0.1:%%PORT_7923%%$four]
  secret_file: cluster.key
  election_timeout: 1s
  heartbeat_interval: 100ms
  snapshot_entries: 100
  wal_segment_size: 64k
EOF

    $node{"n$i"} = { inst => $n, http => port(8820 + $i),
        peer => '127.0.0.1:' . port(7920 + $i) };
}


###############################################################################

sub req {
    my ($name, $method, $uri, $body) = @_;
    my $addr = "127.0.0.1:$node{$name}{http}";

    my $raw = http_post($uri, $body // '', method => $method, addr => $addr,
        content_type => 'application/octet-stream', timeout => 15,
        quiet => 1);

    return (0, {}, '') unless defined $raw;
    return parse_response($raw);
}

sub status {
    my ($name) = @_;
    my ($st, $h, $b) = req($name, 'GET', '/v1/cluster/raft');
    return $st == 200 ? eval { $json->decode($b) } : undef;
}

sub leader_of {
    my ($name) = @_;
    my $s = status($name) or return;
    return unless defined $s->{leader};
    my ($l) = grep { $node{$_}{peer} eq $s->{leader} } @names;
    return $l;
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

# the members as the leader sees them: { address => role }
sub members {
    my ($name) = @_;
    my $s = status(leader_of($name) // $name) or return {};
    return { map { ($_->{address} // $_->{id}) => $_->{role} }
        @{$s->{members}} };
}

sub caught_up {
    my ($name, $index) = @_;
    return $t->wait_until(sub {
        my $s = status($name);
        $s && $s->{applied} >= $index;
    }, 20);
}

###############################################################################

$node{$_}{inst}->run() for qw/ n1 n2 n3 /;
ok($node{$_}{inst}->wait_ready(20, port => $node{$_}{http}), "$_ ready")
    for qw/ n1 n2 n3 /;

ok($t->wait_until(sub { leader_of('n1') }, 20), 'a leader');

my $bulk = '.' x 2000;
my $n = 0;

for my $i (1 .. 200) {
    $n++ if put('n' . (1 + $i % 3), "k$i", "v$i$bulk");
}

is($n, 200, '200 writes');
my $lead = leader_of('n1');
ok($t->wait_until(sub { status($lead)->{snapshot_index} > 100 }, 10),
    'the log was compacted');

###############################################################################

# n3 wiped: a new identity; its old one is removed, the new one added

my $old_id = status('n3')->{id};

$node{n3}{inst}->stop();
rmtree($node{n3}{inst}->prefix() . '/data');
$node{n3}{inst}->run();

my $new_id;
ok($t->wait_until(sub {
    my $s = status('n3');
    $new_id = $s->{id} if $s;
    $s && $s->{id} ne $old_id;
}, 10), "n3 restarted wiped, under a new identity ($new_id)");

is(members('n1')->{$old_id} // members('n1')->{$node{n3}{peer}}, 'follower',
    'its old identity is still a member');

my ($st, $h, $b) = req('n1', 'DELETE', "/v1/cluster/members/$old_id");
is($st, 200, 'the old identity removed by node id');
ok(!grep({ $_ eq $old_id } keys %{members('n1')}), 'it is gone');

my $off = $node{n3}{inst}->log_offset();
($st, $h, $b) = req('n2', 'PUT', "/v1/cluster/members/$node{n3}{peer}");
is($st, 200, 'n3 added again through a follower');

ok($t->wait_until(sub {
    (members('n1')->{$node{n3}{peer}} // '') eq 'follower';
}, 20), 'n3 joined as a learner and was promoted to voter');

ok(caught_up('n3', status(leader_of('n1'))->{commit}), 'n3 caught up');
ok($node{n3}{inst}->wait_for_log(qr/installed the leader's snapshot/, 5,
    $off), 'from the leader\'s snapshot');
is(scalar(grep { raw('n3', "k$_") eq "v$_$bulk" } 1 .. 200), 200,
    'with every write');

###############################################################################

# a fourth member joins and leaves

$node{n4}{inst}->run();
($st, $h, $b) = req('n1', 'PUT', "/v1/cluster/members/$node{n4}{peer}");
is($st, 200, 'n4 added');

ok($t->wait_until(sub {
    (members('n1')->{$node{n4}{peer}} // '') eq 'follower';
}, 20), 'n4 is a voter');

ok(put('n4', 'from4', 'hello'), 'a write through n4');
is(raw('n1', 'from4', 1), 'hello', 'read on n1');

($st, $h, $b) = req('n2', 'PUT', "/v1/cluster/members/$node{n4}{peer}");
is($st, 409, 'adding it twice: 409');
like($b, qr/already a member/, 'says why');

($st, $h, $b) = req('n3', 'DELETE', "/v1/cluster/members/$node{n4}{peer}");
is($st, 200, 'n4 removed');
ok($node{n4}{inst}->wait_for_log(qr/this member was removed/, 10),
    'n4 knows');
is(scalar keys %{members('n1')}, 3, 'three members again');

# restarted, it learns from the log that its list is stale, and says so
$node{n4}{inst}->stop();
$node{n4}{inst}->run();
ok($node{n4}{inst}->wait_for_log(
    qr/cluster\.members lists 4 members, the cluster has 3/, 10),
    'a removed member restarted reports its stale cluster.members');
$node{n4}{inst}->stop();

###############################################################################

# removing the leader: it hands over first

$lead = leader_of('n1');
my @rest = grep { $_ ne $lead } qw/ n1 n2 n3 /;

($st, $h, $b) = req($rest[0], 'DELETE',
    "/v1/cluster/members/$node{$lead}{peer}");
is($st, 200, "the leader $lead removed");
ok($node{$lead}{inst}->wait_for_log(qr/handing leadership over/, 5),
    'after handing leadership over');

my $m = members($rest[0]);
is(scalar keys %$m, 2, 'two members left');
ok(!exists $m->{$node{$lead}{peer}}, "$lead is not one of them");
ok(put($rest[1], 'two', 'members'), 'writes go on');
is(raw($rest[0], 'two', 1), 'members', 'and read back');

# it comes back
($st, $h, $b) = req($rest[1], 'PUT',
    "/v1/cluster/members/$node{$lead}{peer}");
is($st, 200, "$lead added back");
ok($t->wait_until(sub {
    (members($rest[0])->{$node{$lead}{peer}} // '') eq 'follower';
}, 20), 'a voter again');

###############################################################################

# bad requests

($st, $h, $b) = req('n1', 'PUT', '/v1/cluster/members/not-an-address');
is($st, 400, 'not an address: 400');
($st, $h, $b) = req('n1', 'DELETE', '/v1/cluster/members/127.0.0.1:1');
is($st, 409, 'removing a stranger: 409');
like($b, qr/not a member/, 'says why');

my $t0 = time();
($st, $h, $b) = req('n1', 'PUT', '/v1/cluster/members/127.0.0.1:'
    . port(7929));
is($st, 503, 'adding an address where nobody listens: 503');
cmp_ok(time() - $t0, '<', 12, 'in bounded time');

ok(put('n2', 'end', 'ok'), 'the cluster still takes writes');

ok(!grep({ $node{$_}{inst}->read_file('logs/error.log')
        =~ /cluster\.members lists/ } qw/ n1 n2 n3 /),
    'members whose list is right do not complain');

# snapshots: the current one and its fallback, nothing else left behind
for my $name (qw/ n1 n2 n3 /) {
    my @f = glob($node{$name}{inst}->prefix() . '/data/raft/snap/*');
    ok(@f <= 2 && !grep(/\.tmp$/, @f),
        "$name keeps at most two snapshot files (" . scalar(@f) . ')');
}

###############################################################################
