#!/usr/bin/perl

# nacre: request bodies: Content-Length, chunked (extensions, trailers,
# split writes), Expect: 100-continue, forms, framing errors.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;

use Digest::MD5 qw/ md5_hex /;
use JSON::PP;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new()->has('debug');

$t->write_file_expand('nacre.yaml', <<'EOF')->plan(58);
daemon: false
worker_processes: 1
api:
  listen: 127.0.0.1:%%PORT_8848%%
  client_max_body_size: 64k
EOF

$t->run();

my $ECHO = '/nacre/debug/echo';

###############################################################################

# Content-Length bodies and forms

my $j = echo(post($ECHO, 'a=1&b=hello+world&c=%41%42&d=%e4%bd%a0'));
is($j->{method}, 'POST', 'post method');
is_deeply($j->{params},
    [['a', '1'], ['b', 'hello world'], ['c', 'AB'], ['d', "\x{4f60}"]],
    'form params decoded') or diag(explain($j->{params}));
is($j->{body_length}, length 'a=1&b=hello+world&c=%41%42&d=%e4%bd%a0',
    'form body length');
is($j->{body_md5}, md5_hex('a=1&b=hello+world&c=%41%42&d=%e4%bd%a0'),
    'form body md5');

$j = echo(post("$ECHO?q=1&r=%2B", 'x=2&&y&q=3'));
is_deeply($j->{params}, [['q', '1'], ['r', '+'], ['x', '2'], ['y', ''],
    ['q', '3']], 'query params then form params');

$j = echo(post("$ECHO?q=1", '{"x":"a=b"}', 'application/json'));
is_deeply($j->{params}, [['q', '1']], 'json body is not a form');
is($j->{body_length}, 11, 'json body length');

$j = echo(post($ECHO, 'a=1', 'application/x-www-form-urlencoded; charset=UTF-8'));
is_deeply($j->{params}, [['a', '1']], 'form content type with parameters');

$j = echo(post($ECHO, ''));
is($j->{body_length}, 0, 'empty body');
is_deeply($j->{params}, [], 'empty body no params');

for my $m (qw/ PUT DELETE /) {
    $j = echo(http("$m $ECHO?m=1 HTTP/1.1\r\nHost: a\r\nConnection: close"
        . "\r\nContent-Length: 4\r\n\r\nabcd"));
    is($j->{method}, $m, "$m method echoed");
    is($j->{body_length}, 4, "$m body length");
}

$j = echo(http("GET $ECHO HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
    . "Content-Length: 5\r\n\r\nhello"));
is($j->{body_md5}, md5_hex('hello'), 'GET with a body');

# a large body in pieces

my $big = join('', map { chr(32 + $_ % 90) } 1 .. 60000);
$j = echo(http(["POST $ECHO HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
    . "Content-Type: text/plain\r\nContent-Length: 60000\r\n\r\n"
    . substr($big, 0, 1000), substr($big, 1000, 29000),
    substr($big, 30000)], sleep_between => 0.05));
is($j->{body_length}, 60000, 'large body length');
is($j->{body_md5}, md5_hex($big), 'large body md5');

# keep-alive after a body: the body is consumed, not parsed as a request

my $s = http("POST $ECHO HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
    . "Content-Type: application/x-www-form-urlencoded\r\n\r\n"
    . "a=bGET $ECHO?second=1 HTTP/1.1\r\nHost: a\r\nConnection: close"
    . "\r\n\r\n", start => 1);
$j = echo(http_read_response($s));
is_deeply($j->{params}, [['a', 'b']], 'pipelined after body: first');
$j = echo(http_end($s));
is_deeply($j->{params}, [['second', '1']], 'pipelined after body: second');

###############################################################################

# chunked

$j = echo(chunked([ "5\r\nhello\r\n", "6\r\n world\r\n", "0\r\n\r\n" ]));
is($j->{body_length}, 11, 'chunked length');
is($j->{body_md5}, md5_hex('hello world'), 'chunked md5');

$j = echo(chunked([ "5;name=value;x\r\nhello\r\nA\r\n0123456789\r\n"
    . "0;last\r\nX-Trailer: 1\r\nX-Other: two\r\n\r\n" ]));
is($j->{body_md5}, md5_hex('hello0123456789'),
    'chunked with extensions, upper-case hex and trailers');

$j = echo(chunked([ "3\r", "\nab", "c\r\n1", "0\r\n0123456789abcdef\r",
    "\n0\r\n", "\r\n" ]));
is($j->{body_md5}, md5_hex('abc0123456789abcdef'),
    'chunked split everywhere');

$j = echo(chunked([ "4\r\na=1&\r\n5\r\nb=x+y\r\n0\r\n\r\n" ], form => 1));
is_deeply($j->{params}, [['a', '1'], ['b', 'x y']], 'chunked form');

$j = echo(chunked([ "0\r\n\r\n" ]));
is($j->{body_length}, 0, 'chunked empty body');

my $r = chunked_raw([ "5\r\nhello\r\n0\r\n\r\n" ], keep => 1,
    tail => "GET $ECHO?after=1 HTTP/1.1\r\nHost: a\r\nConnection: close"
    . "\r\n\r\n");
