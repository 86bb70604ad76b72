#!/usr/bin/perl

# nacre: request bodies through the gateway.  A body larger than
# gateway.buffer_size, or chunked, is streamed to the upstream as it
# arrives (re-chunked when it came chunked) and never held whole: a
# worker moving 30 MB grows by far less; "Expect: 100-continue" is
# answered by the gateway; an answer that comes before the body ends is
# relayed and the connection closed; a client that stalls gets 408, one
# that goes mid-body leaves the daemon serving; gateway.client_max_body_size
# is enforced for both framings; a streamed POST is tried on another
# instance when nothing of it had left.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;
use Test::Nacre::Backend;

use Digest::SHA qw/ sha1_hex /;
use IO::Socket::INET;
use IO::Select;
use JSON::PP;
use Time::HiRes qw/ time sleep /;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new()->plan(31);
my $json = JSON::PP->new->canonical;

my $g = $t->instance('g');
$g->write_file('admin.pw', "gateway-admin-password-0\n");
$g->write_file_expand('nacre.yaml', <<'EOF');
daemon: false
worker_processes: 1
auth:
  admin_password_file: admin.pw
api:
  listen: 127.0.0.1:%%PORT_8991%%
  client_body_timeout: 1s
gateway:
  listen: 127.0.0.1:%%PORT_8992%%
  client_max_body_size: 40m
EOF

$g->run();

my @b = map {
    Test::Nacre::Backend->start(port => port(9010 + $_), name => "b$_")
} 1 .. 2;

my $gw = port(8992);

###############################################################################

