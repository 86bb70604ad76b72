#!/usr/bin/perl

# nacre: the gateway.  Routes through the native API (written, read,
# listed, deleted; refused when bad -- a regex names PCRE2's message and
# offset -- and the daemon goes on), admin only; matching precedence as the
# proxied traffic sees it; static nodes and services of the registry as
# upstreams, with real backend processes (Test::Nacre::Backend); what the
# upstream is told (X-Forwarded-*, X-Request-Id, Host, headers set, added,
# removed, prefix stripped, path rewritten) and what the client is told;
# the balancers' distributions (weights, least connections, two choices,
# hashing stable when one of ten goes); an instance registered takes
# traffic at once, one deregistered, disabled or turned unhealthy stops;
# retries hide a killed instance from GET clients, not from POST ones;
# passive ejection and return; timeouts; statuses retried; bodies of
# megabytes both ways, chunked and close-delimited, to a slow client;
# WebSocket; a rolling deployment under load without one failed request;
# routes surviving a restart and replicated to three members.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;
use Test::Nacre::Backend;

use Digest::MD5 qw/ md5_hex /;
use Digest::SHA qw/ sha1_hex /;
use IO::Socket::INET;
use JSON::PP;
use MIME::Base64;
use Time::HiRes qw/ time sleep /;
use URI::Escape qw/ uri_escape /;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new()->plan(92);
my $json = JSON::PP->new->canonical;

my %port = (api => port(8981), gw => port(8982));

my $g = $t->instance('g');
$g->write_file('admin.pw', "gateway-admin-password-0\n");
$g->write_file_expand('nacre.yaml', <<'EOF');
daemon: false
worker_processes: 2
auth:
  admin_password_file: admin.pw
api:
  listen: 127.0.0.1:%%PORT_8981%%
gateway:
  listen: 127.0.0.1:%%PORT_8982%%
  fail_timeout: 1s
naming:
  beat_interval: 200ms
  unhealthy_after: 1s
  remove_after: 30s
  health_check: false
EOF

for my $i (1 .. 3) {
    my $n = $t->instance("m$i");
    $port{"m$i"} = port(8982 + $i);
    $port{"mg$i"} = port(8985 + $i);

    $n->write_file('cluster.key', "the secret of the gateway test cluster\n");
    $n->write_file_expand('nacre.yaml', <<"EOF");
daemon: false
worker_processes: 1
auth:
  enabled: false
api:
  listen: 127.0.0.1:%%PORT_898@{[ 2 + $i ]}%%
gateway:
  listen: 127.0.0.1:%%PORT_898@{[ 5 + $i ]}%%
cluster:
  self: 127.0.0.1:%%PORT_799$i%%
  members: [127.0.0.1:%%PORT_7991%%, 127.0.0.1:%%PORT_7992%%, 127.0.0.1:%%PORT_7993%%]
  secret_file: cluster.key
  election_timeout: 1s
  heartbeat_interval: 100ms
naming:
  health_check: false
EOF
}

$_->run() for $g, map { $t->instance("m$_") } 1 .. 3;

# ten backends: b1 .. b10
my @b = map {
    Test::Nacre::Backend->start(port => port(9000 + $_), name => "b$_")
} 1 .. 10;

sub bport { $b[$_[0] - 1]->port }

###############################################################################

my $tok = '';

