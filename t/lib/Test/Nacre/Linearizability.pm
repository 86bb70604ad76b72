package Test::Nacre::Linearizability;

# A linearizability checker for histories of a Consul-shaped KV store:
# Wing & Gong's search with Lowe's memoization ("WGL", as in Porcupine and
# Knossos), run per key (a history is linearizable iff every per-key
# subhistory is: Herlihy & Wing's locality, Porcupine's P-compositionality).
# Core Perl only.
#
#   use Test::Nacre::Linearizability qw/ check format_history /;
#
#   my ($ok, $info) = check(\@history, timeout => 10);
#   # $ok: 1 linearizable, 0 violation, undef search budget exhausted
#   diag($info->{explanation}) if defined $ok && !$ok;
#   diag(format_history(\@history, key => $info->{key},
#       around => $info->{keys}{$info->{key}}{op}, context => 20));
#
# (nothing is exported by default; Test::Nacre::Linearizability::check
# works too)
#
# An operation is a hashref:
#
#   client  => 'c1'            who issued it (for messages only)
#   key     => 'k'
#   op      => 'put' | 'cas' | 'get' | 'delete'
#   value   => 'v'             put, cas: the value written
#   expect  => N               cas: the ModifyIndex expected, 0 = create only
#   call    => t0              invocation time, seconds (float)
#   ret     => t1              completion time, or undef when the outcome is
#                              unknown (timeout, connection error, 5xx)
#   ok      => 1 | 0           cas: the answer; put, delete: 1
#   index   => N               put, cas true, delete: the Raft index of the
#                              write (X-Consul-Index), undef if not reported
#   found   => 1 | 0           get: 200 or 404
#   rvalue  => 'v'             get: the Value read
#   rindex  => N               get: the ModifyIndex read (undef: not checked)
#
# The model, per key: a register whose state is (exists, value, index), at
# first absent (option initial => { key => { value => v, index => i } }).
#
#   put v, index i      -> (1, v, i)
#   cas e, v, index i   succeeds iff (e == 0 and absent) or (exists and
#                       index == e); then -> (1, v, i); a failed cas leaves
#                       the state alone, and ok must be what was observed
#   delete              -> absent
#   get                 observes exactly (found, value, index) of the state
#
# Operations that completed take effect once, at some point between call and
# ret. Operations whose outcome is unknown (ret undef) take effect at some
# point after their call, or never; their results are not checked. A get
# with an unknown outcome says nothing and is ignored.
#
# Write indexes. The index of a write is its Raft log index; the checker
# relies on these facts:
#
#   (R1) one log entry is one write: two writes of different values (or a
#        write and a delete) never have the same index;
#   (R2) the index a get reports (ModifyIndex) is the index of the write
#        that produced the value it read, and a write's own reported index
#        (X-Consul-Index) is that same index;
#   (U)  values are unique per key: each value is written by at most one
#        operation, which takes effect at most once.
#
# From (R2), a get that read (v, j) tells that v's write has index j, and
# (R1) forbids index j to any other value. So before the search the checker
# collects, per key, the index known for each value (from the write itself,
# else from any get that read it) and the owner of each index seen anywhere
# ("taken" indexes: the writes' own indexes, the indexes gets read, the
# deletes' indexes). An index claimed for two different values, or for a
# value and a delete, is a violation by itself, reported as such.
#
# A write whose index stays unknown after this (an unknown-outcome write, or
# a write whose index was not reported, whose value no get read) produces a
# state (1, v, ?). Such a state:
#
#   - matches a cas expecting e only if e is not taken by another value or
#     a delete, is not in the state's excluded set X, and was not already
#     given to another unknown-index write during this linearization; the
#     success binds that write's index to e (e joins the state's set B);
#   - fails a cas expecting e always (an unknown index can differ from e);
#     if some operation could later bind an index to e (a cas expecting e
#     that succeeded or whose outcome is unknown, a get that read index e),
#     e joins X: a later cas expecting e on the same state cannot succeed;
#   - if a get with a reported index reads it (only possible without (U)),
#     the get binds the index, under the same conditions.
#
# Soundness (no "linearizable" for a history that is not, under R1, R2, U):
# a linearization found by the search gives every write with a known index
# that index, every unknown-index write that an operation depended on
# exactly one index, by the binding above, and the others none; the bound
# indexes are pairwise distinct (B) and distinct from every index owned by
# another value or a delete (taken); a state that was never bound must only
# differ from the finitely many indexes in X, and there are always fresh
# indexes for it and for the writes nobody depended on. That is an
# assignment of indexes to all writes satisfying R1 and R2 under which the
# sequential register replays every observed result: the history is
# linearizable. Conversely (no false violation) every rule above only
# discards what R1, R2 and U forbid, and every pruning rule below keeps at
# least one linearization of every linearizable history.
#
# Without (U) the checker raises no false violation but it may accept a bad
# history (two writes of one value can share what it knows about the
# value's index). check() reports repeated values in $info->{warnings}.
#
# Extra, on by default (index_order => 0 disables it): (R3) writes with a
# known index take effect in increasing index order (Raft applies in log
# order), gets bind unknown indexes only above the last write's, and a cas
# binds an unknown index above it. This is a real check of the server too,
# and it prunes the search; the soundness argument above does not need it
# (with it, the search is still permissive about where in the log an
# unknown index lies).
#
# Pruning, each rule keeping a linearization of every linearizable history
# (checked against a brute-force search in t/linearizability_checker.t):
#
#   - pend: an unknown-outcome write placed right before a put, a delete,
#     or the end has no visible effect (put and delete overwrite the whole
#     state) and can be dropped; so after placing one the search only
#     accepts a get or a cas next (the state's "pend");
#   - need: more, after a run of unknown-outcome puts, deletes and cas of
#     unread values (that bound no index), the next op must fit none of the
#     states before the run: if it fits one, it can move there (a get or a
#     failed cas) or the run can be dropped (a write overwrites it); the
#     states before the run are part of the state's key;
#   - dropped: an unknown-outcome put/cas whose value no get read, or delete
#     when no get read 404, can only matter to a later cas: with no other
#     cas that can take effect after its call, it is left out;
#   - promoted: an unknown-outcome put/cas whose value a get read did take
#     effect, as a success, before the first such get returned: it is
#     placed like a completed op with that deadline;
#   - classes: the other unknown-outcome ops fall in classes with the same
#     effect on every state (all the puts of unread values, which stand for
#     one another, all the deletes, the unread cas expecting the same
#     index); members of a class are placed in call order (a linearization
#     using a later one while an earlier one is unplaced works as well with
#     the earlier one: it was called before), and only the classes that can
#     change the current state are tried; an unknown delete followed by an
#     unknown create (cas expecting 0) is not tried when an unknown put can
#     come instead (it does the same, and the pair can stand in for the put
#     wherever that put is used later);
#   - narrows: an unknown-outcome op whose result allows no more than the
#     current state (same register; X, B, last index no smaller; pend
#     stricter) is not placed: not placing it does at least as well;
#   - forced: a get or a failed cas that fits the current state and leaves
#     it as it is is placed at once, with no alternative tried at that
#     point (moving it to the front of any working order still works: it
#     changes nothing, and it was called before any pending op returned);
#   - subsumed: beside the exact memo, failed configurations are kept by
#     (completed ops, state) with how many members of each class they had
#     placed; one with as many or more of each fails as well (it has only
#     fewer unknown-outcome ops to use).
#
# Timestamps: operations whose interval end and start are equal are taken
# as concurrent (the clock cannot order them). A ret earlier than the call
# is treated as equal to the call.
#
# The search is an explicit-stack version of Porcupine's checkSingle: a
# doubly linked list of the call and return entries of the completed (and
# promoted) ops sorted by time, the classes of unknown-outcome ops beside
# it, a stack of (op, where it came from, previous state), and a memo of
# configurations: the placed completed ops (a vec() bitset, keyed compactly
# as the first unplaced op and the placed ones after it), the members of
# each class placed, and the state.
#
# Cost (one core of a laptop, 4000 ops on one key by 10 clients, random
# workload): linearizable, 3% unknown outcomes, about 0.6 s; 20%, about
# 1-4 s. A violation means exploring every alternative before it: near the
# end of such a history, 2-6 s with 3-5% unknown outcomes; with 10% the
# default memory budget runs out (undef) after ~30 s. Without unknown
# outcomes, well under a second either way. The worst case is exponential,
# hence the budgets.

