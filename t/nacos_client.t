#!/usr/bin/perl

# nacre: the official Node.js Nacos client (npm nacos 2.6.3) works unchanged
# against the config API: publish, get (UTF-8 too), subscribe (the long-poll
# listener: first value, every change, the removal) and remove, with auth
# on (the client sends username and password on every call), against one
# node and against a cluster of three.

###############################################################################

use warnings;
use strict;
use utf8;

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
    unless -d "$FindBin::Bin/clients/node_modules/nacos";

my $t = Test::Nacre->new()->plan(23);

my $ns = $t->instance('s');
$ns->write_file('admin.pw', "node-client-password\n");
$ns->write_file_expand('nacre.yaml', <<'EOF');
daemon: false
worker_processes: 2
auth:
  admin_password_file: admin.pw
api:
  listen: 127.0.0.1:%%PORT_8891%%
EOF

for my $i (1 .. 3) {
    my $c = $t->instance("c$i");
    $c->write_file('cluster.key', "the secret of the node client cluster\n");
    $c->write_file('admin.pw', "node-client-password\n");
    $c->write_file_expand('nacre.yaml', <<"EOF");
daemon: false
worker_processes: 1
auth:
  admin_password_file: admin.pw
api:
  listen: 127.0.0.1:%%PORT_889@{[ 1 + $i ]}%%
cluster:
  self: 127.0.0.1:%%PORT_799$i%%
  members: [127.0.0.1:%%PORT_7991%%, 127.0.0.1:%%PORT_7992%%,
            127.0.0.1:%%PORT_7993%%]
  secret_file: cluster.key
EOF
}

$_->run() for $ns, map { $t->instance("c$_") } 1 .. 3;

###############################################################################

sub run_client {
    my ($servers, $namespace, $leader) = @_;
    my $out = `node $FindBin::Bin/clients/nacos_config.js $servers $namespace \\
        nacos node-client-password $leader 2>&1`;
    return eval { decode_json($out) } // { error => "not JSON: $out" };
}

sub logged_in {
    my ($port) = @_;
    my $r = http_post('/nacos/v1/auth/login',
        'username=nacos&password=node-client-password',
        addr => "127.0.0.1:$port", quiet => 1, timeout => 5,
        content_type => 'application/x-www-form-urlencoded') // '';
    return $r =~ m{^HTTP/1\.1 200 };
}

sub check {
    my ($r, $where) = @_;

    ok(!$r->{error}, "$where: the client ran") or diag($r->{error});
    ok($r->{publish}, "$where: publishSingle");
    is($r->{get}, "v: 1\n", "$where: getConfig");
    is($r->{unicodeGet}, "héllo wörld ✓ 配置", "$where: UTF-8 content");
    is($r->{first}, "v: 1\n", "$where: subscribe gets the current content");
    is($r->{changed}, "v: 2\n", "$where: then a change");
    is($r->{changedAgain}, "v: 3\n", "$where: and the next");
    ok($r->{remove}, "$where: remove");
    ok(!defined $r->{removed}, "$where: the subscriber sees the removal");
    ok(!defined $r->{getRemoved}, "$where: getConfig of it is null");
}

my $port = port(8891);
ok($t->wait_until(sub { logged_in($port) }, 20), 'standalone: ready');

my $r = run_client("127.0.0.1:$port", '-', port(8897));
check($r, 'standalone');

my @ports = map { port(8891 + $_) } 1 .. 3;
ok($t->wait_until(sub { logged_in($ports[0]) && logged_in($ports[2]) }, 30),
    'cluster: ready');

# the namespace the client names exists first, as with Nacos' console
my $created = http_post('/nacos/v1/console/namespaces',
    'customNamespaceId=dev&namespaceName=dev&username=nacos'
    . '&password=node-client-password', addr => "127.0.0.1:$ports[1]",
    quiet => 1, timeout => 10,
    content_type => 'application/x-www-form-urlencoded') // '';
like($created, qr{^HTTP/1\.1 200 .*true$}s, 'namespace dev made');

$r = run_client(join(',', map { "127.0.0.1:$_" } @ports), 'dev', port(8898));
check($r, 'cluster');