sub api {
    my ($method, $path, $body, %o) = @_;
    my $p = $o{port} // $port{api};
    my $token = exists $o{token} ? $o{token} : $tok;
    $path .= ($path =~ /\?/ ? '&' : '?') . "accessToken=$token" if $token;

    my $raw = defined $body
        ? http_post($path, $body, method => $method, addr => "127.0.0.1:$p",
              timeout => 20, quiet => 1,
              content_type => $o{ct} // 'application/json')
        : http(Test::Nacre::_request($method, $path),
              addr => "127.0.0.1:$p", timeout => 20, quiet => 1);

    return (0, {}, '') unless defined $raw;
    return parse_response($raw);
}

sub route {
    my ($id, $r, %o) = @_;
    return api('PUT', "/v1/gateway/routes/$id",
        ref $r ? $json->encode($r) : $r, %o);
}

sub register {
    my ($svc, $bp, %f) = @_;
    my $p = delete $f{port} // $port{api};
    my $q = join '&', map { "$_=" . uri_escape($f{$_}) } sort keys %f;
    return (api('POST', "/nacos/v1/ns/instance?serviceName=$svc&ip=127.0.0.1"
        . "&port=$bp" . ($q ? "&$q" : ''), '', port => $p,
        ct => 'application/x-www-form-urlencoded'))[0];
}

sub deregister {
    my ($svc, $bp, %f) = @_;
    my $p = delete $f{port} // $port{api};
    my $q = join '&', map { "$_=" . uri_escape($f{$_}) } sort keys %f;
    return (api('DELETE', "/nacos/v1/ns/instance?serviceName=$svc"
        . "&ip=127.0.0.1&port=$bp" . ($q ? "&$q" : ''), undef,
        port => $p))[0];
}

# a request through the gateway: (status, headers, body)
sub gw {
    my ($method, $uri, %o) = @_;
    my $raw = http(Test::Nacre::_request($method, $uri,
            host_header => $o{host} // 'gw.test', headers => $o{headers},
            content => $o{content}),
        addr => "127.0.0.1:" . ($o{port} // $port{gw}), timeout => 20,
        quiet => 1);
    return (0, {}, '') unless defined $raw;
    return parse_response($raw);
}

# which backend answered
sub who {
    my ($st, $h) = gw(@_);
    return $st == 200 ? $h->{'x-backend'} // '?' : "status $st";
}

# the backends N requests reach: { b1 => n, ... }
sub spread {
    my ($n, @args) = @_;
    my %c;
    $c{who(@args)}++ for 1 .. $n;
    return \%c;
}

###############################################################################

ok($g->wait_ready(10, port => $port{api}), 'ready');
ok($t->wait_until(sub {
    my ($st, $h, $b) = api('POST', '/nacos/v1/auth/login',
        'username=nacos&password=gateway-admin-password-0', token => '',
        ct => 'application/x-www-form-urlencoded');
    $tok = $st == 200 ? $json->decode($b)->{accessToken} : '';
    $tok ne '';
}, 20), 'the admin logs in');

my ($st, $h, $b, $c);

# --- routes through the API ---------------------------------------------------

($st, $h, $b) = route('static', { path => '/s/', strip_prefix => JSON::PP::true,
    upstream => { nodes => [ { address => '127.0.0.1:' . bport(1) } ] } });
is($st, 200, 'a route is written');
is($json->decode($b)->{id}, 'static', 'it answers the route, with its id');

($st, $h, $b) = api('GET', '/v1/gateway/routes/static');
is($json->decode($b)->{path}, '/s/', 'a route is read');

($st, $h, $b) = route('bad', '{"path":"^/(x","path_type":"regex",'
    . '"upstream":{"service":{"name":"s"}}}');
is($st, 400, 'a bad regex is refused');
like($json->decode($b)->{error},
    qr/"path": missing closing parenthesis at offset 4/,
    'with PCRE2\'s message and offset');

($st, $h, $b) = route('bad', '{"path":"/","colour":"red","upstream":'
    . '{"service":{"name":"s"}}}');
like("$st $b", qr/^400 .*unknown key \\"colour\\"/, 'an unknown key');
($st, $h, $b) = route('bad', '{"path":"/"');
like("$st $b", qr/^400 .*not JSON/, 'not JSON');
($st, $h, $b) = route('bad', '{"path":"/","upstream":{"nodes":[{"address":'
    . '"example.com:80"}]}}');
like("$st $b", qr/^400 .*not an address:port/, 'a node by name');
($st) = route('b%2Fd', '{"path":"/","upstream":{"service":{"name":"s"}}}');
is($st, 400, 'a bad id');
($st) = route('bad', '');
is($st, 400, 'no body');
($st) = api('GET', '/v1/gateway/routes/bad');
is($st, 404, 'nothing refused was stored');
($st) = route('static2', '{"path":"/","upstream":{"service":{"name":"s"}}}',
    token => '');
is($st, 403, 'writing routes takes the admin');
($st) = api('GET', '/v1/gateway/routes', undef, token => '');
is($st, 403, 'so does reading them');

($st, $h, $b) = route('gone', { path => '/gone/',
    upstream => { nodes => [ { address => '127.0.0.1:' . bport(1) } ] } });
($st, $h, $b) = api('GET', '/v1/gateway/routes');
is(join(',', sort map { $_->{id} } @{$json->decode($b)}), 'gone,static',
    'routes are listed');
($st) = api('DELETE', '/v1/gateway/routes/gone');
is($st, 200, 'a route is deleted');
($st) = api('DELETE', '/v1/gateway/routes/gone');
is($st, 404, 'twice: not found');

# --- proxying to nodes --------------------------------------------------------

($st, $h, $b) = gw('GET', '/nothing');
is($st, 404, 'no route: 404');
($st) = gw('GET', '/gone/x');
is($st, 404, 'a deleted route takes nothing');

route('echo', { path => '/echo',
    upstream => { nodes => [ { address => '127.0.0.1:' . bport(1) } ] } });
($st, $h, $b) = gw('GET', '/echo?a=1&b=%20', headers => {
    'X-Forwarded-For' => '10.9.8.7', 'Connection' => 'close, X-Drop',
    'TE' => 'trailers' });
my $e = $st == 200 ? $json->decode($b) : {};
is("$st $h->{'x-backend'}", '200 b1', 'a route to a node');
is($e->{path}, '/echo?a=1&b=%20', 'the target goes as the client sent it');
is($e->{headers}{host}, 'gw.test', 'with the client\'s Host');
is($e->{headers}{'x-forwarded-for'}, '10.9.8.7, 127.0.0.1',
    'X-Forwarded-For appended to');
is($e->{headers}{'x-forwarded-proto'} . ' ' . $e->{headers}{'x-forwarded-host'},
    'http gw.test', 'X-Forwarded-Proto and -Host');
like($e->{headers}{'x-request-id'} // '', qr/^[0-9a-f]{16}$/,
    'an X-Request-Id made');
ok(!exists $e->{headers}{te} && !exists $e->{headers}{connection},
    'hop-by-hop fields stay behind');

($st, $h, $b) = gw('GET', '/echo', headers => { 'X-Request-Id' => 'abc' });
is($json->decode($b)->{headers}{'x-request-id'}, 'abc',
    'a client\'s X-Request-Id is kept');

route('hdr', { path => '/h/', strip_prefix => JSON::PP::true,
    request_headers => { set => { 'X-Env' => 'blue' },
        add => { 'X-Extra' => '1' }, remove => [ 'Cookie' ] },
    response_headers => { set => { 'X-Served-By' => 'nacre' },
        remove => [ 'X-Backend-Conn' ] },
    upstream => { nodes => [ { address => '127.0.0.1:' . bport(1) } ] } });
($st, $h, $b) = gw('GET', '/h/echo/x?q=1', headers => { Cookie => 'a=1',
    'X-Env' => 'green' });
$e = $json->decode($b);
is($e->{path}, '/echo/x?q=1', 'the prefix stripped');
is(($e->{headers}{'x-env'} // '') . ',' . ($e->{headers}{'x-extra'} // '')
    . ',' . (exists $e->{headers}{cookie} ? 'cookie' : ''), 'blue,1,',
    'request headers set, added, removed');
is(($h->{'x-served-by'} // '') . ',' . (exists $h->{'x-backend-conn'} ? 1 : 0),
    'nacre,0', 'response headers set and removed');

route('rw', { path => '^/v(\d+)/items/(\d+)$', path_type => 'regex',
    rewrite => { regex => '^/v(\d+)/items/(\d+)$',
        replacement => '/echo/items?id=$2&version=$1' },
    upstream => { nodes => [ { address => '127.0.0.1:' . bport(1) } ] } });
($st, $h, $b) = gw('GET', '/v3/items/42');
is($json->decode($b)->{path}, '/echo/items?id=42&version=3',
    'a path rewritten with captures');

# --- precedence as the traffic sees it ----------------------------------------

my $n1 = [ { address => '127.0.0.1:' . bport(1) } ];
my $n2 = [ { address => '127.0.0.1:' . bport(2) } ];
my $n3 = [ { address => '127.0.0.1:' . bport(3) } ];
my $n4 = [ { address => '127.0.0.1:' . bport(4) } ];

route('p-prefix', { path => '/p/', upstream => { nodes => $n1 } });
route('p-exact', { path => '/p/x', path_type => 'exact',
    upstream => { nodes => $n2 } });
route('p-host', { hosts => [ '*.shop.test' ], path => '/p/',
    upstream => { nodes => $n3 } });
route('p-post', { path => '/p/', methods => [ 'POST' ],
    headers => { 'X-Beta' => '1' }, upstream => { nodes => $n4 } });

is(join(' ', who('GET', '/p/y'), who('GET', '/p/x'),
    who('GET', '/p/x', host => 'a.shop.test'),
    who('POST', '/p/y', headers => { 'X-Beta' => '1' }, content => 'x'),
    who('POST', '/p/y', content => 'x')),
    'b1 b2 b3 b4 b1', 'the most specific route wins');

route('p-first', { priority => 10, path => '/p/', methods => [ 'GET' ],
    upstream => { nodes => $n4 } });
is(who('GET', '/p/x', host => 'a.shop.test'), 'b4', 'unless a priority says');

# --- balancers ------------------------------------------------------------------

route('rr', { path => '/rr/', upstream => { nodes => [
    { address => '127.0.0.1:' . bport(1), weight => 1 },
    { address => '127.0.0.1:' . bport(2), weight => 3 } ] } });
$c = spread(400, 'GET', '/rr/');
ok(abs(($c->{b2} // 0) - 300) <= 20 && ($c->{b1} // 0) + ($c->{b2} // 0) == 400,
    "weighted round robin: 1:3 ($c->{b1}:$c->{b2})");

route('lc', { path => '/lc/', upstream => { balance => 'least_conn',
    nodes => [ map { { address => '127.0.0.1:' . bport($_) } } 1 .. 3 ] } });
$c = spread(300, 'GET', '/lc/');
ok(3 == grep({ ($c->{"b$_"} // 0) >= 60 } 1 .. 3),
    'least connections spreads (nothing in flight): ' . join(':', map { $c->{"b$_"} // 0 } 1 .. 3));

route('p2c', { path => '/p2c/', upstream => { balance => 'two_choices',
    nodes => [ map { { address => '127.0.0.1:' . bport($_) } } 1 .. 4 ] } });
$c = spread(200, 'GET', '/p2c/');
ok(4 == grep({ ($c->{"b$_"} // 0) >= 20 } 1 .. 4),
    'two choices spreads: ' . join(':', map { $c->{"b$_"} // 0 } 1 .. 4));

my @ten = map { { address => '127.0.0.1:' . bport($_) } } 1 .. 10;
route('hash', { path => '/hash/', upstream => { balance => 'hash',
    hash_on => 'header:X-User', nodes => \@ten } });

my %before = map { $_ => who('GET', '/hash/', headers => { 'X-User' => "u$_" }) }
    1 .. 200;
is(scalar(grep { $before{$_} eq who('GET', '/hash/',
    headers => { 'X-User' => "u$_" }) } 1 .. 200), 200,
    'hashing: a key goes to the same instance every time');
ok(9 <= keys %{{ map { $_ => 1 } values %before }}, 'and the keys spread');

route('hash', { path => '/hash/', upstream => { balance => 'hash',
    hash_on => 'header:X-User', nodes => [ @ten[0 .. 8] ] } });
my %after = map { $_ => who('GET', '/hash/', headers => { 'X-User' => "u$_" }) }
    1 .. 200;
my @moved = grep { $before{$_} ne $after{$_} } 1 .. 200;
is(scalar(grep { $before{$_} ne 'b10' } @moved), 0,
    'one of ten gone: only its keys move (' . scalar(@moved) . ' of 200)');

route('hashc', { path => '/hashc/', upstream => { balance => 'hash',
    hash_on => 'cookie:sid', nodes => \@ten } });
is(scalar(keys %{{ map { who('GET', '/hashc/',
    headers => { Cookie => "a=1; sid=s42; b=2" }) => 1 } 1 .. 20 }}), 1,
    'hashing on a cookie');

# --- services of the registry ---------------------------------------------------

is(join(',', map { register('web', bport($_), ephemeral => 'false') } 1 .. 3),
    '200,200,200', 'three instances registered');
route('web', { path => '/web/', strip_prefix => JSON::PP::true,
    upstream => { service => { name => 'web' } } });
$c = spread(60, 'GET', '/web/');
is(join(',', grep { $c->{$_} } sort keys %$c),
    'b1,b2,b3', 'a service\'s instances take the traffic');

register('web', bport(4), ephemeral => 'false');
my $t0 = time();
ok($t->wait_until(sub { who('GET', '/web/') eq 'b4' }, 5),
    'a new instance takes traffic');
ok(time() - $t0 < 1.5, sprintf('within a second (%.3f s)', time() - $t0));

deregister('web', bport(4), ephemeral => 'false');
$c = spread(40, 'GET', '/web/');
ok(!exists $c->{b4}, 'a deregistered one takes none at once');

api('PUT', '/nacos/v1/ns/instance?serviceName=web&ip=127.0.0.1&port='
    . bport(3) . '&ephemeral=false&enabled=false', '');
$c = spread(40, 'GET', '/web/');
ok(!exists $c->{b3} && $c->{b1} && $c->{b2}, 'nor a disabled one');
api('PUT', '/nacos/v1/ns/instance?serviceName=web&ip=127.0.0.1&port='
    . bport(3) . '&ephemeral=false&enabled=true', '');

# an ephemeral instance that stops beating turns unhealthy: no traffic
register('eph', bport(5));
register('eph', bport(6));
route('eph', { path => '/eph/', upstream => { service => { name => 'eph' } } });
$c = spread(20, 'GET', '/eph/');
ok($c->{b5} && $c->{b6}, 'two ephemeral instances take traffic');
my $beats = 1;
my $stop_at = time() + 2.5;
while (time() < $stop_at) {
    api('PUT', '/nacos/v1/ns/instance/beat?serviceName=eph&ip=127.0.0.1&port='
        . bport(6) . '&beat=' . uri_escape($json->encode({ serviceName => 'eph',
        ip => '127.0.0.1', port => bport(6) + 0, cluster => 'DEFAULT' })), '');
    sleep(0.2);
}
$c = spread(20, 'GET', '/eph/');
ok(!exists $c->{b5} && $c->{b6}, 'one that stopped beating takes none');

route('none', { path => '/none/', upstream => { service => { name => 'nobody' } } });
($st) = gw('GET', '/none/');
is($st, 503, 'a service nobody registered: 503');

# --- failures -------------------------------------------------------------------

route('kill', { path => '/kill/', upstream => { nodes => [
    map { { address => '127.0.0.1:' . bport($_) } } 7 .. 9 ] } });
spread(12, 'GET', '/kill/');
$b[7]->stop(reset => 1);                 # b8 crashes
$c = spread(60, 'GET', '/kill/');
is(($c->{b7} // 0) + ($c->{b9} // 0), 60,
    'retries hide a killed instance from GET clients');
ok($g->wait_for_log(qr/127\.0\.0\.1:@{[ bport(8) ]} failed \d+ times in a row: ejected/, 5),
    'it is ejected');

# the node's counters per upstream address
{
    my ($st, $h, $b) = api('GET', '/v1/gateway/upstreams');
    my %u = $st == 200
        ? map { $_->{address} => $_ } @{$json->decode($b)} : ();
    my ($u7, $u8) = map { $u{'127.0.0.1:' . bport($_)} // {} } 7, 8;
    ok(($u8->{failures} // 0) >= 3 && ($u8->{'2xx'} // 0) > 0,
        'upstream counters: the killed one failed: '
        . $json->encode($u8));
    ok(($u7->{'2xx'} // 0) > 0 && $u7->{requests} == $u7->{'2xx'}
        && !$u7->{failures}, 'a live one answered: ' . $json->encode($u7));
}

my %post;
$post{(gw('POST', '/kill/echo', content => 'x'))[0]}++ for 1 .. 30;
ok(!$post{502} || $post{502} <= 4, 'ejected, it costs POST clients no more '
    . 'than the tries before: ' . $json->encode(\%post));

$b[7]->restart;
sleep(1.2);                              # fail_timeout
ok($t->wait_until(sub { who('GET', '/kill/') eq 'b8' }, 5),
    'back after fail_timeout');

route('dead', { path => '/dead/', upstream => { nodes => [
    { address => '127.0.0.1:' . port(9099), weight => 100 },
    { address => '127.0.0.1:' . bport(1), weight => 1 } ] } });
($st) = gw('POST', '/dead/echo', content => 'x');
is($st, 502, 'a POST is not tried twice');
($st, $h) = gw('GET', '/dead/echo');
is("$st $h->{'x-backend'}", '200 b1', 'a GET is');

route('slow', { path => '/slow/', strip_prefix => JSON::PP::true,
    timeouts => { read => '300ms' },
    retries => 0, upstream => { nodes => $n1 } });
my $t1 = time();
($st) = gw('GET', '/slow/slow/3000');
is($st, 504, 'a read timeout: 504');
ok(time() - $t1 < 2, 'in its time');

route('st', { path => '/st/', strip_prefix => JSON::PP::true,
    retry_on => [ 503 ], upstream => { nodes => [
    map { { address => '127.0.0.1:' . bport($_) } } 1 .. 2 ] } });
($st, $h, $b) = gw('GET', '/st/status/503');
is("$st $b", '503 status 503', 'a status retried everywhere: the last answer');
ok($g->wait_for_log(qr/answered 503, trying another/, 5), 'after a retry');

route('all-dead', { path => '/all-dead/', upstream => { nodes => [
    { address => '127.0.0.1:' . port(9098) } ] } });
($st) = gw('GET', '/all-dead/');
is($st, 502, 'nobody answers: 502');

route('rate', { path => '/rate/', rate_limit => { rate => 1, burst => 5 },
    upstream => { nodes => $n1 } });
my %rate;
my $t3 = time();
$rate{(gw('GET', '/rate/'))[0]}++ for 1 .. 20;
my $allowed = 5 + int(time() - $t3) + 1;
ok(($rate{200} // 0) >= 5 && ($rate{200} // 0) <= $allowed,
    "a rate limit for the node, both workers: " . $json->encode(\%rate));
($st, $h) = gw('GET', '/rate/');
is("$st " . ($h->{'retry-after'} // ''), '429 1', '429 and Retry-After');
sleep(1.1);
is((gw('GET', '/rate/'))[0], 200, 'tokens come back');

($st, $h, $b) = api('GET', '/v1/gateway/stats');
my $stats = $st == 200 ? $json->decode($b) : {};
is(join(',', map { $stats->{rr}{$_} // '-' } qw/ requests 2xx 5xx /),
    '400,400,0', 'counters per route: requests and classes');
is(($stats->{rate}{'4xx'} // 0) + ($stats->{rate}{'2xx'} // 0),
    $stats->{rate}{requests} // -1, 'the 429s among them');

# --- bodies ----------------------------------------------------------------------

($st, $h, $b) = gw('GET', '/s/big/10000000');
is(length($b), 10000000, 'a 10 MB answer');
is(md5_hex($b), md5_hex(substr('0123456789' x 1000000, 0, 10000000)),
    'intact');
is($h->{'content-length'}, 10000000, 'with its length');

($st, $h, $b) = gw('GET', '/s/bigchunked/3000000');
is(length($b) . ' ' . ($h->{'transfer-encoding'} // ''), '3000000 chunked',
    'a chunked answer stays chunked');

($st, $h, $b) = gw('GET', '/s/close/200000');
is(length($b) . ' ' . ($h->{'transfer-encoding'} // ''), '200000 chunked',
    'a close-delimited answer is chunked to an HTTP/1.1 client');

{
    my $raw = http("GET /s/bigchunked/100000 HTTP/1.0\r\nHost: x\r\n\r\n",
        addr => "127.0.0.1:$port{gw}", timeout => 20, quiet => 1);
    my ($s10, $h10, $b10) = parse_response($raw);
    is(length($b10) . ' ' . ($h10->{'transfer-encoding'} // 'none'),
        '100000 none', 'to an HTTP/1.0 client: the connection\'s end');
}

my $big = join '', map { chr(65 + $_ % 26) } 1 .. 5_000_000;
($st, $h, $b) = gw('POST', '/s/echo', content => $big);
$e = $st == 200 ? $json->decode($b) : {};
is(($e->{body_length} // 0) . ' ' . ($e->{body_sha1} // ''),
    '5000000 ' . sha1_hex($big), 'a 5 MB request body');

# a client with a small window, set before connecting (set after, the
# kernel may leave the window shut for good)
sub slow_socket {
    my ($p) = @_;
    my $s = IO::Socket::INET->new(Proto => 'tcp') or die "socket: $!";
    setsockopt($s, Socket::SOL_SOCKET(), Socket::SO_RCVBUF(), 4096)
        or die "setsockopt: $!";
    $s->connect(Socket::pack_sockaddr_in($p, Socket::inet_aton('127.0.0.1')))
        or die "connect: $!";
    return $s;
}

# a client that reads slowly still gets it all
{
    my $s = slow_socket($port{gw});
    print $s "GET /s/big/8000000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    sleep(1);
    local $/;
    my $all = <$s>;
    my ($ss, $hh, $bb) = parse_response($all);
    is(length($bb // ''), 8000000, 'a slow client gets all 8 MB');
}

# the API's writer too, once the socket is full
{
    my $v = 'v' x 8_000_000;
    api('POST', '/nacos/v1/cs/configs?dataId=big&group=G', "content=$v",
        ct => 'application/x-www-form-urlencoded');
    my $s = slow_socket($port{api});
    print $s "GET /nacos/v1/cs/configs?dataId=big&group=G&accessToken=$tok "
        . "HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    sleep(1);
    local $/;
    my $all = <$s>;
    my ($ss, $hh, $bb) = parse_response($all);
    is(length($bb // ''), 8_000_000, 'and from the API');
}

# --- WebSocket --------------------------------------------------------------------

{
    my $s = IO::Socket::INET->new("127.0.0.1:$port{gw}");
    my $key = encode_base64(join('', map { chr(int(rand(256))) } 1 .. 16), '');
    print $s "GET /s/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        . "Connection: Upgrade\r\nSec-WebSocket-Key: $key\r\n"
        . "Sec-WebSocket-Version: 13\r\n\r\n";
    my $head = '';
    while ($head !~ /\r\n\r\n/) {
        my $n = sysread($s, $head, 4096, length $head) or last;
    }
    like($head, qr{^HTTP/1\.1 101 Switching Protocols\r\n}, 'WebSocket: 101');
    like($head, qr/\r\nUpgrade: websocket\r\n/i, 'upgraded');

    my $msg = 'hello through the gateway';
    my @mask = map { int(rand(256)) } 1 .. 4;
    my $f = chr(0x81) . chr(0x80 | length $msg) . join('', map { chr } @mask)
        . join('', map { chr(ord(substr($msg, $_, 1)) ^ $mask[$_ % 4]) }
            0 .. length($msg) - 1);
    print $s $f;
    my $in = '';
    my $deadline = time() + 5;
    while (length($in) < 2 + length $msg && time() < $deadline) {
        sysread($s, $in, 4096, length $in) or last;
    }
    is(substr($in, 2), $msg, 'a frame echoed');
    close $s;
}

# --- a rolling deployment under load --------------------------------------------

register('roll', bport($_), ephemeral => 'false') for 6, 7;
route('roll', { path => '/roll/', upstream => { service => { name => 'roll' } } });

my $load = fork();
die "fork: $!" unless defined $load;

if ($load == 0) {
    my ($ok, $bad, %who) = (0, 0);
    my $end = time() + 5;
    while (time() < $end) {
        my ($s, $hh) = gw('GET', '/roll/');
        if ($s == 200) { $ok++; $who{$hh->{'x-backend'}}++; } else { $bad++; }
    }
    $g->write_file('load.out', "$ok $bad " . join(',', sort keys %who));
    POSIX::_exit(0);
}

sleep(1);
register('roll', bport($_), ephemeral => 'false') for 9, 10;
sleep(0.5);
deregister('roll', bport($_), ephemeral => 'false') for 6, 7;
sleep(0.5);
$b[$_ - 1]->stop_graceful for 6, 7;
waitpid($load, 0);

my ($ok, $bad, $seen) = split ' ', $g->read_file('load.out') // '0 1 -';
ok($ok > 100, "requests went on all along ($ok)");
is($bad, 0, 'a rolling deployment: not one failed request');
like($seen, qr/b10/, 'the new instances took over');

# --- restart and replication -------------------------------------------------------

$g->stop();
$g->run();
ok($g->wait_ready(10, port => $port{api}), 'restarted');
($st, $h) = gw('GET', '/s/');
is("$st $h->{'x-backend'}", '200 b1', 'routes survive a restart');

($st) = route('rep', { path => '/rep/', upstream => { service => {
    name => 'rep' } } }, port => $port{m1}, token => '');
is($st, 200, 'a route written on a member');
ok($t->wait_until(sub {
    (api('GET', '/v1/gateway/routes/rep', undef, port => $port{m3},
        token => ''))[0] == 200 }, 5), 'is there on another');

is(register('rep', bport(1), ephemeral => 'false', port => $port{m2}), 200,
    'an instance registered through a third');
my $t2 = time();
ok($t->wait_until(sub {
    my $all = 1;
    for my $i (1 .. 3) {
        $all = 0 unless who('GET', '/rep/', port => $port{"mg$i"}) eq 'b1';
    }
    $all;
}, 5), 'every member\'s gateway routes to it');
ok(time() - $t2 < 1.5, sprintf('within a second (%.3f s)', time() - $t2));

deregister('rep', bport(1), ephemeral => 'false', port => $port{m2});
ok($t->wait_until(sub {
    my $none = 1;
    for my $i (1 .. 3) {
        my ($s) = gw('GET', '/rep/', port => $port{"mg$i"});
        $none = 0 unless $s == 503;
    }
    $none;
}, 5), 'and none after it is deregistered');

ok($g->running, 'the daemon is still running');

###############################################################################
