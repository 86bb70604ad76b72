#!/usr/bin/perl

# nacre: the linearizability checker used by the cluster tests
# (t/lib/Test/Nacre/Linearizability.pm), on hand-made histories and on
# large random ones made linearizable by construction. No daemon.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre::Linearizability qw/ check format_history format_op /;

use Time::HiRes qw/ time /;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

plan(tests => 71);

# op builders: times are [call, ret], ret undef = unknown outcome

sub P {     # put: client, key, value, call, ret, index
    my ($c, $k, $v, $call, $ret, $idx) = @_;
    return { client => $c, key => $k, op => 'put', value => $v,
        call => $call, ret => $ret, ok => 1, index => $idx };
}

sub C {     # cas: client, key, expect, value, call, ret, ok, index
    my ($c, $k, $e, $v, $call, $ret, $ok, $idx) = @_;
    return { client => $c, key => $k, op => 'cas', expect => $e,
        value => $v, call => $call, ret => $ret, ok => $ok, index => $idx };
}

sub D {     # delete: client, key, call, ret, index
    my ($c, $k, $call, $ret, $idx) = @_;
    return { client => $c, key => $k, op => 'delete', call => $call,
        ret => $ret, ok => 1, index => $idx };
}

sub G {     # get: client, key, call, ret, value read (undef: 404), index
    my ($c, $k, $call, $ret, $v, $idx) = @_;
    return { client => $c, key => $k, op => 'get', call => $call,
        ret => $ret, found => defined $v ? 1 : 0, rvalue => $v,
        rindex => $idx };
}

