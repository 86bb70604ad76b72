#!/usr/bin/perl

# nacre: Test::Nacre::Backend, the HTTP/1.1 backend the gateway tests
# proxy to: routes, bodies, keep-alive, pipelining, concurrency,
# WebSocket, resets, stop/restart/graceful stop. Raw sockets only; no
# nacre daemon is started.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre qw/ port /;
use Test::Nacre::Backend;

use Digest::SHA qw/ sha1 sha1_hex /;
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use MIME::Base64 qw/ encode_base64 /;
use Time::HiRes qw/ time sleep /;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

$SIG{PIPE} = 'IGNORE';

my %rbuf;       # per client socket: read but not yet consumed

plan(tests => 83);

my $b1 = Test::Nacre::Backend->start(port => port(8081), name => 'b1');
my $b2 = Test::Nacre::Backend->start(port => port(8082), name => 'b2');

is($b1->port, port(8081), 'b1 port');
is($b2->port, port(8082), 'b2 port');
ok($b1->pid && $b2->pid && $b1->pid != $b2->pid && $b1->running,
    'two processes');
is($b1->name . ' ' . $b2->name, 'b1 b2', 'names');

###############################################################################

# the default route, X-Backend

my $r = get($b1, '/anything?x=1');
is($r->{status}, 200, 'default status');
is($r->{body}, 'ok b1', 'default body');
is($r->{h}{'x-backend'}, 'b1', 'x-backend b1');

$r = get($b2, '/');
is($r->{body}, 'ok b2', 'default body b2');
is($r->{h}{'x-backend'}, 'b2', 'x-backend b2');

###############################################################################

# /echo

$r = req($b1, "POST /echo/a?b=c&d=%20 HTTP/1.1\r\nHost: h1\r\n"
    . "X-Test: 1\r\nx-test: 2\r\nContent-Length: 11\r\n"
    . "Connection: close\r\n\r\nhello world");
is($r->{h}{'content-type'}, 'application/json', 'echo content type');
my $j = json($r->{body});
is($j->{method}, 'POST', 'echo method');
is($j->{path}, '/echo/a?b=c&d=%20', 'echo raw target');
is("$j->{headers}{'x-test'} $j->{headers}{host}", '2 h1',
    'echo headers lowercased, last wins');
is($j->{body_length}, 11, 'echo body length');
is($j->{body_sha1}, sha1_hex('hello world'), 'echo body sha1');

# chunked, written in pieces split inside a size line, extensions, trailer

{
    my $body = 'abc' x 1000;
    my $s = conn($b1);
    send_all($s, "PUT /echo HTTP/1.1\r\nHost: h\r\n"
        . "Transfer-Encoding: chunked\r\n\r\n1;ext=1\r\na\r\n6");
    sleep(0.05);
    send_all($s, "3\r\n" . substr($body, 1, 0x63) . "\r\n");
    sleep(0.05);
    send_all($s, sprintf("%X\r\n%s\r\n0\r\nX-Trailer: t\r\n\r\n",
        2900, substr($body, 100)));
    $r = read_response($s);
    $j = json($r->{body});
    is($j->{headers}{'transfer-encoding'}, 'chunked', 'chunked: header');
    is("$j->{body_length} $j->{body_sha1}", '3000 ' . sha1_hex($body),
        'chunked body read fully');

    # the same connection still works after the trailer
    send_all($s, "GET /echo/again HTTP/1.1\r\nHost: h\r\n\r\n");
    $r = read_response($s);
    is(json($r->{body})->{path}, '/echo/again', 'request after chunked');
}

{
    my $body = join '', map { chr($_ % 251) } 1 .. 1 << 20;
    $r = req($b1, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: "
        . length($body) . "\r\nConnection: close\r\n\r\n" . $body);
    $j = json($r->{body});
    is("$j->{body_length} $j->{body_sha1}", (1 << 20) . ' '
        . sha1_hex($body), '1 MiB body');
}

