#!/usr/bin/perl

# nacre: the official Node.js Nacos client (npm nacos 2.6.3) works unchanged
# against the naming API: registerInstance, getAllInstances,
# selectInstances, subscribe (a UDP push brings a change well before the
# next poll would), deregisterInstance, getServerStatus, and the beats of
# an instance keeping it while its client lives and no longer after; with
# auth on, against one node and against a cluster of three.

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
    unless -d "$FindBin::Bin/clients/node_modules/nacos";

my $t = Test::Nacre->new()->plan(28);

# the client beats first 10 s after it starts: leases outlast that
my $naming = <<'EOF';
naming:
  unhealthy_after: 12s
  remove_after: 14s
EOF

my $ns = $t->instance('s');
$ns->write_file('admin.pw', "node-naming-password\n");
$ns->write_file_expand('nacre.yaml', <<"EOF");
daemon: false
worker_processes: 2
auth:
  admin_password_file: admin.pw
api:
  listen: 127.0.0.1:%%PORT_8901%%
$naming
EOF

for my $i (1 .. 3) {
    my $c = $t->instance("c$i");
    $c->write_file('cluster.key', "the secret of the node naming cluster\n");
    $c->write_file('admin.pw', "node-naming-password\n");
    $c->write_file_expand('nacre.yaml', <<"EOF");
daemon: false
worker_processes: 1
auth:
  admin_password_file: admin.pw
api:
  listen: 127.0.0.1:%%PORT_890@{[ 1 + $i ]}%%
cluster:
  self: 127.0.0.1:%%PORT_795$i%%
  members: [127.0.0.1:%%PORT_7951%%, 127.0.0.1:%%PORT_7952%%,
            127.0.0.1:%%PORT_7953%%]
  secret_file: cluster.key
$naming
EOF
}

$_->run() for $ns, map { $t->instance("c$_") } 1 .. 3;

###############################################################################

sub logged_in {
    my ($port) = @_;
    my $r = http_post('/nacos/v1/auth/login',
        'username=nacos&password=node-naming-password',
        addr => "127.0.0.1:$port", quiet => 1, timeout => 5,
        content_type => 'application/x-www-form-urlencoded') // '';
    return $r =~ m{^HTTP/1\.1 200 };
}

# the hosts of a service as a node lists them: "ip:port ..."
sub hosts {
    my ($port, $service) = @_;
    my $r = http_get("/nacos/v1/ns/instance/list?serviceName=$service"
        . '&username=nacos&password=node-naming-password',
        addr => "127.0.0.1:$port", quiet => 1, timeout => 5) // '';
    my (undef, undef, $b) = parse_response($r);
    my $l = eval { decode_json($b) } or return 'error';
    return join ' ', sort map { "$_->{ip}:$_->{port}" } @{$l->{hosts}};
}

sub check {
    my ($r, $where) = @_;

    ok(!$r->{error}, "$where: the client ran") or diag($r->{error});
    is($r->{all}, '10.7.0.1:8080 10.7.0.2:8080',
        "$where: registerInstance, getAllInstances");
    is($r->{healthy}, '10.7.0.1:8080 10.7.0.2:8080',
        "$where: selectInstances (healthy)");
    is_deeply($r->{metadata}, { zone => 'a' }, "$where: metadata");
    is($r->{first}, '10.7.0.1:8080 10.7.0.2:8080',
        "$where: subscribe sees the hosts");
    is($r->{added}, '10.7.0.1:8080 10.7.0.2:8080 10.7.0.3:8080',
        "$where: and a registration from another client");
    ok(defined $r->{addedMs} && $r->{addedMs} < 5000 && $r->{pushes} > 0,
        "$where: pushed ($r->{pushes} pushes, the change in "
        . ($r->{addedMs} // '?') . ' ms; polls come every 10 s)');
    is($r->{removed}, '10.7.0.1:8080 10.7.0.2:8080',
        "$where: and its deregistration");
    is($r->{deregistered}, '10.7.0.1:8080', "$where: deregisterInstance");
    is($r->{status}, 'UP', "$where: getServerStatus");
    is($r->{kept}, '10.7.0.1:8080',
        "$where: beats keep an instance past its registration's lease");
}

# both clients at once: each lives some 17 s to prove its beats
sub start_client {
    my ($servers, $service) = @_;
    open(my $fh, '-|', "node $FindBin::Bin/clients/nacos_naming.js $servers "
        . "public nacos node-naming-password $service 2>&1") or die $!;
    return $fh;
}

sub end_client {
    my ($fh) = @_;
    my $out = join '', <$fh>;
    close $fh;
    return eval { decode_json($out) } // { error => "not JSON: $out" };
}

my $sport = port(8901);
my @ports = map { port(8901 + $_) } 1 .. 3;

ok($t->wait_until(sub { logged_in($sport) }, 20), 'standalone: ready');
ok($t->wait_until(sub { logged_in($ports[0]) && logged_in($ports[2]) }, 30),
    'cluster: ready');

my $fs = start_client("127.0.0.1:$sport", 'node-svc');
my $fc = start_client(join(',', map { "127.0.0.1:$_" } @ports),
    'node-svc-c');

check(end_client($fs), 'standalone');
check(end_client($fc), 'cluster');
my $t_gone = time();

# the clients are gone: the instance they left stops beating, and goes
is(hosts($sport, 'node-svc'), '10.7.0.1:8080',
    'standalone: the instance the client left is there');
ok($t->wait_until(sub { hosts($sport, 'node-svc') eq '' }, 25),
    'standalone: it expires without its beats');
ok($t->wait_until(sub {
    hosts($ports[0], 'node-svc-c') eq '' && hosts($ports[2], 'node-svc-c') eq ''
}, 25), 'cluster: on every member');
ok(time() - $t_gone >= 10, 'not before its lease ran out');

###############################################################################
