#!/usr/bin/perl

# nacre: a keep-alive connection's pool is reset between requests; what a
# request registered to be freed with it (a gateway route's compiled
# regex, when PUT /v1/gateway/routes checks it) is freed at the reset, not
# left for the connection's close to call over memory the next requests
# wrote (that crashed the worker when the console closed its connections).

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

my $t = Test::Nacre->new()->plan(9);
my $port = port(8945);

$t->write_file('admin.pw', "keepalive-admin-password\n");
$t->write_file_expand('nacre.yaml', <<'EOF');
daemon: false
worker_processes: 1
auth:
  admin_password_file: admin.pw
api:
  listen: 127.0.0.1:%%PORT_8945%%
EOF

$t->run();

###############################################################################

ok($t->wait_ready(10, port => $port), 'ready');

my $tok;
$t->wait_until(sub {
    my ($st, $h, $b) = parse_response(http_post('/nacos/v1/auth/login',
        'username=nacos&password=keepalive-admin-password',
        addr => "127.0.0.1:$port", quiet => 1) // '');
    $tok = $st && $st == 200 ? decode_json($b)->{accessToken} : undef;
}, 20);
ok($tok, 'logged in');

sub put_route {
    my ($s, $id, $route) = @_;
    my $r = Test::Nacre::_request('PUT', "/v1/gateway/routes/$id",
        keepalive => 1, content => $route,
        headers => "accessToken: $tok\r\nContent-Type: application/json\r\n");
    $s = http_start($r, addr => "127.0.0.1:$port", socket => $s,
        keepalive => 1);
    return ($s, parse_response(http_read_response($s) // ''));
}

# one connection: regexes checked (one compiles, one does not), then
# requests whose data lands where the cleanup records were, then close

my ($s, $st, $h, $b) = put_route(undef, 're1',
    '{"path":"^/a/(\\\\d+)$","path_type":"regex",'
    . '"upstream":{"nodes":[{"address":"127.0.0.1:1"}]}}');
is($st, 200, 'a regex route');

($s, $st, $h, $b) = put_route($s, 're2',
    '{"path":"(","path_type":"regex",'
    . '"upstream":{"nodes":[{"address":"127.0.0.1:1"}]}}');
is($st, 400, 'a regex that does not compile');

for my $i (1 .. 3) {
    my $q = 'x' x (40 * $i);
    my $r = http_get("/nacos/v1/ns/catalog/service?serviceName=DEFAULT_GROUP"
        . "%40%40$q&accessToken=$tok", keepalive => 1, socket => $s);
    ($st, $h, $b) = parse_response($r // '');
    is($st, 404, "request $i on the same connection");
}

close $s;

my $r = http_get("/v1/gateway/routes/re1", headers => "accessToken: $tok\r\n",
    addr => "127.0.0.1:$port");
($st, $h, $b) = parse_response($r // '');
is($st, 200, 'the worker still answers');
like($b, qr/"path_type":"regex"/, 'the route was stored');

###############################################################################
