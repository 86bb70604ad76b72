#!/usr/bin/perl

# nacre: the Consul-shaped KV API on a standalone node: writes through the
# consensus process, reads from the store, cas, recurse, keys, blocking
# queries, bad input, and durability across restarts and a killed
# consensus process.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;

use JSON::PP;
use MIME::Base64;
use Time::HiRes qw/ time /;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new();

$t->write_file_expand('nacre.yaml', <<'EOF')->plan(71);
daemon: false
worker_processes: 2
auth:
  enabled: false              # this file tests the store, t/auth.t tests auth
api:
  listen: 127.0.0.1:%%PORT_8848%%
EOF

$t->run();
ok($t->wait_ready(), 'ready: the store is loaded');

my $json = JSON::PP->new->canonical;

sub req {
    my ($method, $uri, $body) = @_;
    my $raw = defined $body
        ? http_post($uri, $body, method => $method,
              content_type => 'application/octet-stream')
        : http(Test::Nacre::_request($method, $uri));
    return parse_response($raw);
}

sub kv {
    my ($uri) = @_;
    my ($st, $h, $b) = req('GET', $uri);
    return ($st, $h, $st == 200 ? $json->decode($b) : $b);
}

###############################################################################

# put, get, raw

my ($st, $h, $b) = req('PUT', '/v1/kv/app/db/url', 'postgres://db:5432');
is($st, 200, 'put status');
is($b, 'true', 'put answers true');
like($h->{'x-consul-index'} // '', qr/^\d+$/, 'put carries an index');
my $put_index = $h->{'x-consul-index'};

($st, $h, $b) = kv('/v1/kv/app/db/url');
is($st, 200, 'get after put, at once');
is(scalar @$b, 1, 'one entry');
is($b->[0]{Key}, 'app/db/url', 'Key');
is(decode_base64($b->[0]{Value}), 'postgres://db:5432', 'Value in base64');
is($b->[0]{Flags}, 0, 'Flags');
is($b->[0]{ModifyIndex}, $put_index, 'ModifyIndex is the write index');
is($b->[0]{CreateIndex}, $put_index, 'CreateIndex');
is($h->{'x-consul-index'}, $put_index, 'X-Consul-Index');

($st, $h, $b) = req('GET', '/v1/kv/app/db/url?raw');
is($st, 200, 'raw status');
is($b, 'postgres://db:5432', 'raw value');

# update keeps CreateIndex, moves ModifyIndex; flags

($st, $h, $b) = req('PUT', '/v1/kv/app/db/url?flags=42', 'mysql://db');
is($b, 'true', 'update');
($st, $h, $b) = kv('/v1/kv/app/db/url');
is($b->[0]{CreateIndex}, $put_index, 'CreateIndex kept');
cmp_ok($b->[0]{ModifyIndex}, '>', $put_index, 'ModifyIndex moved');
is($b->[0]{Flags}, 42, 'flags stored');
my $mod = $b->[0]{ModifyIndex};

# binary and empty values

my $bin = join('', map { chr } 0 .. 255) x 4;
($st, $h, $b) = req('PUT', '/v1/kv/bin', $bin);
is($b, 'true', 'binary put');
($st, $h, $b) = req('GET', '/v1/kv/bin?raw');
ok($b eq $bin, 'binary round trip');

($st, $h, $b) = req('PUT', '/v1/kv/empty', '');
is($b, 'true', 'empty put');
($st, $h, $b) = kv('/v1/kv/empty');
ok(!defined $b->[0]{Value}, 'empty value is null');

# missing keys

($st, $h, $b) = req('GET', '/v1/kv/nope');
is($st, 404, 'missing key is 404');
like($h->{'x-consul-index'} // '', qr/^\d+$/, '404 carries an index');

# cas

($st, $h, $b) = req('PUT', "/v1/kv/app/db/url?cas=1", 'x');
is($b, 'false', 'cas with a stale index fails');
($st, $h, $b) = req('GET', '/v1/kv/app/db/url?raw');
is($b, 'mysql://db', 'failed cas changed nothing');

($st, $h, $b) = req('PUT', "/v1/kv/app/db/url?cas=$mod", 'redis://r');
is($b, 'true', 'cas with the current index succeeds');

($st, $h, $b) = req('PUT', '/v1/kv/lock?cas=0', 'mine');
is($b, 'true', 'cas=0 creates');
($st, $h, $b) = req('PUT', '/v1/kv/lock?cas=0', 'theirs');
is($b, 'false', 'cas=0 on an existing key fails');

# recurse and keys

req('PUT', "/v1/kv/app/$_", "v$_") for qw/ a b c/;
req('PUT', '/v1/kv/app/sub/x', 'x');
req('PUT', '/v1/kv/apple', 'fruit');

($st, $h, $b) = kv('/v1/kv/app/?recurse');
is($st, 200, 'recurse status');
is(join(',', map { $_->{Key} } @$b),
    'app/a,app/b,app/c,app/db/url,app/sub/x', 'recurse: sorted, in prefix');

($st, $h, $b) = kv('/v1/kv/app?keys');
is(join(',', @$b), 'app/a,app/b,app/c,app/db/url,app/sub/x,apple',
    'keys');

($st, $h, $b) = kv('/v1/kv/app/?keys&separator=/');
is(join(',', @$b), 'app/a,app/b,app/c,app/db/,app/sub/',
    'keys with a separator fold subtrees');

($st) = req('GET', '/v1/kv/zzz/?recurse');
is($st, 404, 'recurse on an empty prefix is 404');

# delete, delete with cas, delete recurse

($st, $h, $b) = req('DELETE', '/v1/kv/app/a');
is($b, 'true', 'delete');
($st) = req('GET', '/v1/kv/app/a');
is($st, 404, 'deleted key is gone');

($st, $h, $b) = req('DELETE', '/v1/kv/never-was');
is($b, 'true', 'deleting a missing key succeeds');

($st, $h, $b) = kv('/v1/kv/app/b');
($st, undef, $b) = req('DELETE', '/v1/kv/app/b?cas=1');
is($b, 'false', 'delete with a stale cas fails');
($st, $h, $b) = kv('/v1/kv/app/b');
($st, undef, $b) = req('DELETE', "/v1/kv/app/b?cas=$b->[0]{ModifyIndex}");
is($b, 'true', 'delete with the current cas');

($st, $h, $b) = req('DELETE', '/v1/kv/app/?recurse');
is($b, 'true', 'delete recurse');
($st) = req('GET', '/v1/kv/app/?recurse');
is($st, 404, 'the subtree is gone');
($st, $h, $b) = req('GET', '/v1/kv/apple?raw');
is($b, 'fruit', 'a sibling outside the prefix stays');

###############################################################################

# bad input: a clear error, the daemon keeps serving

($st, $h, $b) = req('PUT', '/v1/kv/', 'x');
is($st, 400, 'put without a key');
like($b, qr/"error"/, 'a JSON error');

($st) = req('PUT', '/v1/kv/k?cas=abc', 'x');
is($st, 400, 'cas not a number');

($st) = req('GET', '/v1/kv/k?index=-5');
is($st, 400, 'index not a number');

($st) = req('PUT', '/v1/kv/' . ('k' x 1100), 'x');
is($st, 400, 'key too long');

($st) = req('PUT', '/v1/kv/big', 'v' x (512 * 1024 + 1));
is($st, 413, 'value over 512 KiB');

($st, $h, $b) = req('PUT', '/v1/kv/big', 'v' x (512 * 1024));
is($b, 'true', 'value of exactly 512 KiB');

($st) = req('PUT', '/v1/kv/s?acquire=abc', 'x');
is($st, 501, 'sessions are refused clearly');

($st, $h, $b) = req('GET', '/v1/kv/apple?raw');
is($b, 'fruit', 'still serving after bad input');

###############################################################################

# blocking queries

($st, $h, $b) = kv('/v1/kv/watch');
my $idx = $h->{'x-consul-index'};

my $start = time();
($st, $h, $b) = req('GET', "/v1/kv/watch?index=$idx&wait=300ms");
my $took = time() - $start;
is($st, 404, 'blocking query times out with the current answer');
cmp_ok($took, '>=', 0.25, 'it waited for the wait time');

# on a key that exists, only a change of that key answers
req('PUT', '/v1/kv/watch', 'first');
($st, $h, $b) = kv('/v1/kv/watch');
$idx = $h->{'x-consul-index'};

my $s = http(Test::Nacre::_request('GET',
    "/v1/kv/watch?index=$idx&wait=10s"), start => 1);
ok($s, 'blocking query started');
req('PUT', '/v1/kv/other', 'o');
req('PUT', '/v1/kv/watch', 'changed');
($st, $h, $b) = parse_response(Test::Nacre::http_end($s));
is($st, 200, 'blocking query answers on change');
is(decode_base64($json->decode($b)->[0]{Value}), 'changed',
    'with the new value');
cmp_ok($h->{'x-consul-index'}, '>', $idx, 'and a higher index');

###############################################################################

# durability: a restart, and a killed consensus process

req('PUT', "/v1/kv/n/$_", "value $_") for 1 .. 50;

$t->stop();
$t->run();
ok($t->wait_ready(), 'ready after a restart');

($st, $h, $b) = kv('/v1/kv/n/?recurse');
is(scalar @{$b // []}, 50, 'all 50 writes survive a restart');
($st, $h, $b) = req('GET', '/v1/kv/watch?raw');
is($b, 'changed', 'and the earlier ones');

my $cpid = $t->consensus_pid();
ok($cpid, 'the consensus process runs');
kill 'KILL', $cpid;

ok($t->wait_until(sub {
    my $p = $t->consensus_pid();
    $p && $p != $cpid;
}), 'the consensus process is respawned');

# reads go on from the published store meanwhile; writes come back
ok($t->wait_until(sub {
    my (undef, undef, $r) = req('PUT', '/v1/kv/after', 'respawn');
    ($r // '') eq 'true';
}), 'writes work again after the respawn');

($st, $h, $b) = kv('/v1/kv/n/?recurse');
is(scalar @{$b // []}, 50, 'nothing lost across the respawn');

($st, $h, $b) = req('GET', '/v1/kv/after?raw');
is($b, 'respawn', 'the new write is there');

$t->stop();

###############################################################################

# a full store refuses writes with a clear 503, still takes deletes, and
# writes work again once they made room

my $small = $t->instance('small');
$small->write_file_expand('nacre.yaml', <<'EOF');
daemon: false
worker_processes: 1
auth:
  enabled: false              # this file tests the store, t/auth.t tests auth
api:
  listen: 127.0.0.1:%%PORT_8849%%
store:
  shm_size: 16m
EOF

$small->run();
ok($small->wait_ready(), 'small store ready');

sub sput {
    my ($k, $v) = @_;
    return parse_response(http_post("/v1/kv/$k", $v, port => 8849,
        method => 'PUT', content_type => 'application/octet-stream'));
}

my $big = 'b' x (512 * 1024);
my ($n, $full) = (0, undef);

for (1 .. 64) {
    my ($fst, undef, $fb) = sput("fill/$_", $big);
    if ($fst != 200) {
        $full = [ $fst, $fb ];
        last;
    }
    $n++;
}

ok($n > 4 && $full, "full after $n values of 512 KiB");
is($full->[0], 503, 'a write to a full store is 503');
like($full->[1] // '', qr/"error":"the store is full"/, 'saying why');

my (undef, undef, $db) = parse_response(http(Test::Nacre::_request('DELETE',
    '/v1/kv/fill/?recurse'), port => 8849));
is($db, 'true', 'a full store still takes a delete');

my (undef, undef, $ab) = sput('after', 'room');
is($ab, 'true', 'and writes again once it made room');

$small->stop();

###############################################################################