use strict;
use warnings;

use Carp qw/ croak /;
use Time::HiRes qw/ time /;
use Exporter qw/ import /;

our @EXPORT_OK = qw/ check format_history format_op /;

use constant { PUT => 1, CAS => 2, DEL => 3, GET => 4 };
my %OPCODE = (put => PUT, cas => CAS, delete => DEL, get => GET);

# state array slots
use constant {
    S_EX => 0, S_VID => 1, S_IDX => 2, S_X => 3, S_B => 4, S_HW => 5,
    S_PEND => 6, S_KEY => 7,
};

###############################################################################

# check(\@history, %opts)
#   timeout     => seconds, the search budget for the whole history
#                  (default 60); when exhausted the key (and the result) is
#                  undef, "unknown"
#   memory      => MB, the memo's budget per key (default 256, estimated);
#                  when exhausted, the same
#   index_order => 1 (default) / 0, see R3 above
#   initial     => { key => { value => v, index => i } }: keys that exist
#                  before the history starts (default: all absent)
#   keys        => [ ... ]: check only these keys
#
# Returns ($ok, $info): $ok 1, 0, or undef; $info = {
#   ok, ops, states, steps, time, warnings => [ ... ],
#   key, explanation                   (the first violating key, if any)
#   unknown_keys => [ ... ]            (keys whose budget ran out)
#   keys => { key => { ok, ops, unknown_ops, states, steps, time,
#       dropped, promoted, subsumed (the pruning rules' counts), and for a
#       violation: explanation, prefix => [ ops ] (the longest
#       linearizable prefix found), op (the op that could not be placed
#       after it), state => { exists, value, index } (the state after it),
#       candidates => [ ops ] (the other ops that could come next) } } }