my @rs = parse_responses($r);
is(scalar @rs, 2, 'pipelined after chunked: two responses');
is_deeply(eval { decode_json($rs[1][2] // '') }->{params}, [['after', '1']],
    'pipelined after chunked: second request intact');

# malformed chunked

like(chunked_raw([ "zz\r\nhello\r\n0\r\n\r\n" ]), qr{^HTTP/1\.1 400 },
    'bad chunk size');
like(chunked_raw([ "5\r\nhelloXX0\r\n\r\n" ]), qr{^HTTP/1\.1 400 },
    'missing CRLF after chunk data');
like(chunked_raw([ "ffffffffffffffffffff\r\nx\r\n0\r\n\r\n" ]),
    qr{^HTTP/1\.1 (400|413) }, 'chunk size overflow');
like(chunked_raw([ "-5\r\nhello\r\n0\r\n\r\n" ]), qr{^HTTP/1\.1 400 },
    'negative chunk size');
like(chunked_raw([ "5\r\nhello\r\n0\r\nBad Trailer\r\n\r\n" ]),
    qr{^HTTP/1\.1 400 }, 'bad trailer');

###############################################################################

# Expect: 100-continue

$s = http("POST $ECHO HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
    . "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n", start => 1);
$r = http_read_response($s);
like($r // '', qr{^HTTP/1\.1 100 Continue\r\n\r\n\z}, '100 continue first');
$r = http('hello', socket => $s);
$j = echo($r);
is($j->{body_md5}, md5_hex('hello'), 'final response after 100');

$s = http("POST $ECHO HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
    . "Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n",
    start => 1);
$r = http_read_response($s);
like($r // '', qr{^HTTP/1\.1 100 }, '100 continue with chunked');
$j = echo(http("2\r\nok\r\n0\r\n\r\n", socket => $s));
is($j->{body_md5}, md5_hex('ok'), 'chunked body after 100');

$r = http("POST $ECHO HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
    . "Expect: 100-continue\r\nContent-Length: 1000000\r\n\r\n");
like($r, qr{^HTTP/1\.1 413 }, 'expect with a length over the limit: 413');
unlike($r, qr{ 100 Continue}, 'no 100 before the 413');

$r = http("POST $ECHO HTTP/1.0\r\nExpect: 100-continue\r\n"
    . "Content-Length: 2\r\n\r\nok");
unlike($r, qr{ 100 Continue}, 'no 100 to HTTP/1.0');
like($r, qr{^HTTP/1\.[01] 200 }, 'HTTP/1.0 with expect served');

$r = http("POST $ECHO HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
    . "Expect: something-else\r\nContent-Length: 2\r\n\r\nok");
like($r, qr{^HTTP/1\.1 417 |^HTTP/1\.1 200 }, 'unknown expectation');

###############################################################################

# framing errors

$r = http("POST $ECHO HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
    . "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
like($r, qr{^HTTP/1\.1 400 }, 'content-length and transfer-encoding');
like($r, qr/^Connection: close\r$/mi, 'closed after smuggling attempt');
unlike($r, qr{HTTP/1\.1 200 }, 'nothing served after it');

$r = http("POST $ECHO HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
    . "Content-Length: 6\r\n\r\nhello!");
like($r, qr{^HTTP/1\.1 400 }, 'two different content-lengths');

$r = http("POST $ECHO HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n"
    . "hello!");
like($r, qr{^HTTP/1\.1 400 }, 'content-length list');

for my $cl ('abc', '-1', '+5', '5 5', '0x5', '99999999999999999999999') {
    $r = http("POST $ECHO HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
        . "Content-Length: $cl\r\n\r\nhello");
    like($r, qr{^HTTP/1\.1 (400|413) }, "bad content-length '$cl'");
}

$r = http("POST $ECHO HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
    . "Transfer-Encoding: gzip\r\n\r\nxxxx");
like($r, qr{^HTTP/1\.1 501 }, 'transfer-encoding gzip');

$r = http("POST $ECHO HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
    . "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
like($r, qr{^HTTP/1\.1 (501|400) }, 'transfer-encoding gzip, chunked');

$r = http("POST $ECHO HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
    . "5\r\nhello\r\n0\r\n\r\n");
like($r, qr{^HTTP/1\.[01] (400|501|200) }, 'chunked in HTTP/1.0 handled');

$r = http("POST $ECHO HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
    . "Content-Type: text/plain\r\n\r\n");
like($r, qr{^HTTP/1\.1 (200|411) }, 'POST without a length');

ok($t->running(), 'daemon still running');
($j) = echo(http_get($ECHO));
is($j->{method}, 'GET', 'still serving');

###############################################################################

sub post {
    my ($uri, $body, $type) = @_;

    $type //= 'application/x-www-form-urlencoded';

    return http("POST $uri HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
        . "Content-Type: $type\r\nContent-Length: " . length($body)
        . "\r\n\r\n$body");
}

sub chunked_raw {
    my ($pieces, %opts) = @_;

    my $type = $opts{form} ? "Content-Type: application/x-www-form-urlencoded"
        . "\r\n" : '';
    my $conn = $opts{keep} ? '' : "Connection: close\r\n";
    my @p = @$pieces;

    $p[0] = "POST $ECHO HTTP/1.1\r\nHost: a\r\n$conn$type"
        . "Transfer-Encoding: chunked\r\n\r\n$p[0]";
    $p[-1] .= $opts{tail} if defined $opts{tail};

    return http(\@p, sleep_between => 0.05);
}

sub chunked {
    return chunked_raw(@_);
}

sub echo {
    my ($r) = @_;

    my ($st, $h, $body) = parse_response($r);

    unless (defined $st && $st == 200) {
        diag('unexpected response: ' . ($r // 'none'));
        return {};
    }

    my $j = eval { decode_json($body) };
    diag("bad json: $@ in $body") unless $j;

    return $j // {};
}

###############################################################################