$r = req($b1, "DELETE /echo HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
$j = json($r->{body});
is("$j->{method} $j->{body_length} $j->{body_sha1}",
    'DELETE 0 ' . sha1_hex(''), 'no body');

###############################################################################

# /status, HEAD

$r = get($b1, '/status/404');
is($r->{status}, 404, 'status 404');
is($r->{body}, 'status 404', 'status body');

$r = get($b2, '/status/503?q');
is("$r->{status} $r->{body} $r->{h}{'x-backend'}", '503 status 503 b2',
    'status 503');

{
    my $s = conn($b1);
    send_all($s, "GET /status/204 HTTP/1.1\r\nHost: h\r\n\r\n");
    $r = read_response($s);
    is("$r->{status} [$r->{body}] " . ($r->{h}{'content-length'} // '-'),
        '204 [] -', 'status 204 without body');

    send_all($s, "HEAD /big/100 HTTP/1.1\r\nHost: h\r\n\r\n");
    $r = read_response($s, head => 1);
    is("$r->{status} [$r->{body}] $r->{h}{'content-length'}", '200 [] 100',
        'HEAD: length, no body');

    send_all($s, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    $r = read_response($s);
    is($r->{body}, 'ok b1', 'keep-alive after 204 and HEAD');
}

###############################################################################

# /big, /bigchunked, /close

$r = get($b1, '/big/100000');
is($r->{h}{'content-length'}, 100000, 'big: content length');
is($r->{body}, pattern(100000), 'big: body');

$r = get($b1, '/big/10485760');
is(length($r->{body}) . ' ' . sha1_hex($r->{body}),
    '10485760 ' . sha1_hex(pattern(10485760)), 'big: 10 MiB');

$r = get($b1, '/bigchunked/100000');
ok(($r->{h}{'transfer-encoding'} // '') eq 'chunked'
    && !exists $r->{h}{'content-length'}, 'bigchunked: chunked');
is($r->{body}, pattern(100000), 'bigchunked: body');
is(join(',', @{$r->{chunks}}), join(',', (16384) x 6, 100000 - 6 * 16384),
    'bigchunked: 16 KiB chunks');

{
    my $s = conn($b1);
    send_all($s, "GET /close HTTP/1.1\r\nHost: h\r\n\r\n");
    $r = read_response($s);
    ok(!exists $r->{h}{'content-length'}
        && !exists $r->{h}{'transfer-encoding'}, 'close: no length');
    is($r->{body}, 'close b1', 'close: body');
    ok($r->{eof}, 'close: ended by close');
}

$r = get($b1, '/close/50000');
is($r->{body}, pattern(50000), 'close: long body');

###############################################################################

# /reset

{
    my $s = conn($b1);
    send_all($s, "GET /reset HTTP/1.1\r\nHost: h\r\n\r\n");
    my ($n, $err, $data) = read_raw($s);
    ok(!defined $n && $err eq 'ECONNRESET' && $data eq '',
        'reset: connection reset, nothing read')
        or diag("read: " . ($n // 'undef') . " $err [$data]");
}

# /early: the answer before the body, which stays unread

{
    my $s = conn($b1);
    send_all($s, "POST /early HTTP/1.1\r\nHost: h\r\n"
        . "Content-Length: 1000000\r\n\r\n" . pattern(10000));
    my $r = read_response($s);
    is("$r->{status} $r->{body}", '413 early b1', 'early: 413 at once');
    is(lc($r->{h}{connection} // ''), 'close', 'early: then closed');
}

###############################################################################

# WebSocket

{
    my $key = encode_base64('0123456789abcdef', '');
    my $s = conn($b1);
    send_all($s, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
        . "Connection: Upgrade\r\nSec-WebSocket-Key: $key\r\n"
        . "Sec-WebSocket-Version: 13\r\n\r\n");
    $r = read_response($s, head => 1);
    is($r->{status}, 101, 'ws: 101');
    is($r->{h}{'sec-websocket-accept'},
        encode_base64(sha1($key . '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'),
            ''), 'ws: accept key');
    is($r->{h}{'x-backend'}, 'b1', 'ws: x-backend');

    send_all($s, ws_frame(0x81, 'hello ws'));
    my ($b0, $masked, $payload) = ws_read($s);
    is(sprintf('%02x %d', $b0 // 0, $masked // 1), '81 0',
        'ws: text frame, unmasked');
    is($payload, 'hello ws', 'ws: text echoed');

    my $bin = join '', map { chr(($_ * 7) % 256) } 1 .. 70000;
    send_all($s, ws_frame(0x82, $bin));
    ($b0, $masked, $payload) = ws_read($s);
    ok(($b0 // 0) == 0x82 && ($payload // '') eq $bin,
        'ws: 70000 bytes binary echoed');

    send_all($s, ws_frame(0x89, 'pi'));
    ($b0, $masked, $payload) = ws_read($s);
    is(sprintf('%02x %s', $b0 // 0, $payload // ''), '8a pi', 'ws: pong');

    send_all($s, ws_frame(0x88, pack('n', 1000) . 'bye'));
    ($b0, $masked, $payload) = ws_read($s);
    is(sprintf('%02x %s', $b0 // 0, unpack('H*', $payload // '')),
        '88 03e8', 'ws: close answered');
    my ($n) = read_raw($s);
    is($n, 0, 'ws: closed after close');
}

$r = get($b1, '/ws');
is($r->{status}, 400, 'ws: no upgrade, 400');

###############################################################################

# keep-alive, Connection: close, HTTP/1.0

{
    my $s = conn($b1);
    send_all($s, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
    my $r1 = read_response($s);
    send_all($s, "GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
    my $r2 = read_response($s);
    ok($r1->{status} == 200 && $r2->{status} == 200
        && !$r1->{h}{connection} && !$r2->{h}{connection},
        'keep-alive: two requests');
    is($r1->{h}{'x-backend-conn'}, $r2->{h}{'x-backend-conn'},
        'keep-alive: same connection');

    send_all($s, "GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    $r = read_response($s);
    is($r->{h}{connection}, 'close', 'connection close: answered');
    is((read_raw($s))[0], 0, 'connection close: closed');
}

{
    my $s = conn($b1);
    send_all($s, "GET / HTTP/1.0\r\n\r\n");
    $r = read_response($s);
    ok($r->{body} eq 'ok b1' && $r->{h}{connection} eq 'close'
        && (read_raw($s))[0] == 0, 'HTTP/1.0: closed');

    $s = conn($b1);
    send_all($s, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    $r = read_response($s);
    is($r->{h}{connection}, 'keep-alive', 'HTTP/1.0 keep-alive: answered');
    send_all($s, "GET /bigchunked/20 HTTP/1.0\r\nConnection: keep-alive"
        . "\r\n\r\n");
    $r = read_response($s);
    ok($r->{body} eq pattern(20) && !$r->{h}{'transfer-encoding'}
        && $r->{eof}, 'HTTP/1.0: second request, no chunked');
}

###############################################################################

# pipelining, /slow

{
    my $s = conn($b1);
    send_all($s, "GET /slow/200 HTTP/1.1\r\nHost: h\r\n\r\n"
        . "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
        . "GET /status/404 HTTP/1.1\r\nHost: h\r\n\r\n");
    my @r = map { read_response($s) } 1 .. 3;
    is($r[0]{body}, 'slow 200', 'pipelined: slow first');
    is(json($r[1]{body})->{body_length}, 3, 'pipelined: echo second');
    is($r[2]{status}, 404, 'pipelined: status third');
}

{
    my $t0 = time();
    my $sa = conn($b1);
    send_all($sa, "GET /slow/600 HTTP/1.1\r\nHost: h\r\n\r\n");
    sleep(0.05);
    $r = get($b1, '/');
    my $tb = time() - $t0;
    my $ra = read_response($sa);
    my $ta = time() - $t0;
    ok($r->{body} eq 'ok b1' && $tb < 0.4, 'slow does not block others')
        or diag("other answered after $tb s");
    ok($ra->{body} eq 'slow 600' && $ta >= 0.55, 'slow waits')
        or diag("slow answered after $ta s");
}

###############################################################################

# Expect: 100-continue, a malformed request

{
    my $s = conn($b1);
    send_all($s, "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n"
        . "Expect: 100-continue\r\n\r\n");
    $r = read_response($s);
    is($r->{status}, 100, '100 continue');
    send_all($s, 'body');
    $r = read_response($s);
    is(json($r->{body})->{body_length}, 4, 'body after 100 continue');
}

{
    my $s = conn($b1);
    send_all($s, "GARBAGE\r\n\r\n");
    $r = read_response($s);
    is($r->{status}, 400, 'bad request: 400');
    ok($r->{h}{connection} eq 'close' && (read_raw($s))[0] == 0,
        'bad request: closed');
}

###############################################################################

# 64 concurrent keep-alive connections, 10 requests each

{
    my @s = map { conn($b2) } 1 .. 64;
    my (%ids, $same);
    my $ok = 0;

    for my $round (1 .. 10) {
        for my $i (0 .. $#s) {
            my $body = "r$round-c$i";
            send_all($s[$i], "POST /echo/$i/$round HTTP/1.1\r\nHost: h\r\n"
                . 'Content-Length: ' . length($body) . "\r\n\r\n$body");
        }

        for my $i (0 .. $#s) {
            my $r = read_response($s[$i]) or next;
            my $j = eval { decode_json($r->{body}) } or next;
            $ok++ if $r->{status} == 200 && $j->{path} eq "/echo/$i/$round"
                && $j->{body_sha1} eq sha1_hex("r$round-c$i")
                && $r->{h}{'x-backend'} eq 'b2';
            push @{$ids{$i}}, $r->{h}{'x-backend-conn'};
        }
    }

    is($ok, 640, '64 connections x 10 requests');
    my %distinct = map { $ids{$_}[0] => 1 } keys %ids;
    is(scalar keys %distinct, 64, '64 distinct connections');
    $same = grep { my $l = $ids{$_}; !grep { $_ ne $l->[0] } @$l } keys %ids;
    is($same, 64, 'each connection kept alive');
}

###############################################################################

# /count

{
    my $c1 = get($b2, '/count')->{body};
    get($b2, "/x$_") for 1 .. 3;
    my $c2 = get($b2, '/count')->{body};
    is($c2 - $c1, 4, 'count');
}

###############################################################################

# a kernel-chosen port

my $b3 = Test::Nacre::Backend->start(name => 'b3');
ok($b3->port > 0 && get($b3, '/')->{body} eq 'ok b3', 'port 0');

###############################################################################

# stop: a crash

{
    my $s = conn($b2);
    send_all($s, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    $r = read_response($s);
    is($r->{body}, 'ok b2', 'before stop');

    my $pid = $b2->pid;
    $b2->stop();
    ok(!$b2->running && !kill(0, $pid), 'stop: process gone');

    my ($n, $err) = read_raw($s);
    ok(!$n, 'stop: open connection ended') or diag("read: $n");
    ok(!defined conn($b2, quiet => 1), 'stop: connect refused');

    $b2->restart();
    is($b2->port, port(8082), 'restart: same port');
    ok($b2->pid != $pid && get($b2, '/')->{body} eq 'ok b2',
        'restart: answers');
    is(get($b2, '/count')->{body}, 2, 'restart: count from 0');
}

{
    my $s = conn($b3);
    send_all($s, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    read_response($s);
    $b3->stop(reset => 1);
    my ($n, $err) = read_raw($s);
    ok(!defined $n && $err eq 'ECONNRESET', 'stop(reset): reset')
        or diag("read: " . ($n // 'undef') . " $err");
}

###############################################################################

# graceful stop

{
    my $idle = conn($b1);
    send_all($idle, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    read_response($idle);

    my $busy = conn($b1);
    send_all($busy, "GET /slow/300 HTTP/1.1\r\nHost: h\r\n\r\n");
    sleep(0.05);

    $b1->stop_graceful();
    ok(!defined conn($b1, quiet => 1), 'graceful: connect refused');

    $r = read_response($busy);
    is("$r->{status} $r->{body} $r->{h}{connection}", '200 slow 300 close',
        'graceful: in-flight request finished');
    is((read_raw($busy))[0], 0, 'graceful: then closed');
    is((read_raw($idle))[0], 0, 'graceful: idle connection closed');
    close $busy;
    close $idle;
    ok($b1->wait(5) && !$b1->running, 'graceful: exited');
}

###############################################################################

# helpers

sub conn {
    my ($b, %opts) = @_;

    my $s = IO::Socket::INET->new(
        Proto => 'tcp',
        PeerAddr => '127.0.0.1',
        PeerPort => $b->port,
        Timeout => 3,
    );

    diag("connect to " . $b->name . ": $!") unless $s || $opts{quiet};

    return $s;
}

sub send_all {
    my ($s, $data) = @_;

    return 0 unless $s;

    my $off = 0;

    while ($off < length $data) {
        my $n = syswrite($s, $data, length($data) - $off, $off);
        return 0 unless defined $n;
        $off += $n;
    }

    return 1;
}

# more data into the socket's buffer: n > 0, 0 at EOF, undef on errors
# (and timeouts)
sub more {
    my ($s, $timeout) = @_;

    return undef unless $s;
    return undef unless IO::Select->new($s)->can_read($timeout // 5);

    my $n = sysread($s, my $buf, 65536);
    $rbuf{$s} .= $buf if $n;

    return $n;
}

# a raw read: (n, errno name or '', what was buffered or read)
sub read_raw {
    my ($s) = @_;

    my $pending = delete $rbuf{$s} // '';
    return (length $pending, '', $pending) if length $pending;

    local $!;
    my $n = more($s, 3);
    my $err = defined $n ? '' : (grep { $!{$_} } keys %!)[0] // 'timeout';

    return ($n, $err, delete $rbuf{$s} // '');
}

# one response: { status, h (lowercased, last wins), body, chunks (sizes),
# eof (the body ended with the connection) }; undef if the connection
# ended before a complete response
sub read_response {
    my ($s, %opts) = @_;

    return undef unless $s;

    my $buf = \$rbuf{$s};
    $$buf //= '';

    my $i;
    while (($i = index($$buf, "\r\n\r\n")) < 0) {
        more($s) or return undef;
    }

    my $head = substr($$buf, 0, $i + 4, '');
    my ($line, @lines) = split /\r\n/, $head;
    my ($status) = $line =~ m{^HTTP/1\.[01] (\d{3}) } or return undef;

    my %h;
    for my $l (@lines) {
        my ($k, $v) = $l =~ /^([^:]+):\s*(.*?)\s*$/ or next;
        $h{lc $k} = $v;
    }

    my $r = { status => $status, h => \%h, body => '', chunks => [] };

    return $r if $opts{head} || $status =~ /^1/ || $status == 204
        || $status == 304;

    if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
        for ( ;; ) {
            while ($$buf !~ /\r\n/) {
                more($s) or return undef;
            }
            $$buf =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n// or return undef;
            my $size = hex $1;

            if ($size == 0) {
                while ($$buf !~ /^\r\n/ && $$buf !~ /\r\n\r\n/) {
                    more($s) or return undef;
                }
                $$buf =~ s/^(?:.+?\r\n)*?\r\n//s;
                return $r;
            }

            push @{$r->{chunks}}, $size;

            while (length $$buf < $size + 2) {
                more($s) or return undef;
            }
            $r->{body} .= substr($$buf, 0, $size, '');
            $$buf =~ s/^\r\n// or return undef;
        }
    }

    if (defined $h{'content-length'}) {
        while (length $$buf < $h{'content-length'}) {
            more($s) or return undef;
        }
        $r->{body} = substr($$buf, 0, $h{'content-length'}, '');
        return $r;
    }

    # delimited by close
    for ( ;; ) {
        my $n = more($s);
        last unless $n;
    }

    $r->{body} = $$buf;
    $$buf = '';
    $r->{eof} = 1;

    return $r;
}

sub req {
    my ($b, $raw, %opts) = @_;
    my $s = conn($b);
    send_all($s, $raw);
    return read_response($s, %opts) // { status => 0, h => {}, body => '' };
}

sub get {
    my ($b, $path) = @_;
    return req($b, "GET $path HTTP/1.1\r\nHost: localhost\r\n"
        . "Connection: close\r\n\r\n");
}

sub json {
    my ($text) = @_;
    my $j = eval { decode_json($text // '') };
    return $j // {};
}

sub pattern {
    my ($n) = @_;
    return substr('0123456789' x (int($n / 10) + 1), 0, $n);
}

# a masked client frame
sub ws_frame {
    my ($b0, $payload) = @_;

    my $l = length $payload;
    my $mask = pack('N', int(rand(2**32)));
    my $f = chr($b0);

    if ($l < 126) {
        $f .= chr(0x80 | $l);
    } elsif ($l < 65536) {
        $f .= chr(0x80 | 126) . pack('n', $l);
    } else {
        $f .= chr(0x80 | 127) . pack('Q>', $l);
    }

    return $f . $mask
        . ($payload ^ substr($mask x (int($l / 4) + 1), 0, $l));
}

# (first byte, masked bit, payload) of a server frame
sub ws_read {
    my ($s) = @_;

    my $buf = \$rbuf{$s};
    $$buf //= '';

    for ( ;; ) {
        if (length $$buf >= 2) {
            my ($b0, $b1) = unpack 'CC', $$buf;
            my $len = $b1 & 0x7f;
            my $off = 2;

            if ($len == 126 && length $$buf >= 4) {
                $len = unpack 'n', substr($$buf, 2, 2);
                $off = 4;
            } elsif ($len == 127 && length $$buf >= 10) {
                $len = unpack 'Q>', substr($$buf, 2, 8);
                $off = 10;
            }

            if ($len < 126 || $off > 2) {
                if (length $$buf >= $off + $len) {
                    my $p = substr($$buf, $off, $len);
                    substr($$buf, 0, $off + $len, '');
                    return ($b0, $b1 & 0x80 ? 1 : 0, $p);
                }
            }
        }

        more($s) or return ();
    }
}

###############################################################################