sub check {
    my ($history, %opts) = @_;

    croak 'check: history must be an array ref' unless ref $history eq 'ARRAY';

    my $timeout = $opts{timeout} // 60;
    my $io = $opts{index_order} // 1;
    my $t0 = time();
    my $deadline = $t0 + $timeout;

    my (%bykey, @warnings);
    for my $i (0 .. $#$history) {
        my $o = $history->[$i];
        _validate($o, $i);
        push @{$bykey{$o->{key}}}, $o;
    }

    my @keys = $opts{keys} ? grep { $bykey{$_} } @{$opts{keys}}
        : keys %bykey;
    @keys = sort { @{$bykey{$a}} <=> @{$bykey{$b}} or $a cmp $b } @keys;

    my %info = (keys => {}, ops => scalar(@$history), states => 0,
        steps => 0, warnings => \@warnings, unknown_keys => []);
    my ($bad, $unknown) = (0, 0);

    for my $k (@keys) {
        if (time() > $deadline) {
            # no budget left: the key is unknown, unchecked
            $info{keys}{$k} = { ok => undef, ops => scalar(@{$bykey{$k}}),
                states => 0, steps => 0, time => 0 };
            $unknown++;
            push @{$info{unknown_keys}}, $k;
            next;
        }

        my $r = _check_key($k, $bykey{$k}, $deadline, $io,
            $opts{initial} ? $opts{initial}{$k} : undef, \@warnings,
            $opts{memory} // 256);
        $info{keys}{$k} = $r;
        $info{states} += $r->{states};
        $info{steps} += $r->{steps};

        if (!defined $r->{ok}) {
            $unknown++;
            push @{$info{unknown_keys}}, $k;

        } elsif (!$r->{ok}) {
            if (!$bad++) {
                $info{key} = $k;
                $info{explanation} = $r->{explanation};
            }
        }
    }

    $info{time} = time() - $t0;
    $info{ok} = $bad ? 0 : $unknown ? undef : 1;
    if (!$bad && $unknown) {
        $info{explanation} = 'search budget exhausted: ' . join(', ', map {
            my $b = $info{keys}{$_}{budget} // 'time';
            "key '$_' (" . ($b eq 'time' ? "${timeout}s" : "memory, "
                . ($opts{memory} // 256) . ' MB') . ')'
        } @{$info{unknown_keys}}) . "\n";
    }

    return ($info{ok}, \%info);
}

sub _validate {
    my ($o, $i) = @_;

    croak "check: history[$i] is not a hash ref" unless ref $o eq 'HASH';
    for my $f (qw/ key op call /) {
        croak "check: history[$i] has no $f" unless defined $o->{$f};
    }
    my $t = $OPCODE{$o->{op}}
        or croak "check: history[$i]: unknown op '$o->{op}'";
    croak "check: history[$i]: $o->{op} needs a value"
        if ($t == PUT || $t == CAS) && !defined $o->{value};
    croak "check: history[$i]: cas needs expect"
        if $t == CAS && !defined $o->{expect};
    return unless defined $o->{ret};
    croak "check: history[$i]: cas needs ok"
        if $t == CAS && !defined $o->{ok};
    croak "check: history[$i]: get needs found"
        if $t == GET && !defined $o->{found};
    croak "check: history[$i]: get found needs rvalue"
        if $t == GET && $o->{found} && !defined $o->{rvalue};
    croak "check: history[$i]: a failed delete is not modelled"
        if $t == DEL && defined $o->{ok} && !$o->{ok};
}

###############################################################################

sub _check_key {
    my ($key, $ops, $deadline, $io, $init, $warnings, $memory) = @_;

    my $t0 = time();

    # unknown-outcome gets say nothing
    my @all = grep { defined $_->{ret} || $_->{op} ne 'get' } @$ops;

    # value ids, per-value write counts, observed indexes

    my (%vid, @vname);
    my $vidof = sub {
        my ($v) = @_;
        return $vid{$v} //= do { push @vname, $v; $#vname };
    };
    $vname[0] = undef;

    my (%writes, %readv, $read404);
    for my $o (@all) {
        my $t = $OPCODE{$o->{op}};
        if ($t == PUT || $t == CAS) {
            $writes{$vidof->($o->{value})}++;
        } elsif ($t == GET) {
            if ($o->{found}) {
                $readv{$vidof->($o->{rvalue})}++;
            } else {
                $read404 = 1;
            }
        }
    }

    my $init_vid = defined $init ? $vidof->($init->{value}) : 0;
    $writes{$init_vid}++ if $init_vid;

    my @dups = grep { $writes{$_} > 1 } sort { $a <=> $b } keys %writes;
    if (@dups) {
        push @$warnings, sprintf("key '%s': value(s) written more than once "
            . "(the checker assumes unique values): %s", $key,
            join(', ', map { "'$vname[$_]'" } @dups[0 .. ($#dups < 4 ? $#dups : 4)]));
    }

    # taken{idx}: the vid owning the index (a delete owns it as -1 - its
    # position); two owners for one index break R1 and R2 whatever the
    # order: the key is not linearizable
    my (%taken, %claim, %vidx, $conflict);
    my $take = sub {
        my ($i, $v, $o) = @_;
        return unless defined $i;
        $i += 0;
        if (!exists $taken{$i}) {
            $taken{$i} = $v;
            $claim{$i} = $o;
        } elsif ($taken{$i} != $v) {
            $conflict //= [$i, $claim{$i}, $o];
        }
    };

    if ($init_vid && defined $init->{index}) {
        $take->($init->{index}, $init_vid, undef);
        $vidx{$init_vid} = $init->{index};
    }
    for my $j (0 .. $#all) {
        my $o = $all[$j];
        next unless defined $o->{ret};
        my $t = $OPCODE{$o->{op}};
        if ($t == PUT || ($t == CAS && $o->{ok})) {
            my $v = $vid{$o->{value}};
            $take->($o->{index}, $v, $o);
            $vidx{$v} //= $o->{index} if defined $o->{index};
        } elsif ($t == DEL) {
            $take->($o->{index}, -1 - $j, $o);
        } elsif ($t == GET && $o->{found} && defined $o->{rindex}) {
            my $v = $vid{$o->{rvalue}};
            $take->($o->{rindex}, $v, $o);
        }
    }
    for my $o (@all) {
        next unless defined $o->{ret} && $o->{op} eq 'get' && $o->{found}
            && defined $o->{rindex};
        $vidx{$vid{$o->{rvalue}}} //= $o->{rindex};
    }

    if ($conflict) {
        my ($i, $a, $b) = @$conflict;
        my $d = sub { $_[0] ? format_op($_[0]) : 'the initial state' };
        return {
            ok => 0, ops => scalar(@$ops), unknown_ops => 0, dropped => 0,
            states => 0, steps => 0, time => time() - $t0,
            prefix => [], op => $b, state => undef, candidates => [],
            explanation => sprintf("key '%s': not linearizable (%d ops): "
                . "index %s belongs to two different writes (one log entry "
                . "is one write):\n    %s\n    %s\n", $key, scalar(@$ops),
                $i, $d->($a), $d->($b)),
        };
    }

    # drop unknown-outcome writes that can have no visible effect

    # the ends of all the cas (ret, +inf if unknown), latest first
    my @cas_ends = sort { $b <=> $a }
        map { defined $_->{ret} ? $_->{ret} : 9**9**9 }
        grep { $_->{op} eq 'cas' } @all;

    my (@list, $dropped);
    for my $o (@all) {
        if (!defined $o->{ret} && $o->{op} ne 'get') {
            my $t = $OPCODE{$o->{op}};
            my $seen = $t == DEL ? $read404
                : $readv{$vid{$o->{value}}};
            if (!$seen) {
                # a cas other than this one that may take effect after it
                my $n = 0;
                for my $end (@cas_ends) {
                    last if $end < $o->{call};
                    $n++;
                }
                $n-- if $t == CAS;
                if ($n <= 0) {
                    $dropped++;
                    next;
                }
            }
        }
        push @list, $o;
    }

    # per-op arrays; op ids follow call order
    #
    # Unknown-outcome puts and cas whose value a get read must have taken
    # effect (as a success) before the earliest such get returned: they are
    # "promoted", placed like completed operations with that deadline ($DL).
    # The other unknown-outcome writes get a class ($CLS): two of a class
    # have the same effect on every state (an unread value stands for all
    # unread values: $opaque), so when several are candidates at one point,
    # trying one of them is enough.

    @list = sort { $a->{call} <=> $b->{call} } @list;

    my %readdl;     # vid -> the earliest ret of a get that read it
    for my $o (@all) {
        next unless $o->{op} eq 'get' && $o->{found};
        my $v = $vid{$o->{rvalue}};
        $readdl{$v} = $o->{ret}
            if !defined $readdl{$v} || $o->{ret} < $readdl{$v};
    }
    push @vname, '<a value no read saw>';
    my $opaque = $#vname;

    my $n = @list;
    my (@T, @KN, @V, @E, @I, @OK, @F, @RV, @RI, @DL, @CLS);
    my ($known, $promoted) = (0, 0);
    for my $i (0 .. $n - 1) {
        my $o = $list[$i];
        my $t = $T[$i] = $OPCODE{$o->{op}};
        $KN[$i] = defined $o->{ret} ? 1 : 0;
        $DL[$i] = $o->{ret};
        $V[$i] = defined $o->{value} ? $vid{$o->{value}} : 0;
        $E[$i] = 0 + ($o->{expect} // 0);
        # the write's index: its own, else the one reads saw for its value
        $I[$i] = $o->{index}
            // ($V[$i] && $writes{$V[$i]} == 1 ? $vidx{$V[$i]} : undef);
        $I[$i] += 0 if defined $I[$i];
        $OK[$i] = $o->{ok} // 1;
        $F[$i] = $o->{found} ? 1 : 0;
        $RV[$i] = $F[$i] ? $vid{$o->{rvalue}} : 0;
        $RI[$i] = defined $o->{rindex} ? 0 + $o->{rindex} : undef;

        if (!$KN[$i]) {
            if ($t == DEL) {
                $CLS[$i] = 'D';
            } elsif (defined $readdl{$V[$i]} && $writes{$V[$i]} == 1) {
                $KN[$i] = 1;
                $DL[$i] = $readdl{$V[$i]};
                $OK[$i] = 1;
                $promoted++;
            } elsif (!$readv{$V[$i]}) {
                $V[$i] = $opaque;
                $CLS[$i] = $t == PUT ? 'P' : "C$E[$i]";
            } else {
                $CLS[$i] = "U$i";   # a value read, written more than once
            }
        }
        $known += $KN[$i];
    }

    # the classes: each a queue of its members by call time; members of a
    # class are placed in that order (any linearization using a later one
    # where an earlier one is still unplaced works as well with the earlier
    # one there, it was called before), so at any point the candidate of a
    # class is its first unplaced member, if it was called before the first
    # pending return
    my (%cls, @CQ);
    for my $i (sort { $list[$a]{call} <=> $list[$b]{call} || $a <=> $b }
        grep { !$KN[$_] } 0 .. $n - 1)
    {
        my $k = $cls{$CLS[$i]} //= do { push @CQ, []; $#CQ };
        push @{$CQ[$k]}, $i;
    }
    my @CALL = map { $_->{call} } @list;
    my @cptr = (0) x @CQ;
    my @CASK = grep { defined } map { $cls{$_} }
        grep { /^C[1-9]/ } keys %cls;
    my @UK = map { $cls{$_} } grep { /^U/ } keys %cls;
    # (an unread value's unknown index can only be bound to an index no
    # one else owns)
    my @CASK_free = grep { !exists $taken{substr($CLS[$CQ[$_][0]], 1)} }
        @CASK;

    # the classes worth trying on state $s, past class $after: a put, a
    # delete, a create, a cas expecting the state's index, any cas when
    # that index is unknown, the odd ones
    my $classes = sub {
        my ($s, $after) = @_;
        my @l = grep { defined } map { $cls{$_} } 'P', 'D', 'C0',
            $s->[S_EX] && defined $s->[S_IDX] ? "C$s->[S_IDX]" : ();
        push @l, $s->[S_VID] == $opaque ? @CASK_free : @CASK
            if $s->[S_EX] && !defined $s->[S_IDX];
        push @l, @UK;
        return [ sort { $a <=> $b } grep { $_ > $after } @l ];
    };

    # entries: 1 .. m, 0 is the head; calls and known returns sorted by
    # time, a call before a return at the same time

    my @ent;
    for my $i (grep { $KN[$_] } 0 .. $n - 1) {
        my $o = $list[$i];
        my $r = $DL[$i] < $o->{call} ? $o->{call} : $DL[$i];
        push @ent, [$o->{call}, 0, $i], [$r, 1, $i];
    }
    @ent = sort { $a->[0] <=> $b->[0] || $a->[1] <=> $b->[1]
        || $a->[2] <=> $b->[2] } @ent;

    my (@eop, @eret, @etime, @ematch, @next, @prev, @callent);
    my $m = @ent;
    for my $j (1 .. $m) {
        my ($tm, $isret, $i) = @{$ent[$j - 1]};
        $eop[$j] = $i;
        $etime[$j] = $tm;
        $eret[$j] = $isret;
        if ($isret) {
            $ematch[$callent[$i]] = $j;
        } else {
            $callent[$i] = $j;
        }
        $next[$j] = $j < $m ? $j + 1 : 0;
        $prev[$j] = $j - 1;
    }
    $next[0] = $m ? 1 : 0;
    $prev[0] = $m;

    # MX[i]: the last op called before completed op i's deadline; while i
    # is unplaced no op past MX[i] can have been placed
    my @MX;
    {
        my $j = 0;
        my @rt = map { $KN[$_] && $DL[$_] > $CALL[$_] ? $DL[$_] : $CALL[$_] }
            0 .. $n - 1;
        for my $i (sort { $rt[$a] <=> $rt[$b] } grep { $KN[$_] } 0 .. $n - 1) {
            $j++ while $j < $n && $CALL[$j] <= $rt[$i];
            $MX[$i] = $j - 1;
        }
    }

    # the indexes an unknown index may be bound to: a failed cas on an
    # unknown-index state only needs to remember the ones in here
    my %bindable;
    for my $i (0 .. $n - 1) {
        if ($T[$i] == CAS && $E[$i] && ($OK[$i] || !$KN[$i])) {
            $bindable{$E[$i]} = 1;
        } elsif ($T[$i] == GET && defined $RI[$i]) {
            $bindable{$RI[$i]} = 1;
        }
    }

    # the step function: the state after op $i on state $s, or undef

    my $forbidden = sub {   # index $e may not be v's index
        my ($e, $v, $s) = @_;
        return 1 if exists $taken{$e} && $taken{$e} != $v;
        return 1 if index($s->[S_X], ",$e,") >= 0;
        return 1 if index($s->[S_B], ",$e,") >= 0;
        return 1 if $io && $e <= $s->[S_HW];
        return 0;
    };
    my $add = sub {         # add $e to a ",a,b," set
        my ($set, $e) = @_;
        my @l = (split(/,/, $set), $e);
        return ',' . join(',', sort { $a <=> $b } grep { length } @l) . ',';
    };

    my $pure;       # set by $step: the op left the state as it was

    my $step = sub {
        my ($s, $i) = @_;
        my $t = $T[$i];
        my $kn = $KN[$i];
        $pure = 0;

        if ($t == GET) {
            if (!$F[$i]) {
                return undef if $s->[S_EX];
                $pure = 1;
                return [@$s[0 .. 5], 0];
            }
            return undef unless $s->[S_EX] && $s->[S_VID] == $RV[$i];
            my $ri = $RI[$i];
            if (!defined $ri) {
                $pure = 1;
                return [@$s[0 .. 5], 0];
            }
            my $idx = $s->[S_IDX];
            if (defined $idx) {
                return undef unless $idx == $ri;
                $pure = 1;
                return [@$s[0 .. 5], 0];
            }
            return undef if $forbidden->($ri, $s->[S_VID], $s);
            return [1, $s->[S_VID], $ri, '', $s->[S_B],
                $io ? $ri : 0, 0];
        }

        if ($t == PUT || $t == DEL) {
            return undef if $s->[S_PEND];
            return undef if $t == DEL && !$kn && !$s->[S_EX];

            my $hw = $s->[S_HW];
            my $idx = $I[$i];
            if ($io && defined $idx) {
                return undef if $idx <= $hw;
                $hw = $idx;
            }
            my $pend = $kn ? 0 : $t == DEL || $V[$i] == $opaque ? $s : 1;
            return $t == PUT
                ? [1, $V[$i], $idx, '', $s->[S_B], $hw, $pend]
                : [0, 0, undef, '', $s->[S_B], $hw, $pend];
        }

        # cas
        my $e = $E[$i];
        my ($can_ok, $can_fail, $bind) = (0, 0, 0);
        if ($e == 0) {
            $can_ok = !$s->[S_EX];
            $can_fail = !$can_ok;
        } elsif (!$s->[S_EX]) {
            $can_fail = 1;
        } elsif (defined $s->[S_IDX]) {
            $can_ok = $s->[S_IDX] == $e;
            $can_fail = !$can_ok;
        } else {
            $can_fail = 1;
            if (!$forbidden->($e, $s->[S_VID], $s)) {
                $can_ok = 1;
                $bind = 1;
            }
        }

        if ($kn && !$OK[$i]) {
            return undef unless $can_fail;
            if ($s->[S_EX] && !defined $s->[S_IDX] && $e != 0
                && $bindable{$e} && !$forbidden->($e, $s->[S_VID], $s))
            {
                return [1, $s->[S_VID], undef, $add->($s->[S_X], $e),
                    $s->[S_B], $s->[S_HW], 0];
            }
            $pure = 1;
            return [@$s[0 .. 5], 0];
        }

        return undef unless $can_ok;

        my $hw = $s->[S_HW];
        my $b = $s->[S_B];
        if ($bind) {
            $b = $add->($b, $e) unless exists $taken{$e};
            $hw = $e if $io;
        }
        my $idx = $I[$i];
        if ($io && defined $idx) {
            return undef if $idx <= $hw;
            $hw = $idx;
        }
        my $pend = $kn ? 0 : $V[$i] == $opaque && !$bind ? $s : 1;
        return [1, $V[$i], $idx, '', $b, $hw, $pend];
    };

    # whether state $n allows no more than $s: same register, and its sets
    # of excluded and bound indexes, last index, pend flag, no smaller
    my $narrows = sub {
        my ($n, $s) = @_;
        return 0 unless $n->[S_EX] == $s->[S_EX] && $n->[S_VID] == $s->[S_VID]
            && ($n->[S_IDX] // -1) == ($s->[S_IDX] // -1)
            && $n->[S_HW] >= $s->[S_HW];
        # pend: 0 allows all, 1 gets and cas, a state the gets and cas that
        # do not fit that state
        return 0 if ref $s->[S_PEND] || ($s->[S_PEND] && !$n->[S_PEND]);
        for my $f (S_X, S_B) {
            for my $x (split /,/, $s->[$f]) {
                next unless length $x;
                return 0 if index($n->[$f], ",$x,") < 0;
            }
        }
        return 1;
    };

    my $skey;
    $skey = sub {
        my ($s) = @_;
        my $p = $s->[S_PEND];
        return $s->[S_KEY] //= join(':', $s->[S_EX], $s->[S_VID],
            $s->[S_IDX] // '?', $s->[S_X], $s->[S_B], $s->[S_HW],
            ref $p ? '(' . $skey->($p) . ')' : $p);
    };

    # the search

    my $init_state = $init_vid
        ? [1, $init_vid, $init->{index}, '', '', ($io && $init->{index}) || 0, 0]
        : [0, 0, undef, '', '', 0, 0];

    my $state = $init_state;
    my $bits = "\0" x (($n >> 3) + 1);    # the placed completed ops
    my %memo;
    my $nfail = 0;
    my $max_entries = int($memory * 1048576 / 650);   # measured, roughly
    my $budget;
    my $remaining = $known;
    my $steps = 0;
    my $ok;

    # the stack: the op placed, the list entry it came from (or -1 - its
    # class), the state before, whether it was forced
    my (@st_i, @st_e, @st_s, @st_f);

    my ($best, $dirty) = (-1, 1);
    my (@best_prefix, $best_state, $best_block, @best_cand);

    # Reads and failed cas that fit the current state and leave it as it
    # is are placed first, without trying the other candidates at that
    # point ("forced"): if some order of the candidates works, moving such
    # an op to the front still works (it changes nothing, and it may come
    # first: it is a candidate, so it was called before any of the pending
    # operations returned).

    my $e;              # scan: a list entry, 0 once at the first return
    my ($cl, $tr);      # then: the classes to try, the first return's time
    my $fresh = 1;      # at a configuration not looked at yet

    # right after a run of unknown-outcome puts, deletes, and cas of unread
    # values (that bound no index), only an op that would fit none of the
    # states before them may come: the "need" rule (see the pruning notes)
    my $needless = sub {
        my ($i) = @_;
        for (my $pre = $state->[S_PEND]; ref $pre; $pre = $pre->[S_PEND]) {
            return 1 if $step->($pre, $i);
        }
        return 0;
    };

    # an unknown delete then an unknown create of an unread value do what one
    # unknown put of an unread value does; when one of those can come, the
    # pair is not tried (a linearization using the pair there works with
    # the put there instead, and the pair, or the create alone on an absent
    # key, wherever it used that put later)
    my ($kp, $kc0) = ($cls{P}, $cls{C0} // -1);
    my $d_then_p = sub {
        my $pre = $state->[S_PEND];
        return 0 unless !$state->[S_EX] && ref $pre && $pre->[S_EX]
            && defined $kp;
        my $j = $CQ[$kp][$cptr[$kp]];
        return defined $j && $CALL[$j] <= $tr;
    };

    my $first_ret = sub {
        my $c = $next[0];
        $c = $next[$c] while $c && !$eret[$c];
        return $c;
    };

    # Memo: %memo holds every configuration seen (the placed completed ops,
    # the members of each class placed, the state); a configuration is seen
    # only once along a path, so seeing it again means it failed. %fail
    # holds the failed ones by (placed completed ops, state), with how many
    # members of each class they had placed: a configuration with the same
    # completed ops and state that has placed at least as many of every
    # class has fewer unknown-outcome ops left to use, and fails as well.

    my %used;           # class -> members placed, the nonzero ones
    my %fail;
    my $pruned = 0;

    # The placed completed ops, compactly: every one called before the
    # first unplaced one m is placed (m is the first call entry in the
    # list), and the placed ones after it were called before m's deadline
    # (m was pending when they were placed): m and those.
    my $kset = sub {
        my $c = $next[0];
        return '' unless $c;
        my $m = $eop[$c];
        my $k = $m;
        for my $j ($m + 1 .. $MX[$m]) {
            $k .= ",$j" if vec($bits, $j, 1);
        }
        return $k;
    };
    my $us = '';        # %used as a string
    my $uset = sub {
        $us = join(',', map { "$_:$used{$_}" } sort { $a <=> $b } keys %used);
    };

    my $place = sub {
        my ($i, $from) = @_;
        if ($from > 0) {
            $remaining--;
            vec($bits, $i, 1) = 1;
            my $c = $from;
            $next[$prev[$c]] = $next[$c];
            $prev[$next[$c]] = $prev[$c];
            my $r = $ematch[$c];
            $next[$prev[$r]] = $next[$r];
            $prev[$next[$r]] = $prev[$r];
        } else {
            my $k = -1 - $from;
            $cptr[$k]++;
            $used{$k}++;
            $uset->();
        }
    };
    my $unplace = sub {
        my ($i, $from) = @_;
        if ($from > 0) {
            $remaining++;
            vec($bits, $i, 1) = 0;
            my $r = $ematch[$from];
            $prev[$next[$r]] = $r;
            $next[$prev[$r]] = $r;
            $prev[$next[$from]] = $from;
            $next[$prev[$from]] = $from;
        } else {
            my $k = -1 - $from;
            $cptr[$k]--;
            delete $used{$k} unless --$used{$k};
            $uset->();
        }
    };

    my $try = sub {     # place op $i if new; 1 if placed
        my ($i, $from, $ns, $forced) = @_;

        $place->($i, $from);
        my $ks = $kset->() . '|' . $skey->($ns);
        my $pr = $memo{$ks . '|' . $us}++;
        if (!$pr && (my $f = $fail{$ks})) {
            F: for my $u (@$f) {
                for (my $j = 0; $j < @$u; $j += 2) {
                    next F if $cptr[$u->[$j]] < $u->[$j + 1];
                }
                $pruned++;
                $pr = 1;
                last;
            }
        }
        if ($pr) {
            $unplace->($i, $from);
            return 0;
        }

        push @st_i, $i;
        push @st_e, $from;
        push @st_s, $state;
        push @st_f, $forced;
        $state = $ns;
        if (@st_i > $best) {
            $best = @st_i;
            $dirty = 1;
        }
        $fresh = 1;
        return 1;
    };

    LOOP: while (1) {
        if ($remaining == 0) {
            $ok = 1;
            last;
        }

        if (!(++$steps & 255)) {
            $budget = time() > $deadline ? 'time'
                : keys(%memo) + $nfail > $max_entries ? 'memory' : undef;
            if ($budget) {
                $ok = undef;
                last;
            }
        }

        if ($fresh) {
            $fresh = 0;
            $e = $next[0];

            my ($fc, $fs);
            for (my $c = $e; $c && !$eret[$c]; $c = $next[$c]) {
                my $i = $eop[$c];
                next unless $T[$i] == GET || ($T[$i] == CAS && !$OK[$i]);
                next if $needless->($i);
                my $ns = $step->($state, $i) or next;
                next unless $pure;
                ($fc, $fs) = ($c, $ns);
                last;
            }

            if ($fc) {
                next if $try->($eop[$fc], $fc, $fs, 1);
                # seen already, and it failed: so does this configuration
                $e = 0;
                $cl = [];
            }
        }

        if ($e) {
            if ($eret[$e]) {
                # the first pending return: on to the classes
                $tr = $etime[$e];
                $e = 0;
                $cl = $classes->($state, -1);
                next;
            }

            my $i = $eop[$e];
            my $ns = !$needless->($i) && $step->($state, $i);
            next if $ns && $try->($i, $e, $ns, 0);
            $e = $next[$e];
            next;
        }

        if (@$cl) {
            my $k = shift @$cl;
            my $q = $CQ[$k];
            my $p = $cptr[$k];
            if ($p < @$q && $CALL[$q->[$p]] <= $tr
                && !($k == $kc0 && $d_then_p->()))
            {
                my $i = $q->[$p];
                my $ns = !$needless->($i) && $step->($state, $i);
                # (an unknown-outcome op that only narrows what the state
                # allows is useless there: not placing it does better)
                next if $ns && !$narrows->($ns, $state)
                    && $try->($i, -1 - $k, $ns, 0);
            }
            next;
        }

        # no candidate works: backtrack

        if ($dirty) {
            $dirty = 0;
            @best_prefix = @st_i;
            $best_state = $state;
            my $c;
            @best_cand = ();
            for ($c = $next[0]; $c && !$eret[$c]; $c = $next[$c]) {
                push @best_cand, $eop[$c];
            }
            $best_block = $c ? $eop[$c] : undef;
            my $t = $c ? $etime[$c] : 9**9**9;
            for my $j (0 .. $#CQ) {
                my $i = $CQ[$j][$cptr[$j]];
                push @best_cand, $i if defined $i && $CALL[$i] <= $t;
            }
        }

        while (1) {
            if (!@st_i) {
                $ok = 0;
                last LOOP;
            }

            # the configuration left failed
            push @{$fail{$kset->() . '|' . $skey->($state)}}, [ %used ];
            $nfail++;

            my $i = pop @st_i;
            my $from = pop @st_e;
            $state = pop @st_s;
            my $forced = pop @st_f;
            $unplace->($i, $from);

            if ($from > 0) {
                next if $forced;
                $e = $next[$from];
            } else {
                my $k = -1 - $from;
                $cl = $classes->($state, $k);
                $e = 0;
                my $c = $first_ret->();
                $tr = $etime[$c];
            }
            last;
        }
    }

    my %r = (
        ok => $ok, ops => scalar(@$ops),
        unknown_ops => scalar(grep { !defined $_->{ret} } @$ops),
        dropped => $dropped // 0, promoted => $promoted,
        states => scalar(keys %memo), subsumed => $pruned,
        budget => $budget,
        steps => $steps, time => time() - $t0,
    );

    if (defined $ok && !$ok) {
        my $sdesc = sub { _state_desc($_[0], \@vname) };
        $r{prefix} = [ map { $list[$_] } @best_prefix ];
        $r{state} = _state_hash($best_state, \@vname);
        $r{op} = defined $best_block ? $list[$best_block] : undef;
        $r{candidates} = [ map { $list[$_] } @best_cand ];

        my $x = sprintf("key '%s': not linearizable (%d ops, %d with "
            . "unknown outcome).\n", $key, scalar(@$ops), $r{unknown_ops});
        $x .= sprintf("  longest linearizable prefix: %d op(s)%s\n",
            scalar(@best_prefix),
            @best_prefix > 6 ? ', the last 6:' : @best_prefix ? ':' : '');
        for my $p (@best_prefix > 6 ? @best_prefix[-6 .. -1] : @best_prefix) {
            $x .= '    ' . format_op($list[$p]) . "\n";
        }
        $x .= '  state after it: ' . $sdesc->($best_state) . "\n";
        if (defined $best_block) {
            my $o = $list[$best_block];
            $x .= '  cannot place: ' . format_op($o) . "\n";
            $x .= '    ' . _why($o, $best_state, \@vname, \%writes, \%vid)
                . "\n";
        }
        my @other = grep { !defined $best_block || $_ != $best_block }
            @best_cand;
        if (@other) {
            $x .= "  other candidates there (none fits or all lead to a "
                . "dead end):\n";
            my $c = 0;
            for my $p (@other) {
                if (++$c > 6) {
                    $x .= sprintf("    ... and %d more\n", @other - 6);
                    last;
                }
                $x .= '    ' . format_op($list[$p]) . "\n";
            }
        }
        $r{explanation} = $x;
    }

    return \%r;
}

sub _state_hash {
    my ($s, $vname) = @_;
    return { exists => 0 } unless $s->[S_EX];
    return { exists => 1, value => $vname->[$s->[S_VID]],
        index => $s->[S_IDX] };
}

sub _state_desc {
    my ($s, $vname) = @_;
    return 'absent' unless $s->[S_EX];
    my $d = sprintf("'%s' at index %s", _short($vname->[$s->[S_VID]]),
        $s->[S_IDX] // '? (unknown)');
    $d .= " (index is none of $s->[S_X])" if length $s->[S_X];
    return $d;
}

sub _why {
    my ($o, $s, $vname, $writes, $vid) = @_;

    my $st = _state_desc($s, $vname);
    my $op = $o->{op};

    if (!defined $o->{ret}) {
        return "its outcome is unknown but a get read its value, so it "
            . "must take effect (and succeed) before that get returned; the "
            . "state is $st and no order of the concurrent operations works";
    }

    if ($op eq 'get') {
        if ($o->{found} && !$writes->{$vid->{$o->{rvalue}}}) {
            return "it read '" . _short($o->{rvalue})
                . "', which no operation wrote";
        }
        return "it read " . ($o->{found}
            ? sprintf("'%s' at index %s", _short($o->{rvalue}),
                $o->{rindex} // '?')
            : '404') . ", the state is $st, and no order of the "
            . "concurrent operations makes them agree";
    }
    if ($op eq 'cas') {
        return sprintf("cas expecting %s answered %s, the state is %s",
            $o->{expect}, $o->{ok} ? 'true' : 'false', $st);
    }
    return "$op must take effect before it returned; the state is $st"
        . " and no order of the concurrent operations works";
}

###############################################################################

sub _short {
    my ($v) = @_;
    return 'undef' unless defined $v;
    $v =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord($1))/ge;
    return length $v > 40 ? substr($v, 0, 37) . '...' : $v;
}

# format_op($op): one line, e.g.
#   c1 [1.200000 1.350000] put k='v1' -> #12
#   c2 [1.300000 ?] cas k expect 12 'v2' -> unknown
#   c3 [1.400000 1.500000] get k -> 'v2' #14
sub format_op {
    my ($o) = @_;

    my $r = defined $o->{ret} ? sprintf('%.6f', $o->{ret}) : '?';
    my $s = sprintf('%s [%.6f %s] %s %s', $o->{client} // '-', $o->{call},
        $r, $o->{op}, _short($o->{key}));
    my $known = defined $o->{ret};
    my $ix = sub { defined $_[0] ? " #$_[0]" : '' };

    if ($o->{op} eq 'put') {
        $s .= "='" . _short($o->{value}) . "' -> "
            . ($known ? 'ok' . $ix->($o->{index}) : 'unknown');
    } elsif ($o->{op} eq 'cas') {
        $s .= " expect $o->{expect} '" . _short($o->{value}) . "' -> "
            . (!$known ? 'unknown'
                : $o->{ok} ? 'true' . $ix->($o->{index}) : 'false');
    } elsif ($o->{op} eq 'delete') {
        $s .= ' -> ' . ($known ? 'ok' . $ix->($o->{index}) : 'unknown');
    } else {
        $s .= ' -> ' . (!$known ? 'unknown'
            : $o->{found} ? "'" . _short($o->{rvalue}) . "'"
                . $ix->($o->{rindex})
            : '404');
    }
    return $s;
}

# format_history(\@history, key => k, around => $op, context => 20,
#     max => 200): the operations sorted by call time, one a line; key
#     restricts to one key; around (an op hashref, e.g. $info->{keys}{k}{op})
#     shows only `context` ops either side of it, marked with '>'.
sub format_history {
    my ($history, %opts) = @_;

    my @ops = sort { $a->{call} <=> $b->{call} }
        grep { !defined $opts{key} || $_->{key} eq $opts{key} } @$history;

    my ($from, $to) = (0, $#ops);
    my $mark;
    if ($opts{around}) {
        my $c = $opts{context} // 20;
        for my $j (0 .. $#ops) {
            next unless $ops[$j] == $opts{around};
            $mark = $j;
            $from = $j - $c < 0 ? 0 : $j - $c;
            $to = $j + $c > $#ops ? $#ops : $j + $c;
            last;
        }
    }
    my $max = $opts{max} // 200;

    my $s = '';
    $s .= "  ... (" . $from . " earlier)\n" if $from > 0;
    my $c = 0;
    for my $j ($from .. $to) {
        if (++$c > $max) {
            $s .= '  ... (' . ($to - $j + 1) . " more)\n";
            return $s;
        }
        $s .= (defined $mark && $j == $mark ? '> ' : '  ')
            . format_op($ops[$j]) . "\n";
    }
    $s .= "  ... (" . ($#ops - $to) . " later)\n" if $to < $#ops;
    return $s;
}

1;