my $tok = '';
$t->wait_until(sub {
    my $raw = http_post('/nacos/v1/auth/login',
        'username=nacos&password=gateway-admin-password-0',
        addr => '127.0.0.1:' . port(8991), quiet => 1,
        content_type => 'application/x-www-form-urlencoded');
    my ($st, undef, $b) = parse_response($raw // '');
    $tok = $st && $st == 200 ? $json->decode($b)->{accessToken} : '';
    $tok ne '';
}, 20);

sub route {
    my ($id, $r) = @_;
    my $raw = http_post("/v1/gateway/routes/$id?accessToken=$tok",
        $json->encode($r), method => 'PUT', quiet => 1,
        addr => '127.0.0.1:' . port(8991), content_type => 'application/json');
    return (parse_response($raw))[0];
}

sub node { { address => '127.0.0.1:' . $b[$_[0] - 1]->port } }

sub connect_gw {
    return IO::Socket::INET->new(PeerAddr => "127.0.0.1:$gw", Timeout => 5)
        // die "connect: $!";
}

# write all of $data, as fast as the gateway takes it
sub put {
    my ($s, $data) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my $off = 0;
    while ($off < length $data) {
        my $n = syswrite($s, $data, 1 << 20, $off);
        return 0 unless defined $n;
        $off += $n;
    }
    return 1;
}

# read an answer until the connection ends, or for at most $timeout
sub drain {
    my ($s, $timeout) = @_;
    my ($all, $end) = ('', time() + ($timeout // 10));
    my $sel = IO::Select->new($s);
    while (time() < $end) {
        next unless $sel->can_read($end - time());
        my $n = sysread($s, my $buf, 65536);
        last unless $n;
        $all .= $buf;
    }
    return $all;
}

sub echo_of {
    my ($raw) = @_;
    my ($st, $h, $b) = parse_response($raw // '');
    return ($st // 0, $st && $st == 200 ? $json->decode($b) : {}, $h);
}

sub worker_hwm {
    my ($w) = $g->worker_pids();
    my $s = Test::Nacre::_slurp("/proc/$w/status") // '';
    return $s =~ /^VmHWM:\s+(\d+) kB/m ? $1 : 0;
}

sub pattern { my ($n) = @_; substr('0123456789abcdef' x ($n / 16 + 1), 0, $n) }

# what the backend's /big, /bigchunked and /close send
sub digits { my ($n) = @_; substr('0123456789' x ($n / 10 + 1), 0, $n) }

###############################################################################

is(route('s', { path => '/s/', strip_prefix => JSON::PP::true,
    upstream => { nodes => [ node(1) ] } }), 200, 'a route');

# Content-Length, streamed: 30 MB through a worker that does not grow by
# the body (a buffered body would cost it the 30 MB at least)
my $big = pattern(30_000_000);
my $hwm = worker_hwm();
{
    my $s = connect_gw();
    put($s, "POST /s/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        . "Content-Length: 30000000\r\n\r\n");
    put($s, $big);
    my ($st, $e) = echo_of(drain($s));
    is("$st " . ($e->{body_length} // 0) . ' ' . ($e->{body_sha1} // ''),
        '200 30000000 ' . sha1_hex($big), 'a 30 MB body, streamed');
    is($e->{headers}{'content-length'}, 30000000,
        'with its length to the upstream');
}
my $grown = worker_hwm() - $hwm;
ok($grown < 12 * 1024, "the worker grew by $grown kB, not by the body");

# chunked, with extensions and a trailer: re-chunked to the upstream
{
    my $data = pattern(3_000_000);
    my $body = '';
    for (my $i = 0; $i < length $data; $i += 70_000) {
        my $piece = substr($data, $i, 70_000);
        $body .= sprintf("%x;ext=1\r\n", length $piece) . "$piece\r\n";
    }
    $body .= "0\r\nX-Trailer: 1\r\n\r\n";

    my $s = connect_gw();
    put($s, "POST /s/echo HTTP/1.1\r\nHost: x\r\n"
        . "Transfer-Encoding: chunked\r\n\r\n" . $body
        . "GET /s/next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    my @r = parse_responses(drain($s));
    my ($st, $h, $b) = @{$r[0] // []};
    my $e = $st && $st == 200 ? $json->decode($b) : {};
    is(($st // 0) . ' ' . ($e->{body_length} // 0) . ' '
        . ($e->{body_sha1} // ''), '200 3000000 ' . sha1_hex($data),
        'a chunked body, streamed');
    is($e->{headers}{'transfer-encoding'} // 'none', 'chunked',
        'chunked to the upstream');
    is(join(' ', @{$r[1] // []}[0, 2]), '200 ok b1',
        'the request after it on the same connection');
}

# Expect: 100-continue: answered by the gateway, not passed on
{
    my $s = connect_gw();
    put($s, "POST /s/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        . "Expect: 100-continue\r\nContent-Length: 100000\r\n\r\n");
    my $sel = IO::Select->new($s);
    my $first = '';
    sysread($s, $first, 100) if $sel->can_read(5);
    like($first, qr{^HTTP/1\.1 100 Continue\r\n\r\n}, '100 Continue');
    put($s, pattern(100_000));
    my ($st, $e) = echo_of(drain($s));
    is(($e->{body_length} // 0) . ' ' . ($e->{headers}{expect} // 'none'),
        '100000 none', 'then the body; no Expect upstream');
}

# the upstream answers before the body ends: the answer is relayed, the
# rest of the body left unread, and the connection closed
{
    my $s = connect_gw();
    put($s, "POST /s/early HTTP/1.1\r\nHost: x\r\n"
        . "Content-Length: 20000000\r\n\r\n" . pattern(200_000));
    my $all = drain($s, 5);
    my ($st, $h, $b) = parse_response($all);
    is("$st $b", '413 early b1', 'an answer before the body ends');
    is($h->{connection} // '', 'close', 'then the connection closes');
}

# a client that stops sending: 408 after api.client_body_timeout
{
    my $s = connect_gw();
    put($s, "POST /s/echo HTTP/1.1\r\nHost: x\r\n"
        . "Content-Length: 1000000\r\n\r\n" . pattern(100_000));
    my $t0 = time();
    IO::Select->new($s)->can_read(5);
    my $waited = time() - $t0;
    my ($st) = parse_response(drain($s, 5));
    is($st, 408, 'a stalled body: 408');
    ok($waited > 0.8 && $waited < 3, "after client_body_timeout: $waited s");
}

# a client gone in the middle: the daemon serves on
{
    my $s = connect_gw();
    put($s, "POST /s/echo HTTP/1.1\r\nHost: x\r\n"
        . "Content-Length: 5000000\r\n\r\n" . pattern(1_000_000));
    close($s);
    sleep(0.2);
    my $s2 = connect_gw();
    put($s2, "GET /s/after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    my ($st, $h, $b) = parse_response(drain($s2));
    is("$st $b", '200 ok b1', 'a client gone mid-body, the next one served');
}

# gateway.client_max_body_size, both framings
{
    my $s = connect_gw();
    put($s, "POST /s/echo HTTP/1.1\r\nHost: x\r\n"
        . "Content-Length: 41943041\r\n\r\n");
    my ($st) = parse_response(drain($s, 5));
    is($st, 413, 'a length over client_max_body_size: 413');

    $s = connect_gw();
    my $piece = pattern(1 << 20);
    put($s, "POST /s/echo HTTP/1.1\r\nHost: x\r\n"
        . "Transfer-Encoding: chunked\r\n\r\n");
    my $sent = 0;
    while ($sent < 41) {
        last unless put($s, sprintf("%x\r\n", length $piece) . "$piece\r\n");
        $sent++;
    }
    put($s, "0\r\n\r\n");
    ($st) = parse_response(drain($s, 5));
    is($st, 413, 'a chunked body growing over it: 413');
}

# a streamed POST goes to another instance when nothing of it had left
is(route('r', { path => '/r/', strip_prefix => JSON::PP::true,
    retry_non_idempotent => JSON::PP::true, upstream => { nodes => [
        { address => '127.0.0.1:' . port(9019), weight => 100 },
        node(2) ] } }), 200, 'a route with a dead node');
{
    my $data = pattern(1_000_000);
    my $s = connect_gw();
    put($s, "POST /r/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        . "Content-Length: 1000000\r\n\r\n" . $data);
    my ($st, $e, $h) = echo_of(drain($s));
    is("$st " . ($h->{'x-backend'} // '') . ' ' . ($e->{body_sha1} // ''),
        "200 b2 " . sha1_hex($data), 'a streamed POST retried on b2');
}

# answers gzipped by a route that asks, for clients that take gzip
is(route('g', { path => '/g/', strip_prefix => JSON::PP::true,
    gzip => JSON::PP::true,
    response_headers => { set => { 'Content-Type' => 'text/plain' } },
    upstream => { nodes => [ node(1) ] } }), 200, 'a route that gzips');

sub zget {
    my ($path, %o) = @_;
    my $s = connect_gw();
    put($s, "GET $path HTTP/" . ($o{v10} ? '1.0' : '1.1') . "\r\nHost: x\r\n"
        . "Connection: close\r\n"
        . ($o{plain} ? '' : "Accept-Encoding: br, gzip;q=0.9\r\n") . "\r\n");
    my ($st, $h, $b) = parse_response(drain($s));
    my $body = ($h->{'content-encoding'} // '') eq 'gzip'
        ? gunzip_data($b) // 'not gzip' : $b;
    return ($st, $h, $body);
}

for my $p ([ 'big', 'a length' ], [ 'bigchunked', 'chunks' ],
    [ 'close', 'the connection\'s end' ])
{
    my ($st, $h, $body) = zget("/g/$p->[0]/300000");
    is(join(' ', $st, $h->{'content-encoding'} // '-',
            $h->{'transfer-encoding'} // '-', $h->{'content-length'} // '-',
            $h->{vary} // '-', $body eq digits(300000) ? 'same' : 'differs'),
        '200 gzip chunked - Accept-Encoding same',
        "gzipped, from an answer framed by $p->[1]");
}

{
    my ($st, $h, $body) = zget('/g/big/300000', v10 => 1);
    is(join(' ', $st, $h->{'content-encoding'} // '-',
            $h->{'content-length'} // '-',
            $body eq digits(300000) ? 'same' : 'differs'),
        '200 gzip - same', 'to an HTTP/1.0 client: ended by the close');

    ($st, $h, $body) = zget('/g/big/300000', plain => 1);
    is(join(' ', $st, $h->{'content-encoding'} // '-',
            $h->{'content-length'} // '-'), '200 - 300000',
        'a client that does not take gzip: as it is');

    ($st, $h, $body) = zget('/g/small');
    is(join(' ', $st, $h->{'content-encoding'} // '-', $body),
        '200 - ok b1', 'shorter than api.gzip_min_length: as it is');

    ($st, $h, $body) = zget('/s/big/300000');
    is($h->{'content-encoding'} // '-', '-', 'a route that does not ask');
}

# answers no HTTP client can take: 502, not passed on; the daemon goes on
for my $what (qw/ status header /) {
    my ($st) = zget("/s/garbage/$what", plain => 1);
    is($st, 502, "an upstream's invalid answer ($what): 502");
}
{
    my ($st, $h, $body) = zget('/s/garbage/chunk', plain => 1);
    is("$st " . ($h->{'transfer-encoding'} // ''), '200 chunked',
        'an invalid chunk after the header: the answer began...');
    ok(length($body) < 100, '...and is cut short, not passed on');
}
my ($after) = zget("/s/after", plain => 1);
is($after, 200, "and the next request is served");

$_->stop for @b;

###############################################################################
