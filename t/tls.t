#!/usr/bin/perl

# nacre: TLS on the API listener: handshake, protocol versions, plain
# HTTP on a TLS port, certificate replacement on reload.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;

use Digest::MD5 qw/ md5_hex /;
use IO::Socket::INET;
use JSON::PP;
use Time::HiRes qw/ time /;
use POSIX ();

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new()->has('tls');
my $debug = $t->has_feature('debug');
my $d = $t->testdir();

mkdir "$d/certs";
make_cert('one') or plan(skip_all => 'openssl cannot make a certificate');

$t->write_file_expand('nacre.yaml', <<'EOF')->plan(30);
daemon: false
worker_processes: 1
api:
  listen: 127.0.0.1:%%PORT_8848%%
  tls:
    certificate: certs/cert.pem
    certificate_key: certs/key.pem
EOF

my $large = join('', map { sprintf("%07d\n", $_) } 1 .. 50000);
$t->write_file('html/large.txt', $large);

$t->run();

my $LIVE = '/nacos/v1/console/health/liveness';

###############################################################################

# HTTPS works

my $s = http_get($LIVE, tls => 1, start => 1);
ok($s, 'tls connection');
is(eval { $s->peer_certificate('cn') }, 'one', 'certificate served');
like(eval { $s->get_sslversion() } // '', qr/^TLSv1_[23]$/,
    'negotiated TLS 1.2+');
my ($st, $h, $body) = parse_response(http_end($s));
is($st, 200, 'https status');
is($body, 'OK', 'https body');

($st) = parse_response(http_get($LIVE, tls => 1,
    ssl => { SSL_version => 'TLSv1_2' }));
is($st, 200, 'TLS 1.2');

SKIP: {
    skip 'no TLS 1.3 in IO::Socket::SSL', 1
        unless eval { Net::SSLeay::TLS1_3_VERSION() };

    ($st) = parse_response(http_get($LIVE, tls => 1,
        ssl => { SSL_version => 'TLSv1_3' }));
    is($st, 200, 'TLS 1.3');
}

# TLS 1.1 and 1.0 are refused (the client is allowed to offer them)

for my $v (qw/ TLSv1_1 TLSv1 /) {
    my $c = IO::Socket::SSL->new(
        PeerAddr => '127.0.0.1:' . port(8848),
        SSL_verify_mode => IO::Socket::SSL::SSL_VERIFY_NONE(),
        SSL_version => $v,
        SSL_cipher_list => 'DEFAULT:@SECLEVEL=0',
        Timeout => 5,
    );
    ok(!$c, "$v refused");
    my $err = do { no warnings 'once'; "$IO::Socket::SSL::SSL_ERROR" };
    like($c ? 'connected' : $err,
        qr/alert protocol version/i, "$v refused by the server");
}

# keep-alive over TLS, large responses, bodies

$s = http_get($LIVE, tls => 1, keepalive => 1, start => 1);
($st) = parse_response(http_read_response($s));
is($st, 200, 'tls keepalive first');
($st, undef, $body) = parse_response(http_get('/nacos/large.txt',
    socket => $s, keepalive => 1));
is(md5_hex($body // ''), md5_hex($large), 'large response over tls');
($st, undef, $body) = parse_response(http_get($LIVE, socket => $s));
is($body, 'OK', 'third request over tls');

SKIP: {
    skip 'no --with-debug', 1 unless $debug;

    my $data = 'x' x 100000;
    my $r = http("POST /nacre/debug/echo HTTP/1.1\r\nHost: a\r\n"
        . "Connection: close\r\nContent-Length: 100000\r\n\r\n$data",
        tls => 1);
    my (undef, undef, $b) = parse_response($r);
    is(eval { decode_json($b)->{body_md5} }, md5_hex($data),
        'request body over tls');
}

###############################################################################

# plain HTTP and junk on the TLS port fail cleanly

my $t0 = time();
my $r = http("GET $LIVE HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    timeout => 5);
unlike($r // '', qr{^HTTP/1\.1 200 }, 'plain http on a tls port not served');
like($r // '', qr{^(HTTP/1\.1 400 .*)?\z}s, 'plain http: 400 or closed');
ok(time() - $t0 < 4, 'plain http: closed at once, no hang');

$t0 = time();
$r = http("\x16\x03\x01\x00\x05junkjunkjunk", timeout => 5);
ok(defined $r && time() - $t0 < 4, 'junk handshake: closed, no hang');

$s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . port(8848))
    or die "connect: $!";
close $s;

($st) = parse_response(http_get($LIVE, tls => 1));
is($st, 200, 'still serving over tls');
ok($t->running(), 'daemon running');
is(scalar $t->worker_pids(), 1, 'worker alive');

###############################################################################

# a new certificate after reload

make_cert('two') or die 'openssl failed';

my @old = $t->worker_pids();
my $off = $t->log_offset();
$t->reload();
ok($t->wait_for_log(qr/reconfiguring/, 10, $off), 'reloaded');
ok($t->wait_until(sub {
    my @w = $t->worker_pids();
    @w == 1 && $w[0] != $old[0];
}, 10), 'new worker');

$s = http_get($LIVE, tls => 1, start => 1);
is(eval { $s->peer_certificate('cn') }, 'two', 'new certificate served');
($st) = parse_response(http_end($s));
is($st, 200, 'new certificate works');

# a broken certificate: the reload fails, the old one stays

$t->write_file('certs/cert.pem', "-----BEGIN CERTIFICATE-----\nbroken\n"
    . "-----END CERTIFICATE-----\n");
@old = $t->worker_pids();
$off = $t->log_offset();
$t->reload();
ok($t->wait_for_log(qr/\[(error|emerg|crit)\].*cert/i, 10, $off),
    'broken certificate logged');

$s = http_get($LIVE, tls => 1, start => 1);
is(eval { $s->peer_certificate('cn') }, 'two', 'old certificate kept');
($st) = parse_response(http_end($s)) if $s;
is($st, 200, 'still serving with the old certificate');

# a missing key at start

my $bad = $t->instance('bad');
$bad->write_file_expand('nacre.yaml', <<'EOF');
daemon: false
worker_processes: 1
api:
  listen: 127.0.0.1:%%PORT_8849%%
  tls:
    certificate: %%TESTDIR%%/certs/cert.pem
    certificate_key: %%TESTDIR%%/certs/missing.pem
EOF
eval { $bad->run(timeout => 5); };
ok($@ && !$bad->running(), 'missing key: start fails');

###############################################################################

sub make_cert {
    my ($cn) = @_;

    my $pid = fork();
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', "$d/certs/openssl.err";
        exec('openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
            'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
            '-subj', "/CN=$cn", '-keyout', "$d/certs/key.pem.new",
            '-out', "$d/certs/cert.pem.new") or POSIX::_exit(127);
    }

    waitpid($pid, 0);
    return 0 if $?;

    rename("$d/certs/key.pem.new", "$d/certs/key.pem") or return 0;
    rename("$d/certs/cert.pem.new", "$d/certs/cert.pem") or return 0;

    return 1;
}

###############################################################################
