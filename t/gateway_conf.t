#!/usr/bin/perl

# nacre: gateway routes declared in the conf (gateway.routes): checked by
# `nacre -t` (a bad regex named with its line), proxied like stored ones,
# listed by the routes API with "source":"conf" and not writable there
# (409), winning over a stored route of the same id, and changed by a
# reload -- a reload with a bad route keeps the old ones serving.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;
use Test::Nacre::Backend;

use JSON::PP;
use Time::HiRes qw/ sleep /;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new()->plan(13);
my $json = JSON::PP->new->canonical;

my @b = map {
    Test::Nacre::Backend->start(port => port(9020 + $_), name => "b$_")
} 1 .. 2;

my $conf = <<'EOF';
daemon: false
worker_processes: 1
auth:
  admin_password_file: admin.pw
api:
  listen: 127.0.0.1:%%PORT_8993%%
gateway:
  listen: 127.0.0.1:%%PORT_8994%%
  routes:
    web:
      path: /web/
      strip_prefix: true
      request_headers:
        set: {X-Env: blue, X-Code: "007"}
      upstream:
        nodes:
          - address: 127.0.0.1:%%PORT_9021%%
EOF

$t->write_file('admin.pw', "gateway-admin-password-0\n");
$t->write_file_expand('nacre.yaml', $conf);

# nacre -t names a bad route with its line
{
    (my $bad = $conf) =~ s{path: /web/}{path: "^/(x"\n      path_type: regex};
    $t->write_file_expand('bad.yaml', $bad);
    my $r = $t->nacre('-p', $t->prefix . '/', '-c', $t->prefix . '/bad.yaml',
        '-t');
    like($r->{stderr}, qr/bad\.yaml:11:7: gateway\.routes: route "web": "path": missing closing parenthesis at offset 4/,
        'nacre -t: a bad route, with its line and PCRE2\'s message');
    isnt($r->{code}, 0, 'and fails');
}

$t->run();

my $tok = '';
$t->wait_until(sub {
    my $raw = http_post('/nacos/v1/auth/login',
        'username=nacos&password=gateway-admin-password-0',
        addr => '127.0.0.1:' . port(8993), quiet => 1,
        content_type => 'application/x-www-form-urlencoded');
    my ($st, undef, $b) = parse_response($raw // '');
    $tok = $st && $st == 200 ? $json->decode($b)->{accessToken} : '';
    $tok ne '';
}, 20);

sub api {
    my ($method, $path, $body) = @_;
    $path .= "?accessToken=$tok";
    my $raw = defined $body
        ? http_post($path, $body, method => $method, quiet => 1,
              addr => '127.0.0.1:' . port(8993),
              content_type => 'application/json')
        : http(Test::Nacre::_request($method, $path), quiet => 1,
              addr => '127.0.0.1:' . port(8993));
    return parse_response($raw // '');
}

sub gw {
    my ($path) = @_;
    my $raw = http(Test::Nacre::_request('GET', $path, host_header => 'x'),
        addr => '127.0.0.1:' . port(8994), quiet => 1);
    return parse_response($raw // '');
}

my ($st, $h, $b) = gw('/web/echo');
my $e = $st == 200 ? $json->decode($b) : {};
is("$st $h->{'x-backend'} $e->{path}", '200 b1 /echo',
    'a route of the conf is proxied');
is("$e->{headers}{'x-env'} $e->{headers}{'x-code'}", 'blue 007',
    'as the conf writes it (a quoted "007" stays a string)');

($st, $h, $b) = api('GET', '/v1/gateway/routes');
my ($web) = grep { $_->{id} eq 'web' } @{$json->decode($b)};
is($web->{source} // '', 'conf', 'listed, as the conf\'s');

($st) = api('PUT', '/v1/gateway/routes/web', '{"path":"/web/","upstream":'
    . '{"nodes":[{"address":"127.0.0.1:' . port(9022) . '"}]}}');
is($st, 409, 'a PUT of it is a 409');
($st) = api('DELETE', '/v1/gateway/routes/web');
is($st, 409, 'so is a DELETE');

($st) = api('PUT', '/v1/gateway/routes/other', '{"path":"/other/",'
    . '"strip_prefix":true,"upstream":{"nodes":[{"address":"127.0.0.1:'
    . port(9022) . '"}]}}');
is($st, 200, 'a stored route beside them');
($st, $h) = gw('/other/');
is("$st $h->{'x-backend'}", '200 b2', 'proxied too');

# a reload changes the conf's routes
(my $next = $conf) =~ s/PORT_9021/PORT_9022/;
$t->write_file_expand('nacre.yaml', $next);
$t->reload();
ok($t->wait_until(sub { ((gw('/web/'))[1]{'x-backend'} // '') eq 'b2' }, 10),
    'a reload moves the conf\'s route');

# a reload with a bad route: the old ones serve on
my $off = $t->log_offset();
(my $bad = $next) =~ s{path: /web/}{path: /web/\n      colour: red};
$t->write_file_expand('nacre.yaml', $bad);
$t->reload();
like($t->wait_for_log(qr/reload failed/, 10, $off) // '',
    qr/route "web": route: unknown key "colour"/, 'a reload with a bad route fails');
sleep(0.3);
($st, $h) = gw('/web/');
is("$st $h->{'x-backend'}", '200 b2', 'the routes before it serve on');

# a route removed from the conf is gone on reload
(my $none = $next) =~ s/  routes:.*//s;
$t->write_file_expand('nacre.yaml', $none);
$t->reload();
ok($t->wait_until(sub { (gw('/web/'))[0] == 404 }, 10),
    'a route left out of the conf is gone after a reload');

$_->stop for @b;

###############################################################################
