#!/usr/bin/perl

# nacre: auth on by default.  The admin bootstrap (a generated password, or
# one from auth.admin_password_file), Nacos' login, tokens in every place
# clients put them, expiry, forgery, another cluster's tokens, the
# CVE-2021-29441 User-Agent bypass, username and password on a request,
# rate limiting of failed logins, no hash in any answer or log, tokens
# good on every member of a cluster, and auth.enabled: false.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;

use JSON::PP;
use MIME::Base64;
use Time::HiRes qw/ time sleep /;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new()->plan(40);
my $json = JSON::PP->new->canonical;

# a: standalone, generated password, short tokens
# b: another standalone (another key), password from a file
# c1, c2: a cluster of two

my %port = (a => port(8861), b => port(8862), c1 => port(8863),
    c2 => port(8864));

my $na = $t->instance('a')->write_file_expand('nacre.yaml', <<'EOF');
daemon: false
worker_processes: 1
auth:
  token_ttl: 2s
api:
  listen: 127.0.0.1:%%PORT_8861%%
EOF

my $nb = $t->instance('b');
$nb->write_file('admin.pw', "b-admin-password-0\n");
$nb->write_file_expand('nacre.yaml', <<'EOF');
daemon: false
worker_processes: 1
auth:
  admin_password_file: admin.pw
api:
  listen: 127.0.0.1:%%PORT_8862%%
EOF

for my $i (1, 2) {
    my $c = $t->instance("c$i");
    $c->write_file('cluster.key', "the secret of the auth test cluster\n");
    $c->write_file('admin.pw', "c-admin-password-0\n");
    $c->write_file_expand('nacre.yaml', <<"EOF");
daemon: false
worker_processes: 1
auth:
  admin_password_file: admin.pw
api:
  listen: 127.0.0.1:%%PORT_886@{[ 2 + $i ]}%%
cluster:
  self: 127.0.0.1:%%PORT_796$i%%
  members: [127.0.0.1:%%PORT_7961%%, 127.0.0.1:%%PORT_7962%%]
  secret_file: cluster.key
EOF
}

$_->run() for $na, $nb, $t->instance('c1'), $t->instance('c2');

###############################################################################