sub lin {
    my ($h, $name, %o) = @_;
    my ($ok, $info) = check($h, %o);
    ok(defined $ok && $ok, "linearizable: $name")
        or diag(($info->{explanation} // 'unknown') . "\n"
            . format_history($h));
    return $info;
}

sub bad {
    my ($h, $name, %o) = @_;
    my ($ok, $info) = check($h, %o);
    ok(defined $ok && !$ok, "violation: $name")
        or diag("got " . ($ok // 'undef') . "\n" . format_history($h));
    return $info;
}

###############################################################################

# basics, one client

lin([], 'empty history');

lin([ P('c1', 'k', 'a', 0, 1, 5), G('c1', 'k', 2, 3, 'a', 5),
    P('c1', 'k', 'b', 4, 5, 6), G('c1', 'k', 6, 7, 'b', 6) ],
    'sequential puts and gets');

lin([ G('c1', 'k', 0, 1, undef), P('c1', 'k', 'a', 2, 3, 5),
    D('c1', 'k', 4, 5, 6), G('c1', 'k', 6, 7, undef) ],
    'delete then get 404');

my $info = bad([ P('c1', 'k', 'a', 0, 1, 5), P('c1', 'k', 'b', 2, 3, 6),
    G('c1', 'k', 4, 5, 'a', 5) ], 'sequential stale read');
is($info->{key}, 'k', 'the violation names the key');
like($info->{explanation}, qr/longest linearizable prefix: 2 op/,
    'the explanation gives the longest prefix');
like($info->{explanation}, qr/cannot place: c1 .* get k -> 'a' #5/,
    'the explanation names the read that cannot be placed');
like($info->{explanation}, qr/state after it: 'b' at index 6/,
    'the explanation gives the state');

$info = bad([ P('c1', 'k', 'a', 0, 1, 5), G('c2', 'k', 2, 3, 'zz', 7) ],
    'a read of a value never written');
like($info->{explanation}, qr/no operation wrote/,
    'the explanation says it was never written');

bad([ P('c1', 'k', 'a', 0, 1, 5), G('c1', 'k', 2, 3, 'a', 4) ],
    'a read with the wrong ModifyIndex');

bad([ P('c1', 'k', 'a', 0, 1, 5), D('c1', 'k', 2, 3, 6),
    G('c1', 'k', 4, 5, 'a', 5) ], 'a read of a deleted value');

bad([ G('c1', 'k', 0, 1, 'a', 5), P('c1', 'k', 'a', 2, 3, 5) ],
    'a read before the write started');

###############################################################################

# concurrency

# two overlapping puts, then reads that see either order
my @w = (P('c1', 'k', 'a', 0, 10, 5), P('c2', 'k', 'b', 1, 11, 6));

lin([ @w, G('c3', 'k', 12, 13, 'b', 6), G('c3', 'k', 14, 15, 'b', 6) ],
    'concurrent puts, reads see a then b');

lin([ @w, G('c3', 'k', 12, 13, 'a', 5) ],
    'concurrent puts, reads see b then a', index_order => 0);

bad([ @w, G('c3', 'k', 12, 13, 'a', 5) ],
    'concurrent puts, b then a contradicts the index order');

lin([ @w, G('c3', 'k', 2, 3, 'a', 5), G('c4', 'k', 4, 20, 'b', 6),
    G('c3', 'k', 5, 6, 'a', 5) ], 'reads during the writes');

bad([ @w, G('c3', 'k', 2, 3, 'b', 6), G('c3', 'k', 4, 5, 'a', 5),
    G('c3', 'k', 6, 7, 'b', 6) ], 'reads flip back and forth');

# stale read: a read after the read that saw the completed write
bad([ P('c1', 'k', 'a', 0, 1, 5), P('c2', 'k', 'b', 2, 3, 7),
    G('c3', 'k', 1.5, 4, 'b', 7), G('c4', 'k', 5, 6, 'a', 5) ],
    'stale read after a completed write');

lin([ P('c1', 'k', 'a', 0, 1, 5), P('c2', 'k', 'b', 2, 8, 7),
    G('c3', 'k', 3, 4, 'b', 7), G('c4', 'k', 3.5, 9, 'a', 5) ],
    'old value read by a read concurrent with the write',
    index_order => 0);

# equal timestamps count as concurrent
lin([ P('c1', 'k', 'a', 0, 1, 5), G('c2', 'k', 1, 2, undef) ],
    'touching intervals are concurrent');

###############################################################################

# cas

lin([ P('c1', 'k', 'a', 0, 1, 5), C('c1', 'k', 5, 'b', 2, 3, 1, 6),
    C('c2', 'k', 5, 'c', 4, 5, 0), G('c2', 'k', 6, 7, 'b', 6),
    C('c2', 'k', 6, 'd', 8, 9, 1, 8), G('c1', 'k', 10, 11, 'd', 8) ],
    'cas successes and failures consistent');

bad([ P('c1', 'k', 'a', 0, 1, 5), C('c1', 'k', 4, 'b', 2, 3, 1, 6) ],
    'cas succeeded with the wrong index');

bad([ P('c1', 'k', 'a', 0, 1, 5), C('c1', 'k', 5, 'b', 2, 3, 0) ],
    'cas failed with the right index');

bad([ P('c1', 'k', 'a', 0, 1, 5), C('c1', 'k', 5, 'b', 2, 10, 1, 6),
    C('c2', 'k', 5, 'c', 3, 11, 1, 7) ],
    'two concurrent cas expecting the same index both true');

bad([ C('c1', 'k', 0, 'a', 0, 10, 1, 5), C('c2', 'k', 0, 'b', 1, 11, 1, 6) ],
    'create-only race: both succeed');

lin([ C('c1', 'k', 0, 'a', 0, 10, 1, 5), C('c2', 'k', 0, 'b', 1, 11, 0),
    G('c3', 'k', 12, 13, 'a', 5) ], 'create-only race: one wins');

lin([ C('c1', 'k', 0, 'a', 0, 1, 1, 5), D('c1', 'k', 2, 3, 6),
    C('c2', 'k', 0, 'b', 4, 5, 1, 7), G('c2', 'k', 6, 7, 'b', 7) ],
    'create-only cas after a delete');

###############################################################################

# unknown outcomes

lin([ P('c1', 'k', 'a', 0, 1, 5), P('c2', 'k', 'b', 2, undef),
    G('c3', 'k', 3, 4, 'a', 5), G('c3', 'k', 50, 51, 'b', 9) ],
    'an unknown write appears later');

lin([ P('c1', 'k', 'a', 0, 1, 5), P('c2', 'k', 'b', 2, undef),
    G('c3', 'k', 3, 4, 'a', 5), G('c3', 'k', 50, 51, 'a', 5) ],
    'an unknown write never appears');

bad([ P('c1', 'k', 'a', 0, 1, 5), P('c2', 'k', 'b', 2, undef),
    G('c3', 'k', 3, 4, 'b', 9), G('c3', 'k', 5, 6, 'a', 5) ],
    'a read of an unknown write, then the older value');

bad([ P('c1', 'k', 'a', 0, 1, 5), P('c2', 'k', 'b', 2, undef),
    G('c3', 'k', 1.5, 1.9, 'b', 9) ],
    'an unknown write read before it was called');

$info = bad([ P('c1', 'k', 'a', 0, 1, 5), P('c2', 'k', 'b', 2, undef),
    G('c3', 'k', 3, 4, 'b', 9), P('c4', 'k', 'c', 5, 6, 10),
    G('c3', 'k', 2.5, 7, 'b', 9), G('c3', 'k', 8, 9, 'b', 9) ],
    'a read of an unknown write after it was overwritten');
like($info->{explanation}, qr/cannot place: .* get k -> 'b' #9/,
    'the explanation names the late read');

$info = bad([ P('c1', 'k', 'a', 0, 1, 5), G('c2', 'k', 2, 3, 'b', 5),
    P('c3', 'k', 'b', 0, 10, undef) ], 'two values at one index');
like($info->{explanation}, qr/index 5 belongs to two different writes/,
    'the explanation names the index');

lin([ P('c1', 'k', 'a', 0, 1, 5), D('c2', 'k', 2, undef),
    G('c3', 'k', 3, 4, 'a', 5), G('c3', 'k', 5, 6, undef),
    C('c3', 'k', 0, 'b', 7, 8, 1, 9) ], 'an unknown delete appears later');

lin([ P('c1', 'k', 'a', 0, 1, 5), C('c2', 'k', 5, 'b', 2, undef),
    C('c3', 'k', 5, 'c', 3, 4, 0), G('c3', 'k', 5, 6, 'b', 6) ],
    'an unknown cas explains a failed cas and a read');

# an unknown-outcome write whose index nobody saw, then cas on it
my @u = (P('c1', 'k', 'a', 0, 1, 5), P('c2', 'k', 'b', 2, undef));
lin([ @u, C('c3', 'k', 8, 'c', 3, 4, 1, 9), G('c3', 'k', 5, 6, 'c', 9) ],
    'cas matches an unknown write whose index nobody saw');
bad([ @u, G('c4', 'k', 1.5, 2.5, 'a', 5), P('c4', 'k', 'x', 2.6, 2.7, 7),
    C('c3', 'k', 5, 'c', 3, 4, 1, 9) ],
    'cas cannot match an unknown write with the index of another value');

# a known put whose index was not reported, learnt from a read
lin([ P('c1', 'k', 'a', 0, 1, undef), G('c2', 'k', 2, 3, 'a', 5),
    C('c1', 'k', 5, 'b', 4, 5, 1, 6) ], 'a put index learnt from a read');
bad([ P('c1', 'k', 'a', 0, 1, undef), G('c2', 'k', 2, 3, 'a', 5),
    C('c1', 'k', 4, 'b', 4, 5, 1, 6) ], 'cas on a wrong learnt index');

# the excluded set: cas expecting 7 fails on (a, ?), then succeeds on it
bad([ P('c0', 'k', 'x', 0, 1, 1), P('c1', 'k', 'a', 2, 3, undef),
    C('c2', 'k', 7, 'y', 4, 5, 0), C('c2', 'k', 7, 'z', 6, 7, 1, 9) ],
    'cas fails then succeeds on the same unknown index');
lin([ P('c0', 'k', 'x', 0, 1, 1), P('c1', 'k', 'a', 2, 3, undef),
    C('c2', 'k', 6, 'y', 4, 5, 0), C('c2', 'k', 7, 'z', 6, 7, 1, 9) ],
    'cas fails on one unknown index, succeeds on another');

# two unknown-index writes cannot both have index 7
my @b = (P('c0', 'k', 'x', 0, 1, 1), P('c1', 'k', 'a', 2, undef),
    C('c2', 'k', 7, 'b', 3, 4, 1, 10), P('c1', 'k', 'c', 5, undef),
    C('c2', 'k', 7, 'd', 6, 7, 1, 12), G('c2', 'k', 8, 9, 'd', 12));
bad([ @b ], 'two unknown writes bound to one index', index_order => 0);
$b[4] = C('c2', 'k', 8, 'd', 6, 7, 1, 12);
lin([ @b ], 'two unknown writes bound to two indexes', index_order => 0);

###############################################################################

# index order and keys

bad([ P('c1', 'k', 'a', 0, 1, 7), P('c1', 'k', 'b', 2, 3, 5),
    G('c1', 'k', 4, 5, 'b', 5) ], 'indexes going backwards');
lin([ P('c1', 'k', 'a', 0, 1, 7), P('c1', 'k', 'b', 2, 3, 5),
    G('c1', 'k', 4, 5, 'b', 5) ], 'indexes going backwards, order not checked',
    index_order => 0);

lin([ P('c1', 'a', 'x', 0, 10, 5), P('c2', 'b', 'y', 1, 2, 6),
    G('c2', 'b', 3, 4, 'y', 6), G('c1', 'a', 11, 12, 'x', 5),
    G('c3', 'b', 5, 6, 'y', 6), G('c3', 'a', 1, 2, undef) ],
    'two keys, independent');

$info = bad([ P('c1', 'a', 'x', 0, 1, 5), G('c1', 'a', 2, 3, 'x', 5),
    P('c1', 'b', 'y', 0, 1, 6), G('c1', 'b', 2, 3, undef) ],
    'two keys, one bad');
is($info->{key}, 'b', 'the bad key is named');
ok($info->{keys}{a}{ok} && !$info->{keys}{b}{ok}, 'per-key results');

lin([ G('c1', 'k', 0, 1, 'init', 3), C('c1', 'k', 3, 'a', 2, 3, 1, 5) ],
    'initial state', initial => { k => { value => 'init', index => 3 } });

###############################################################################

# format helpers, bad input

like(format_op(C('c9', 'k', 5, 'v', 1, undef)),
    qr/^c9 \[1\.000000 \?\] cas k expect 5 'v' -> unknown$/, 'format_op');
my $fh = format_history([ P('c1', 'k', 'a', 0, 1, 5),
    G('c2', 'k', 2, 3, 'a', 5), P('c1', 'j', 'b', 0.5, 1, 6) ], key => 'k');
is(scalar(() = $fh =~ /\n/g), 2, 'format_history: one line an op, one key');

ok(!eval { check([ { key => 'k', op => 'frob', call => 0 } ]); 1 }
    && $@ =~ /unknown op/, 'bad op croaks');

(undef, $info) = check([ P('c1', 'k', 'a', 0, 1, 5),
    P('c1', 'k', 'a', 2, 3, 6) ]);
like($info->{warnings}[0] // '', qr/written more than once.*'a'/,
    'a repeated value is reported');

###############################################################################

# random histories, linearizable by construction: clients issue ops one
# after the other with random durations, each op takes effect at a random
# point inside its interval (a timed-out one at a random point after its
# call, or never), and a sequential register replayed in that order gives
# the results; one Raft index counter for all keys

sub random_history {
    my (%o) = @_;

    my @keys = map { "k$_" } 0 .. $o{keys} - 1;
    my (@ops, $vn);

    for my $c (1 .. $o{clients}) {
        my $t = rand(0.001);
        for (1 .. $o{per_client}) {
            my $r = rand();
            my $op = $r < 0.4 ? 'get' : $r < 0.65 ? 'put'
                : $r < 0.92 ? 'cas' : 'delete';
            my $call = $t + rand(0.002);
            my $ret = $call + 0.0002 + rand(0.01);
            my %h = (client => "c$c", key => $keys[int rand @keys],
                op => $op, call => $call, ret => $ret);
            $h{value} = 'v' . ++$vn if $op ne 'get' && $op ne 'delete';
            $h{lp} = $call + rand($ret - $call);

            if ($op ne 'get' && rand() < $o{unknown}) {
                # timed out: may apply much later, or never
                $h{ret} = undef;
                $h{lp} = rand() < 0.5 ? $call + rand(0.05) : undef;
                $ret = $call + 0.01;
            }
            $t = $ret;
            push @ops, \%h;
        }
    }

    my ($raft, %st, %seen) = (0);
    for my $h (sort { $a->{lp} <=> $b->{lp} } grep { defined $_->{lp} } @ops) {
        my $s = $st{$h->{key}} //= {};
        my $old = $seen{$h->{key}} //= [];
        if ($h->{op} eq 'get') {
            $h->{found} = $s->{ex} ? 1 : 0;
            @$h{qw/ rvalue rindex /} = @$s{qw/ v i /} if $s->{ex};
        } elsif ($h->{op} eq 'put') {
            @$s{qw/ ex v i /} = (1, $h->{value}, ++$raft);
            @$h{qw/ ok index /} = (1, $raft);
        } elsif ($h->{op} eq 'delete') {
            $s->{ex} = 0;
            @$h{qw/ ok index /} = (1, ++$raft);
        } else {
            # the index read last, 0, an older one, a guess
            my $r = rand();
            $h->{expect} = $r < 0.55 ? ($s->{ex} ? $s->{i} : 0)
                : $r < 0.7 ? 0
                : $r < 0.9 && @$old ? $old->[-1 - int rand(@$old > 5 ? 5 : @$old)]
                : 1 + int rand($raft + 1);
            if ($h->{expect} == 0 ? !$s->{ex}
                : $s->{ex} && $s->{i} == $h->{expect})
            {
                @$s{qw/ ex v i /} = (1, $h->{value}, ++$raft);
                @$h{qw/ ok index /} = (1, $raft);
            } else {
                $h->{ok} = 0;
            }
        }
        push @$old, $s->{i} if $s->{ex};
    }
    for my $h (@ops) {
        $h->{expect} //= 1 + int rand($raft + 1) if $h->{op} eq 'cas';
        delete @$h{qw/ ok index found rvalue rindex /} unless defined $h->{ret};
        delete $h->{lp};
    }

    return \@ops;
}

# make a read stale for sure: it reads a value whose write was overwritten
# by a write that completed before the read was called; the first read
# that can be, or the last one
sub corrupt {
    my ($h, $late) = @_;

    my @ops = sort { $a->{call} <=> $b->{call} } @$h;
    my @gets = grep { $_->{op} eq 'get' && defined $_->{ret} } @ops;
    for my $g ($late ? reverse @gets : @gets) {
        my @w = grep { $_->{key} eq $g->{key} && defined $_->{ret}
            && $_->{op} ne 'get' && ($_->{op} ne 'cas' || $_->{ok})
            && $_->{ret} < $g->{call} } @ops;
        for my $u (grep { $_->{op} ne 'delete' } @w) {
            next if defined $g->{rvalue} && $g->{rvalue} eq $u->{value};
            next unless grep { $_->{call} > $u->{ret} } @w;
            @$g{qw/ found rvalue rindex /} = (1, $u->{value}, $u->{index});
            return $g;
        }
    }
    return undef;
}

srand(20240611);

my $h = random_history(clients => 10, keys => 5, per_client => 200,
    unknown => 0.02);
my $t0 = time();
($_, $info) = check($h, timeout => 60);
my $dt = time() - $t0;
ok($_, 'random: 2000 ops over 5 keys are linearizable')
    or diag($info->{explanation} // 'search budget exhausted');
note(sprintf('random: %d ops, %d states, %d steps, %.2fs', $info->{ops},
    $info->{states}, $info->{steps}, $dt));

lin($h, 'random: the same without the index order', index_order => 0);

my $g = corrupt($h);
ok($g, 'random: a read to corrupt');
$info = bad($h, 'random: one stale read');
is($info->{key}, $g->{key}, 'random: the stale read\'s key is reported');
note($info->{explanation});
note(format_history($h, key => $info->{key},
    around => $info->{keys}{$info->{key}}{op}, context => 5));

my ($to) = check($h, timeout => 1e-9);
ok(!defined $to, 'a search budget exhausted gives undef');

# the cluster test's size: one hot key, 10 clients, 4000 ops, a few
# timeouts
$h = random_history(clients => 10, keys => 1, per_client => 400,
    unknown => 0.03);
$t0 = time();
($_, $info) = check($h, timeout => 60);
$dt += time() - $t0;
ok($_, 'random: 4000 ops on one key by 10 clients are linearizable')
    or diag($info->{explanation} // 'search budget exhausted');
note(sprintf('random hot key: %d ops (%d unknown), %d states, %d steps, '
    . '%.2fs', $info->{ops}, $info->{keys}{k0}{unknown_ops},
    $info->{states}, $info->{steps}, $info->{time}));
cmp_ok($dt, '<', 10, 'random: both checked in a few seconds');
corrupt($h);
bad($h, 'random hot key: one stale read');

# a stale read near the end: every alternative before it is tried
$h = random_history(clients => 10, keys => 1, per_client => 200,
    unknown => 0.03);
$g = corrupt($h, 1);
$info = bad($h, 'random hot key: one stale read near the end');
note(sprintf('random late: %d states, %d steps, %.2fs, %d subsumed',
    $info->{states}, $info->{steps}, $info->{time},
    $info->{keys}{k0}{subsumed}));

($to, $info) = check($h, memory => 0);
ok(!defined $to && $info->{explanation} =~ /memory/,
    'a memory budget exhausted gives undef');

# many timeouts
$h = random_history(clients => 8, keys => 1, per_client => 150,
    unknown => 0.2);
($_, $info) = check($h, timeout => 60);
ok($_, 'random: 1200 ops on one key, 20% unknown outcomes')
    or diag($info->{explanation} // 'search budget exhausted');
note(sprintf('random timeouts: %d states, %d steps, %.2fs',
    $info->{states}, $info->{steps}, $info->{time}));

###############################################################################

# against brute force on tiny histories: every order of the ops that
# respects real time, every subset of the unknown-outcome ones, every
# assignment of the unknown indexes (from the ones seen, and fresh ones)
# with one write per index, replayed on the register

sub brute {
    my ($h) = @_;

    my @ops = grep { defined $_->{ret} || $_->{op} ne 'get' } @$h;
    my @known = grep { defined $ops[$_]{ret} } 0 .. $#ops;
    my @unk = grep { !defined $ops[$_]{ret} } 0 .. $#ops;
    my %c = map { $_ => 1 } grep { defined && $_ > 0 }
        map { @$_{qw/ expect index rindex /} } @ops;
    my @cand = (keys %c, 1001 .. 1003);
    my $wr = sub { my $o = $_[0]; $o->{op} eq 'put' || $o->{op} eq 'delete'
        || ($o->{op} eq 'cas' && (!defined $o->{ret} || $o->{ok})) };

    for my $mask (0 .. (1 << @unk) - 1) {
        my @set = (@known, map { $unk[$_] } grep { $mask >> $_ & 1 } 0 .. $#unk);
        my @need = grep { !defined $ops[$_]{index} && $wr->($ops[$_]) } @set;
        my @as = ([]);
        for (@need) {
            @as = map { my $a = $_; map { [ @$a, $_ ] } @cand } @as;
        }
        A: for my $a (@as) {
            my %idx = map { $_ => $ops[$_]{index} } @set;
            @idx{@need} = @$a;
            my %used;
            for (grep { $wr->($ops[$_]) } @set) {
                next A if $used{$idx{$_}}++;
            }
            return 1 if brute_order(\@ops, \@set, \%idx, { ex => 0 });
        }
    }
    return 0;
}

sub brute_order {
    my ($ops, $rest, $idx, $st) = @_;

    return 1 unless @$rest;
    for my $j (0 .. $#$rest) {
        my $o = $ops->[$rest->[$j]];
        next if grep { $_ != $rest->[$j] && defined $ops->[$_]{ret}
            && $ops->[$_]{ret} < $o->{call} } @$rest;
        my %s = %$st;
        my $i = $idx->{$rest->[$j]};
        if ($o->{op} eq 'get') {
            next if $o->{found} ? !$s{ex} || $s{v} ne $o->{rvalue}
                || (defined $o->{rindex} && $s{i} != $o->{rindex}) : $s{ex};
        } elsif ($o->{op} eq 'put') {
            %s = (ex => 1, v => $o->{value}, i => $i);
        } elsif ($o->{op} eq 'delete') {
            %s = (ex => 0);
        } else {
            my $m = $o->{expect} == 0 ? !$s{ex}
                : $s{ex} && $s{i} == $o->{expect};
            next if defined $o->{ret} && ($o->{ok} xor $m);
            %s = (ex => 1, v => $o->{value}, i => $i) if $m;
        }
        return 1 if brute_order($ops, [ @$rest[grep { $_ != $j } 0 .. $#$rest] ],
            $idx, \%s);
    }
    return 0;
}

sub tiny_history {
    my (%o) = (min => 2, max => 5, clients => 3, spoil => 1, @_);
    my (@ops, $vn);
    my @t = map { rand 2 } 1 .. $o{clients};
    my ($raft, %s) = (0, ex => 0);
    my @pre = map { my $c = int rand $o{clients};
        my $call = $t[$c] + rand 2; $t[$c] = $call + rand 4;
        [ $c, $call, $t[$c] ] } 1 .. $o{min} + int rand($o{max} - $o{min} + 1);
    my $spoil = rand() < $o{spoil};

    for (sort { $a->[1] <=> $b->[1] } @pre) {
        my ($c, $call, $ret) = @$_;
        my $r = rand();
        my $op = $r < 0.35 ? 'get' : $r < 0.6 ? 'put' : $r < 0.9 ? 'cas'
            : 'delete';
        my %h = (client => "c$c", key => 'k', op => $op,
            call => sprintf('%.1f', $call), ret => sprintf('%.1f', $ret));
        $h{value} = 'v' . ++$vn if $op eq 'put' || $op eq 'cas';
        $h{expect} = rand() < 0.5 ? $s{i} // 0 : int rand($raft + 2)
            if $op eq 'cas';
        my %old = %s;
        if ($op eq 'get') {
            $h{found} = $s{ex} ? 1 : 0;
            @h{qw/ rvalue rindex /} = @s{qw/ v i /} if $s{ex};
        } elsif ($op eq 'put') {
            %s = (ex => 1, v => $h{value}, i => ++$raft);
            @h{qw/ ok index /} = (1, $raft);
        } elsif ($op eq 'delete') {
            %s = (ex => 0);
            @h{qw/ ok index /} = (1, ++$raft);
        } elsif ($h{expect} == 0 ? !$s{ex} : $s{ex} && $s{i} == $h{expect}) {
            %s = (ex => 1, v => $h{value}, i => ++$raft);
            @h{qw/ ok index /} = (1, $raft);
        } else {
            $h{ok} = 0;
        }

        # and spoil it a little
        my $p = rand();
        if ($p < 0.25 && $op ne 'get') {
            delete @h{qw/ ret ok index /};
            %s = %old if rand() < 0.5;
        } elsif ($p < 0.32) {
            delete $h{index};
        } elsif (!$spoil) {
        } elsif ($p < 0.5 && $op eq 'get' && $vn) {
            @h{qw/ found rvalue rindex /} = (1, 'v' . (1 + int rand $vn),
                1 + int rand($raft + 1));
        } elsif ($p < 0.6 && $op eq 'cas') {
            $h{ok} = $h{ok} ? 0 : 1;
            $h{index} = ++$raft if $h{ok};
        }
        push @ops, \%h;
    }
    return \@ops;
}

{
    my ($n, $agree, $yes, $first) = (600, 0, 0);
    for (1 .. $n) {
        my $h = tiny_history();
        my $b = brute($h);
        my ($c) = check($h, index_order => 0);
        my ($c1) = check($h);
        $yes += $b;
        if (defined $c && $c == $b && !($c1 && !$c)) {
            $agree++;
        } else {
            $first //= "brute force $b, checker " . ($c // 'undef')
                . ", with the index order " . ($c1 // 'undef') . "\n"
                . format_history($h);
        }
    }
    is($agree, $n, "as brute force on $n tiny histories ($yes linearizable)")
        or diag($first);
}

# against a plain search over the same model, without any of the pruning
# rules, on histories of 8 to 20 ops

sub plain {
    my ($h, $io) = @_;

    my @ops = grep { defined $_->{ret} || $_->{op} ne 'get' } @$h;
    my $n = @ops;
    my (%writes, %vidx, %taken, %bindable, $conflict);
    $writes{$_->{value}}++ for grep { defined $_->{value} } @ops;
    my $take = sub {
        my ($i, $v) = @_;
        return unless defined $i;
        $conflict = 1 if exists $taken{$i} && $taken{$i} ne $v;
        $taken{$i} = $v;
    };
    for my $j (0 .. $n - 1) {
        my $o = $ops[$j];
        next unless defined $o->{ret};
        if ($o->{op} eq 'put' || ($o->{op} eq 'cas' && $o->{ok})) {
            $take->($o->{index}, "v$o->{value}");
            $vidx{$o->{value}} //= $o->{index} if defined $o->{index};
        } elsif ($o->{op} eq 'delete') {
            $take->($o->{index}, "d$j");
        } elsif ($o->{op} eq 'get' && $o->{found} && defined $o->{rindex}) {
            $take->($o->{rindex}, "v$o->{rvalue}");
        }
    }
    return 0 if $conflict;
    for my $o (@ops) {
        next unless defined $o->{ret};
        $vidx{$o->{rvalue}} //= $o->{rindex}
            if $o->{op} eq 'get' && $o->{found} && defined $o->{rindex};
        $bindable{$o->{rindex}} = 1
            if $o->{op} eq 'get' && defined $o->{rindex};
    }
    $bindable{$_->{expect}} = 1 for grep { $_->{op} eq 'cas'
        && $_->{expect} && (!defined $_->{ret} || $_->{ok}) } @ops;

    # a state: [ exists, value, index or undef, {X}, {B}, last index ]
    my $no = sub {
        my ($e, $v, $s) = @_;
        return (exists $taken{$e} && $taken{$e} ne "v$v") || $s->[3]{$e}
            || $s->[4]{$e} || ($io && $e <= $s->[5]);
    };
    my $after = sub {       # the states op $o can lead to from $s
        my ($s, $o) = @_;
        my ($ex, $v, $ix, $x, $b, $hw) = @$s;
        my $known = defined $o->{ret};
        if ($o->{op} eq 'get') {
            return $ex ? () : ($s) unless $o->{found};
            return () unless $ex && $v eq $o->{rvalue};
            my $ri = $o->{rindex};
            return ($s) unless defined $ri;
            return defined $ix ? ($ix == $ri ? ($s) : ())
                : $no->($ri, $v, $s) ? ()
                : ([ 1, $v, $ri, {}, $b, $io ? $ri : 0 ]);
        }
        my $i = $o->{index} // (defined $o->{value}
            && $writes{$o->{value}} == 1 ? $vidx{$o->{value}} : undef);
        my $w = sub {       # write: check and move the last index
            my ($hw) = @_;
            return $hw unless $io && defined $i;
            return $i > $hw ? $i : undef;
        };
        if ($o->{op} eq 'put') {
            my $h2 = $w->($hw) // return ();
            return ([ 1, $o->{value}, $i, {}, $b, $h2 ]);
        }
        if ($o->{op} eq 'delete') {
            my $h2 = $w->($hw) // return ();
            return ([ 0, '', undef, {}, $b, $h2 ]);
        }
        my $e = $o->{expect};
        my ($can, $cant, $bind) = $e == 0 ? (!$ex, $ex, 0)
            : !$ex ? (0, 1, 0)
            : defined $ix ? ($ix == $e, $ix != $e, 0)
            : $no->($e, $v, $s) ? (0, 1, 0) : (1, 1, 1);
        if ($known && !$o->{ok}) {
            return () unless $cant;
            return ([ 1, $v, undef, { %$x, $e => 1 }, $b, $hw ])
                if $ex && !defined $ix && $e && $bindable{$e}
                    && !$no->($e, $v, $s);
            return ($s);
        }
        return () unless $can;
        my ($b2, $h2) = ($b, $hw);
        if ($bind) {
            $b2 = { %$b };
            $b2->{$e} = 1 unless exists $taken{$e};
            $h2 = $e if $io;
        }
        $h2 = $w->($h2) // return ();
        return ([ 1, $o->{value}, $i, {}, $b2, $h2 ]);
    };
    my $key = sub {
        my ($s) = @_;
        return join '|', map { ref $_ ? join(',', sort keys %$_) : $_ // '?' }
            @$s;
    };

    my %seen;
    my $search;
    $search = sub {
        my ($placed, $s) = @_;
        my $deadline = 9**9**9;
        for my $j (grep { !vec($placed, $_, 1) } 0 .. $n - 1) {
            my $r = $ops[$j]{ret};
            $deadline = $r if defined $r && $r < $deadline;
        }
        return 1 if $deadline == 9**9**9;
        return 0 if $seen{$placed . $key->($s)}++;
        for my $j (grep { !vec($placed, $_, 1) } 0 .. $n - 1) {
            next if $ops[$j]{call} > $deadline;
            my $p2 = $placed;
            vec($p2, $j, 1) = 1;
            for my $s2 ($after->($s, $ops[$j])) {
                return 1 if $search->($p2, $s2);
            }
        }
        return 0;
    };
    my $r = $search->("\0" x ($n / 8 + 1), [ 0, '', undef, {}, {}, 0 ]);
    undef $search;
    return $r;
}

{
    my ($n, $agree, $yes, $first) = (200, 0, 0);
    for (1 .. $n) {
        my $h = tiny_history(min => 8, max => 20, clients => 5,
            spoil => 0.5);
        my ($r, $r1) = (plain($h, 0), plain($h, 1));
        my ($c) = check($h, index_order => 0);
        my ($c1) = check($h);
        $yes += $r;
        if (defined $c && $c == $r && defined $c1 && $c1 == $r1) {
            $agree++;
        } else {
            $first //= "plain search $r/$r1, checker " . ($c // 'undef')
                . '/' . ($c1 // 'undef') . " (without/with the index "
                . "order)\n" . format_history($h);
        }
    }
    is($agree, $n, "as a plain search on $n histories ($yes linearizable)")
        or diag($first);
}

###############################################################################
