#!/usr/bin/perl

# nacre: the consensus process and its durable log on a standalone node:
# a torn tail is repaired at start, a flipped byte in the middle of the
# log is refused with the file and the offset, and the daemon goes on
# serving reads from what it has meanwhile.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new();

$t->write_file_expand('nacre.yaml', <<'EOF')->plan(16);
daemon: false
worker_processes: 1
auth:
  enabled: false              # this file tests the store, t/auth.t tests auth
api:
  listen: 127.0.0.1:%%PORT_8848%%
EOF

sub put {
    my ($k, $v) = @_;
    my (undef, undef, $b) = parse_response(http_post("/v1/kv/$k", $v,
        method => 'PUT', content_type => 'application/octet-stream'));
    return $b // '';
}

sub get {
    my ($k) = @_;
    my ($st, undef, $b) = parse_response(http_get("/v1/kv/$k?raw"));
    return ($st // 0) == 200 ? $b : undef;
}

my $wal = $t->prefix() . '/data/raft/wal/0000000000000001.wal';

$t->run();
ok($t->wait_ready(), 'ready');

my $n = grep { put("k/$_", "value $_") eq 'true' } 1 .. 20;
is($n, 20, 'twenty writes acknowledged');

$t->stop();

ok(-s $wal, 'the log segment exists');

###############################################################################

# a torn tail: the last record loses its end, as a crash mid-write does

open my $fh, '+<', $wal or die "open $wal: $!";
binmode $fh;
my $data = do { local $/; <$fh> };
my $end = rindex($data, 'NCRE');
ok($end > 0, 'found the end of the last record');

# zero the record from its middle through its end tag
my $start = $end - 16;
seek $fh, $start, 0;
print $fh "\0" x ($end + 4 - $start);
close $fh;

my $off = $t->log_offset();
$t->run();
ok($t->wait_ready(), 'starts after a torn tail');
ok($t->wait_for_log(qr/torn/, 5, $off), 'the repair is logged');

is(scalar(grep { defined get("k/$_") } 1 .. 19), 19,
    'every earlier record is there');
# the node leads again once it has applied its log
ok($t->wait_until(sub { put('k/after-repair', 'yes') eq 'true' }),
    'writes go on after the repair');
is(get('k/after-repair'), 'yes', 'and read back');

$t->stop();

###############################################################################

# a flipped byte in the middle of the log: corruption, refused loudly

open $fh, '+<', $wal or die "open $wal: $!";
binmode $fh;
$data = do { local $/; <$fh> };
my $victim = index($data, 'value 5');
ok($victim > 0, 'found a record in the middle of the log');
seek $fh, $victim, 0;
print $fh 'V';
close $fh;

$off = $t->log_offset();
$t->run();

ok($t->wait_for_log(qr/\[emerg\].*\Q0000000000000001.wal\E.*offset/, 10,
    $off), 'the refusal names the file and the offset');
ok($t->wait_for_log(qr/consensus process \d+ exited with fatal code 2/, 10,
    $off), 'the consensus process is not respawned');

my ($st) = parse_response(http_get('/nacos/v1/console/health/readiness'));
is($st, 503, 'not ready');
($st) = parse_response(http_get('/nacos/v1/console/health/liveness'));
is($st, 200, 'but alive');

my ($pst, undef, $pb) = parse_response(http_post('/v1/kv/x', 'y',
    method => 'PUT', content_type => 'application/octet-stream'));
is($pst, 503, 'writes are refused with 503');

$t->stop();

# the damaged file is left as it was for the operator
open $fh, '<', $wal or die "open $wal: $!";
binmode $fh;
$data = do { local $/; <$fh> };
close $fh;
is(substr($data, $victim, 7), 'Value 5', 'the log is not "repaired"');

###############################################################################
