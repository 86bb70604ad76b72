#!/usr/bin/perl

# nacre: the gateway's TLS listeners (gateway.tls): the certificate is
# chosen by the name the client asks (SNI) among the names each
# certificate holds, wildcards too, the first one when none fits or none
# is asked; the upstream is told X-Forwarded-Proto: https; plain and TLS
# listeners side by side; an address in two roles is refused by nacre -t.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;
use Test::Nacre::Backend;

use JSON::PP;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new()->has('tls');
my $d = $t->testdir();
my $json = JSON::PP->new->canonical;

mkdir "$d/certs";
make_cert('one', 'DNS:one.test') && make_cert('two', 'DNS:*.two.test')
    or plan(skip_all => 'openssl cannot make a certificate');

$t->write_file('admin.pw', "gateway-admin-password-0\n");
$t->write_file_expand('nacre.yaml', <<'EOF')->plan(8);
daemon: false
worker_processes: 1
auth:
  admin_password_file: admin.pw
api:
  listen: 127.0.0.1:%%PORT_8995%%
gateway:
  listen: 127.0.0.1:%%PORT_8996%%
  tls:
    listen: 127.0.0.1:%%PORT_8997%%
    certificates:
      - certificate: certs/one.pem
        certificate_key: certs/one.key
      - certificate: certs/two.pem
        certificate_key: certs/two.key
  routes:
    all:
      path: /
      upstream:
        nodes: [{address: "127.0.0.1:%%PORT_9031%%"}]
EOF

my $b1 = Test::Nacre::Backend->start(port => port(9031), name => 'b1');

# an address in two roles: refused
{
    (my $c = $t->read_file('nacre.yaml'))
        =~ s/listen: (127\.0\.0\.1:\d+)\n  tls:\n    listen: \S+/listen: $1\n  tls:\n    listen: $1/;
    $t->write_file('twice.yaml', $c);
    my $r = $t->nacre('-p', $t->prefix . '/', '-c', $t->prefix . '/twice.yaml',
        '-t');
    like($r->{stderr}, qr/127\.0\.0\.1:\d+ is in both gateway\.listen and gateway\.tls\.listen/,
        'an address in two roles is refused');
}

$t->run();

sub get_tls {
    my ($name) = @_;
    my $s = http("GET /echo HTTP/1.1\r\nHost: " . ($name // 'x')
        . "\r\nConnection: close\r\n\r\n", addr => '127.0.0.1:' . port(8997),
        tls => 1, start => 1, quiet => 1,
        ssl => { defined $name ? (SSL_hostname => $name) : () });
    return ('', 0, {}) unless $s;
    my $cn = eval { $s->peer_certificate('cn') } // '';
    my ($st, $h, $b) = parse_response(http_end($s));
    return ($cn, $st, $st == 200 ? $json->decode($b) : {});
}

ok($t->wait_until(sub { (get_tls('one.test'))[1] == 200 }, 10),
    'the TLS listener proxies');

my ($cn, $st, $e) = get_tls('one.test');
is($cn, 'one', 'one.test: its certificate');
is($e->{headers}{'x-forwarded-proto'} // '', 'https',
    'the upstream is told https');

($cn) = get_tls('api.two.test');
is($cn, 'two', 'api.two.test: the wildcard certificate');

($cn) = get_tls('other.test');
is($cn, 'one', 'a name no certificate holds: the first');

($cn, $st) = get_tls(undef);
is("$cn $st", 'one 200', 'no name asked: the first');

# the plain listener beside it
{
    my ($st2, $h2, $b2) = parse_response(http("GET /echo HTTP/1.1\r\nHost: x"
        . "\r\nConnection: close\r\n\r\n", addr => '127.0.0.1:' . port(8996),
        quiet => 1) // '');
    my $e2 = $st2 == 200 ? $json->decode($b2) : {};
    is("$st2 " . ($e2->{headers}{'x-forwarded-proto'} // ''), '200 http',
        'the plain listener beside it: http');
}

$b1->stop;

###############################################################################

sub make_cert {
    my ($cn, $san) = @_;

    my $pid = fork();
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', "$d/certs/openssl.err";
        exec('openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
            'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
            '-subj', "/CN=$cn", '-addext', "subjectAltName=$san",
            '-keyout', "$d/certs/$cn.key", '-out', "$d/certs/$cn.pem")
            or POSIX::_exit(127);
    }

    waitpid($pid, 0);
    return !$?;
}

###############################################################################
