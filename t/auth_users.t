#!/usr/bin/perl

# nacre: Nacos' users, roles and permissions API.  Creating, listing (with
# paging and both kinds of search), changing passwords (an admin's or
# one's own), deleting; roles and permissions with their refusals; the
# bootstrap admin cannot be deleted nor ROLE_ADMIN granted; a deleted
# user's token dies with it; only admins manage users; no hash in any
# answer; the password KDF runs off the worker's event loop.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;

use IO::Select;
use JSON::PP;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new()->plan(71);
my $json = JSON::PP->new->canonical;
my $port = port(8871);

my $n = $t->instance('a');
$n->write_file('admin.pw', "users-admin-password-0\n");
$n->write_file_expand('nacre.yaml', <<'EOF');
daemon: false
worker_processes: 1
auth:
  admin_password_file: admin.pw
api:
  listen: 127.0.0.1:%%PORT_8871%%
EOF

$n->run();

###############################################################################

my $bodies = '';

sub req {
    my ($method, $uri, %o) = @_;
    my $h = $o{token} ? "accessToken: $o{token}\r\n" : '';

    my $raw = defined $o{body}
        ? http_post($uri, $o{body}, method => $method,
              addr => "127.0.0.1:$port", headers => $h, timeout => 20,
              quiet => 1, content_type => 'application/x-www-form-urlencoded')
        : http(Test::Nacre::_request($method, $uri, headers => $h),
              addr => "127.0.0.1:$port", timeout => 20, quiet => 1);

    return (0, '') unless defined $raw;
    my ($st, $hdr, $b) = parse_response($raw);
    $bodies .= $b // '';
    return ($st, $b // '');
}

sub login {
    my ($user, $pw) = @_;
    my ($st, $b) = req('POST', '/nacos/v1/auth/login',
        body => "username=$user&password=$pw");
    return $st == 200 ? $json->decode($b)->{accessToken} : undef;
}

sub data {
    my ($b) = @_;
    my $d = eval { $json->decode($b) } or return $b;
    return $d->{data} // $d->{message} // $b;
}

sub names {
    my ($b, @fields) = @_;
    my $d = eval { $json->decode($b) } or return "bad JSON: $b";
    return join ' ', map { my $i = $_; join ':', map { $i->{$_} } @fields }
        @{ $d->{pageItems} };
}

###############################################################################

ok($n->wait_ready(10, port => $port), 'ready');
ok($t->wait_until(sub { login('nacos', 'users-admin-password-0') }, 20),
    'the admin logs in');

my $adm = login('nacos', 'users-admin-password-0');
my ($st, $b);

# users: create

($st, $b) = req('POST', '/nacos/v1/auth/users', token => $adm,
    body => 'username=alice&password=alice-pw-1');
is($st, 200, 'create alice');
is($b, '{"code":200,"message":null,"data":"create user ok!"}',
    'RestResult "create user ok!"');

($st, $b) = req('POST', '/nacos/v1/auth/users', token => $adm,
    body => 'username=alice&password=other');
is($st, 400, 'alice again: 400');
is($b, "caused: user 'alice' already exist!;", 'already exist');

($st, $b) = req('POST', '/nacos/v1/auth/users', token => $adm,
    body => 'username=nacos&password=x');
is($st, 409, 'user nacos: 409');

($st, $b) = req('POST', '/nacos/v1/auth/users', token => $adm,
    body => 'username=a%2Fb&password=x');
is($st, 400, 'a name with "/": 400');
like($b, qr/^caused: username must be/, 'says what a name may be');

($st, $b) = req('POST', '/nacos/v1/auth/users', token => $adm,
    body => 'username=dave');
is($st, 400, 'no password: 400');
is($b, "caused: Required parameter 'password' is not present;",
    'names the missing parameter');

for my $u (qw/ bob carol /) {
    ($st) = req('POST', '/nacos/v1/auth/users', token => $adm,
        body => "username=$u&password=$u-pw-1");
    is($st, 200, "create $u");
}

my $alice = login('alice', 'alice-pw-1');
ok($alice, 'alice logs in');

($st, $b) = req('POST', '/nacos/v1/auth/login',
    body => 'username=alice&password=alice-pw-1');
is($json->decode($b)->{globalAdmin}, JSON::PP::false(),
    'alice is no global admin');

# only admins manage users

($st, $b) = req('POST', '/nacos/v1/auth/users', token => $alice,
    body => 'username=eve&password=eve-pw');
is($st, 403, 'alice cannot create users');
($st) = req('GET', '/nacos/v1/auth/users', token => $alice);
is($st, 403, 'nor list them');
($st) = req('DELETE', '/nacos/v1/auth/users?username=bob', token => $alice);
is($st, 403, 'nor delete them');
($st) = req('POST', '/nacos/v1/auth/users',
    body => 'username=eve&password=eve-pw');
is($st, 403, 'anonymous: 403');

# users: list, page, search

($st, $b) = req('GET', '/nacos/v1/auth/users?pageNo=1&pageSize=10',
    token => $adm);
is($st, 200, 'list users');
is(names($b, 'username'), 'alice bob carol nacos', 'every user, in order');
is($json->decode($b)->{totalCount}, 4, 'totalCount');
unlike($b, qr/password|pbkdf2/, 'no password hash in the listing');

($st, $b) = req('GET', '/nacos/v1/auth/users?pageNo=2&pageSize=3',
    token => $adm);
is(names($b, 'username'), 'nacos', 'page 2 of 3 a page');
is(join(',', map { $json->decode($b)->{$_} }
    qw/ totalCount pageNumber pagesAvailable /), '4,2,2',
    'totalCount, pageNumber, pagesAvailable');

($st, $b) = req('GET', '/nacos/v1/auth/users?search=blur&username=ar',
    token => $adm);
is(names($b, 'username'), 'carol', 'blur search');
($st, $b) = req('GET', '/nacos/v1/auth/users?search=accurate&username=bob',
    token => $adm);
is(names($b, 'username'), 'bob', 'accurate search');
($st, $b) = req('GET', '/nacos/v1/auth/users?pageNo=0', token => $adm);
is($st, 400, 'pageNo=0: 400');

($st, $b) = req('GET', '/nacos/v1/auth/users/search?username=a',
    token => $adm);
is($b, '["alice","carol","nacos"]', 'users/search: names containing "a"');

($st, $b) = req('POST', '/nacos/v1/auth/users/admin?password=x');
is($st, 409, 'users/admin: the admin exists already');

# passwords: one's own, or an admin's doing

($st, $b) = req('PUT', '/nacos/v1/auth/users', token => $alice,
    body => 'username=alice&newPassword=alice-pw-2');
is($st, 200, 'alice changes her password');
is(data($b), 'update user ok!', 'update user ok!');
ok(!login('alice', 'alice-pw-1'), 'the old password no longer logs in');
ok(login('alice', 'alice-pw-2'), 'the new one does');

($st) = req('GET', '/v1/kv/x?username=alice&password=alice-pw-1');
is($st, 403, 'nor the old one as parameters');

($st, $b) = req('PUT', '/nacos/v1/auth/users', token => $alice,
    body => 'username=bob&newPassword=taken-over');
is($st, 403, "alice cannot set bob's password");
ok(login('bob', 'bob-pw-1'), "bob's password is unchanged");

($st) = req('PUT', '/nacos/v1/auth/users', token => $adm,
    body => 'username=bob&newPassword=bob-pw-2');
is($st, 200, "the admin sets bob's password");
ok(login('bob', 'bob-pw-2'), 'bob logs in with it');

($st, $b) = req('PUT', '/nacos/v1/auth/users', token => $adm,
    body => 'username=nobody&newPassword=x');
is($st, 400, 'an unknown user: 400');

# roles

($st, $b) = req('POST', '/nacos/v1/auth/roles', token => $adm,
    body => 'role=ROLE_DEV&username=alice');
is($st, 200, 'alice gets ROLE_DEV');
is(data($b), 'add role ok!', 'add role ok!');
($st, $b) = req('POST', '/nacos/v1/auth/roles', token => $adm,
    body => 'role=ROLE_DEV&username=alice');
is($b, "caused: user 'alice' already bound to the role 'ROLE_DEV'!;",
    'twice: already bound');
($st, $b) = req('POST', '/nacos/v1/auth/roles', token => $adm,
    body => 'role=ROLE_DEV&username=nobody');
is($b, "caused: user 'nobody' not found!;", 'an unknown user: not found');
($st, $b) = req('POST', '/nacos/v1/auth/roles', token => $adm,
    body => 'role=ROLE_ADMIN&username=alice');
is($st, 400, 'ROLE_ADMIN cannot be granted');
($st, $b) = req('DELETE', '/nacos/v1/auth/roles?role=ROLE_ADMIN',
    token => $adm);
is($st, 400, 'nor taken away');
($st) = req('POST', '/nacos/v1/auth/roles', token => $adm,
    body => 'role=ROLE_OPS&username=carol');
is($st, 200, 'carol gets ROLE_OPS');

($st, $b) = req('GET', '/nacos/v1/auth/roles?pageNo=1&pageSize=10',
    token => $adm);
is(names($b, qw/ username role /),
    'alice:ROLE_DEV carol:ROLE_OPS nacos:ROLE_ADMIN', 'list roles');
($st, $b) = req('GET', '/nacos/v1/auth/roles?search=blur&role=DEV',
    token => $adm);
is(names($b, qw/ username role /), 'alice:ROLE_DEV', 'blur search');
($st, $b) = req('GET', '/nacos/v1/auth/roles/search?role=ROLE_',
    token => $adm);
is($b, '["ROLE_DEV","ROLE_OPS","ROLE_ADMIN"]', 'roles/search');

# permissions

($st, $b) = req('POST', '/nacos/v1/auth/permissions', token => $adm,
    body => 'role=ROLE_DEV&resource=dev%3A*%3A*&action=rw');
is($st, 200, 'ROLE_DEV may read and write namespace dev');
is(data($b), 'add permission ok!', 'add permission ok!');
($st, $b) = req('POST', '/nacos/v1/auth/permissions', token => $adm,
    body => 'role=ROLE_DEV&resource=dev%3A*%3A*&action=rw');
is($b, 'caused: permission already exist!;', 'twice: already exist');
($st, $b) = req('POST', '/nacos/v1/auth/permissions', token => $adm,
    body => 'role=ROLE_NONE&resource=x&action=r');
is($b, 'caused: role ROLE_NONE not found!;', 'a role nobody has');
($st, $b) = req('POST', '/nacos/v1/auth/permissions', token => $adm,
    body => 'role=ROLE_DEV&resource=x&action=x');
is($st, 400, 'action x: 400');
($st, $b) = req('GET', '/nacos/v1/auth/permissions/duplicate?role=ROLE_DEV'
    . '&resource=dev%3A*%3A*&action=rw', token => $adm);
is(data($b), JSON::PP::true(), 'permissions/duplicate');
($st, $b) = req('GET', '/nacos/v1/auth/permissions?role=ROLE_DEV'
    . '&pageNo=1&pageSize=10', token => $adm);
is(names($b, qw/ role resource action /), 'ROLE_DEV:dev:*:*:rw',
    'list permissions');

($st, $b) = req('DELETE', '/nacos/v1/auth/permissions?role=ROLE_DEV'
    . '&resource=dev%3A*%3A*&action=rw', token => $adm);
is(data($b), 'delete permission ok!', 'delete permission ok!');
($st, $b) = req('GET', '/nacos/v1/auth/permissions', token => $adm);
is($json->decode($b)->{totalCount}, 0, 'none left');

# deleting

($st, $b) = req('DELETE', '/nacos/v1/auth/users?username=nacos',
    token => $adm);
is($b, 'caused: cannot delete admin: nacos;', 'the admin cannot be deleted');

my $bob = login('bob', 'bob-pw-2');
($st) = req('GET', '/v1/kv/x', token => $bob);
is($st, 404, "bob's token works");
($st, $b) = req('DELETE', '/nacos/v1/auth/users?username=bob',
    token => $adm);
is(data($b), 'delete user ok!', 'delete bob');
($st, $b) = req('GET', '/v1/kv/x', token => $bob);
is($st, 403, "a deleted user's token: 403");
ok(!login('bob', 'bob-pw-2'), 'bob no longer logs in');

($st, $b) = req('DELETE', '/nacos/v1/auth/roles?role=ROLE_OPS',
    token => $adm);
is(data($b), 'delete role ok!', 'delete a role from everyone');
($st, $b) = req('GET', '/nacos/v1/auth/roles', token => $adm);
is(names($b, qw/ username role /), 'alice:ROLE_DEV nacos:ROLE_ADMIN',
    'ROLE_OPS is gone');

# the KDF runs beside the loop: a request behind three logins is answered
# while they are still being verified (each is a tenth of a second)

my @logins = map {
    http_start(Test::Nacre::_request('POST', '/nacos/v1/auth/login',
            headers => "Content-Type: application/x-www-form-urlencoded\r\n",
            content => 'username=alice&password=alice-pw-2'),
        addr => "127.0.0.1:$port", timeout => 60);
} 1 .. 3;

($st) = req('GET', '/nacos/v1/console/health/liveness');
is($st, 200, 'liveness answers');
my $sel = IO::Select->new(@logins);
is(scalar(() = $sel->can_read(0)), 0,
    'before the logins ahead of it are done');
is(join(' ', map { (parse_response(http_end($_, timeout => 60)))[0] // 0 }
    @logins), '200 200 200', 'which all succeed');

# no hash anywhere

unlike($bodies, qr/pbkdf2/, 'no password hash in any answer');
unlike($n->read_file('logs/error.log') // '', qr/pbkdf2/,
    'nor in the log');