sub req {
    my ($who, $method, $uri, %o) = @_;
    my $addr = "127.0.0.1:$port{$who}";
    my $h = $o{headers} // '';

    my $raw = defined $o{body}
        ? http_post($uri, $o{body}, method => $method, addr => $addr,
              headers => $h, timeout => 10, quiet => 1,
              content_type => $o{type} // 'application/octet-stream')
        : http(Test::Nacre::_request($method, $uri, headers => $h),
              addr => $addr, timeout => 10, quiet => 1);

    return (0, {}, '') unless defined $raw;
    return parse_response($raw);
}

sub login {
    my ($who, $user, $pw) = @_;
    my ($st, $h, $b) = req($who, 'POST', '/nacos/v1/auth/login',
        body => "username=$user&password=$pw",
        type => 'application/x-www-form-urlencoded');
    return ($st, $st == 200 ? $json->decode($b) : $b);
}

sub message {
    my ($b) = @_;
    my $d = eval { $json->decode($b) } or return $b;
    return $d->{message} // $b;
}

###############################################################################

# bootstrap: a generated password, announced by path only

ok($na->wait_ready(10, port => $port{a}), 'a ready');
ok($t->wait_until(sub { -s $na->prefix() . '/data/initial-admin-password' },
    10), 'the generated password is in data/initial-admin-password');

my $pwfile = $na->prefix() . '/data/initial-admin-password';
is((stat $pwfile)[2] & 0777, 0600, 'mode 0600');
chomp(my $apw = $na->read_file('data/initial-admin-password'));
like($apw, qr/^\S{20,}$/, 'a long random password');
ok($na->wait_for_log(qr/password of "nacos" is in ".*initial-admin-password"/,
    5), 'the log names the file');
unlike($na->read_file('logs/error.log'), qr/\Q$apw\E/,
    'and never the password');

# anonymous requests

my ($st, $h, $b) = req('a', 'PUT', '/v1/kv/k', body => 'v');
is($st, 403, 'a write without identity: 403');
is(message($b), 'user not found!', "with Nacos' message");

($st) = req('a', 'GET', '/v1/kv/k');
is($st, 403, 'a read without identity: 403');

($st, $h, $b) = req('a', 'PUT', '/v1/kv/k', body => 'v',
    headers => "User-Agent: Nacos-Server\r\n");
is($st, 403, 'CVE-2021-29441: User-Agent Nacos-Server grants nothing');

($st) = req('a', 'GET', '/nacos/v1/console/health/readiness');
is($st, 200, 'health needs no identity');

# login

my $r;
($st, $r) = login('a', 'nacos', 'wrong');
is($st, 403, 'a wrong password: 403');
is(message($r), 'user not found!', 'user not found!');

($st, $r) = login('a', 'nobody', $apw);
is($st, 403, 'an unknown user: 403');

($st, $r) = login('a', 'nacos', $apw);
is($st, 200, 'login with the generated password');
is($r->{tokenTtl}, 2, 'tokenTtl is auth.token_ttl in seconds');
ok($r->{globalAdmin}, 'the bootstrap user is a global admin');
my $tok = $r->{accessToken};
like($tok, qr/^[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWT');

# the token in every place clients put it

($st, $h, $b) = req('a', 'PUT', "/v1/kv/k?accessToken=$tok", body => 'v1');
is("$st $b", '200 true', 'accessToken parameter');
($st, $h, $b) = req('a', 'GET', '/v1/kv/k?raw',
    headers => "Authorization: Bearer $tok\r\n");
is("$st $b", '200 v1', 'Authorization: Bearer');
($st, $h, $b) = req('a', 'GET', '/v1/kv/k?raw',
    headers => "accessToken: $tok\r\n");
is("$st $b", '200 v1', "the console's accessToken header");
($st, $h, $b) = req('a', 'GET', '/v1/kv/k?raw',
    headers => "X-Consul-Token: $tok\r\n");
is("$st $b", '200 v1', 'X-Consul-Token');
($st, $h, $b) = req('a', 'GET', "/v1/kv/k?raw&token=$tok");
is("$st $b", '200 v1', '?token=');

# username and password on a request, as the Node SDK sends them

($st, $h, $b) = req('a', 'GET', "/v1/kv/k?raw&username=nacos&password=$apw");
is("$st $b", '200 v1', 'username and password parameters');
($st) = req('a', 'GET', '/v1/kv/k?raw&username=nacos&password=nope');
is($st, 403, 'and a wrong one: 403');

# forged and foreign tokens

my @p = split /\./, $tok;
my $payload = decode_base64(($p[1] =~ tr/-_/+\//r) . '==');
$payload =~ s/"exp":\d+/"exp":9999999999/;
my $forged = join '.', $p[0],
    encode_base64($payload, '') =~ tr/+\//-_/r =~ s/=+$//r, $p[2];

($st, $h, $b) = req('a', 'GET', '/v1/kv/k?raw',
    headers => "Authorization: Bearer $forged\r\n");
is($st, 403, 'a token with a changed expiry: 403');
is(message($b), 'token invalid!', 'token invalid!');

ok($nb->wait_ready(10, port => $port{b}), 'b ready');
($st, $r) = login('b', 'nacos', 'b-admin-password-0');
is($st, 200, 'b: login with the password from auth.admin_password_file');
ok(!-e $nb->prefix() . '/data/initial-admin-password',
    'b: no generated password file');

($st, $h, $b) = req('a', 'GET', '/v1/kv/k?raw',
    headers => "Authorization: Bearer $r->{accessToken}\r\n");
is($st, 403, "another cluster's token: 403");

# expiry

sleep(3.1);
($st, $h, $b) = req('a', 'GET', "/v1/kv/k?raw&accessToken=$tok");
is($st, 403, 'an expired token: 403');
is(message($b), 'token expired!', 'token expired!');

# rate limiting: a burst of failures, then refused before any KDF.  All
# sent at once: the worker takes them in one or two loop iterations, so
# the bucket's refill (one a second) does not depend on how fast the KDF
# is in this build; the right password comes last.

my @socks = map {
    my $pw = $_ ? "wrong$_" : $apw;
    my $body = "username=nacos&password=$pw";
    http_start(Test::Nacre::_request('POST', '/nacos/v1/auth/login',
            headers => "Content-Type: application/x-www-form-urlencoded\r\n",
            content => $body),
        addr => "127.0.0.1:$port{a}", timeout => 60, start => 1);
} 1 .. 8, 0;

my @codes = map { (parse_response(http_end($_, timeout => 60)))[0] // 0 }
    @socks;
my $right = pop @codes;
ok(scalar(grep { $_ == 429 } @codes), "failed logins are rate limited "
    . "(@codes)");
is($right, 429, 'even the right password, for a while');

# no hash anywhere

my $all = join '', map { $_->read_file('logs/error.log') // '' } $na, $nb;
unlike($all, qr/\$pbkdf2/, 'no password hash in any log');

###############################################################################

# a cluster: a token from one member works on the other

my ($c1, $c2) = ($t->instance('c1'), $t->instance('c2'));
ok($c1->wait_ready(20, port => $port{c1}), 'c1 ready');
ok($t->wait_until(sub { (login('c1', 'nacos', 'c-admin-password-0'))[0]
    == 200 }, 20), 'c1: login');
($st, $r) = login('c1', 'nacos', 'c-admin-password-0');

($st, $h, $b) = req('c2', 'PUT', "/v1/kv/x?accessToken=$r->{accessToken}",
    body => 'y');
is("$st $b", '200 true', "c1's token writes through c2");

# and the same file names: the bootstrap ran once
is(scalar(grep { $_->read_file('logs/error.log')
    =~ /created the admin user/ } $c1, $c2), 1,
    'one member bootstrapped auth, once');

###############################################################################
