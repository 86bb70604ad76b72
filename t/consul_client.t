#!/usr/bin/perl

# nacre: the official Node.js `consul` client (npm consul 1.2.0) works
# unchanged against /v1/kv: set, get, cas, flags, keys with a separator,
# recurse, a blocking query, delete and delete recurse.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;

use JSON::PP;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

plan(skip_all => 'node is not installed (auto/install-deps installs it)')
    unless Test::Nacre::find_in_path('node');
plan(skip_all => 'the npm clients are not installed: run auto/install-deps')
    unless -d "$FindBin::Bin/clients/node_modules/consul";

my $t = Test::Nacre->new();

$t->write_file_expand('nacre.yaml', <<'EOF')->plan(15);
daemon: false
worker_processes: 2
auth:
  enabled: false              # this file tests the store, t/auth.t tests auth
api:
  listen: 127.0.0.1:%%PORT_8848%%
EOF

$t->run();
ok($t->wait_ready(), 'ready');

my $port = Test::Nacre::port(8848);
my $out = `node $FindBin::Bin/clients/consul_kv.js $port 2>&1`;
my $r = eval { decode_json($out) } // { error => "not JSON: $out" };

ok(!$r->{error}, 'the client ran') or diag($r->{error});
ok($r->{set}, 'set');
is_deeply($r->{get}, { Key => 'app/config', Value => 'v1', Flags => 0 },
    'get decodes the value');
ok(!$r->{casStale}, 'cas with a stale index is refused');
ok($r->{casOk}, 'cas with the current index');
is($r->{flagsRead}, 7, 'flags');
is_deeply($r->{keys},
    [ 'app/config', 'app/flagged', 'app/sub/a', 'app/sub/b' ], 'keys');
is_deeply($r->{keysSep}, [ 'app/config', 'app/flagged', 'app/sub/' ],
    'keys with a separator');
is_deeply($r->{recurse}, [ 'app/config=v2', 'app/flagged=f', 'app/sub/a=a',
    'app/sub/b=b' ], 'recurse');
ok($r->{missing}, 'a missing key is undefined');
is($r->{blocked}, 'v3', 'a blocking query answers with the change');
ok($r->{del} && $r->{afterDel}, 'delete');
ok($r->{delTree}, 'delete recurse');
is_deeply($r->{afterTree}, [ 'app/config' ], 'the subtree is gone');

$t->stop();

###############################################################################
