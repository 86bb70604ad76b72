#!/usr/bin/perl

# nacre: HTTP/1.1 basics: health endpoints, response headers, keep-alive,
# HTTP/1.0, pipelining, HEAD, 404/405/501, Host, keepalive limits.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;

use JSON::PP;
use Time::HiRes qw/ time sleep /;
use Time::Local qw/ timegm /;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new();
my $ipv6 = $t->has_feature('ipv6');
my $debug = $t->has_feature('debug');

my $listen6 = $ipv6 ? qq{\n    - "[::1]:%%PORT_8850%%"} : '';

$t->write_file_expand('nacre.yaml', <<"EOF")->plan(69);
daemon: false
worker_processes: 1
api:
  listen:
    - 127.0.0.1:%%PORT_8848%%$listen6
  keepalive_timeout: 1s
  keepalive_requests: 5
EOF

$t->run();
$t->wait_ready() or diag('the store did not load');

my $LIVE = '/nacos/v1/console/health/liveness';
my $READY = '/nacos/v1/console/health/readiness';

###############################################################################

# health endpoints and the headers every response carries

my ($st, $h, $body) = parse_response(http_get($LIVE));
is($st, 200, 'liveness status');
is($body, 'OK', 'liveness body');
is($h->{'content-length'}, 2, 'liveness content-length');
like($h->{'content-type'} // '', qr{^text/plain}, 'liveness content-type');
is($h->{server}, 'nacre', 'server header');
like($h->{connection} // '', qr/^close$/i, 'connection close honoured');
ok(date_ok($h->{date}), 'date header is a current HTTP-date')
    or diag('date: ' . ($h->{date} // 'none'));

($st, $h, $body) = parse_response(http_get($READY));
is($st, 200, 'readiness status');
is($body, 'OK', 'readiness body');

($st) = parse_response(http_get("$LIVE?probe=1&x=%20"));
is($st, 200, 'liveness with a query string');

# unknown paths and methods

($st, $h, $body) = parse_response(http_get('/nope'));
is($st, 404, 'unknown path');
like($h->{'content-type'} // '', qr{\S}, '404 has a content-type');
is($h->{'content-length'}, length $body, '404 content-length matches');
is($h->{server}, 'nacre', '404 server header');
ok(date_ok($h->{date}), '404 date header');

($st, $h, $body) = parse_response(http("GET /x HTTP/1.1\r\nHost: a\r\n"
    . "X: \x01\r\n\r\n"));
is($st, 400, 'control character in a header value');
is($h->{'content-length'}, length $body, '400 content-length matches');
is($h->{server}, 'nacre', '400 server header');

($st) = parse_response(http_get('/nacos/v1/ns/nothing-here'));
is($st, 404, 'unknown api path');

($st, $h) = parse_response(http(crlf(<<EOF)));
POST $LIVE HTTP/1.1
Host: localhost
Connection: close
Content-Length: 0

EOF
is($st, 405, 'POST on a GET-only endpoint');
like($h->{allow} // '', qr/\bGET\b/, 'allow header lists GET');

($st) = parse_response(http(crlf(<<EOF)));
DELETE $READY HTTP/1.1
Host: localhost
Connection: close

EOF
is($st, 405, 'DELETE on a GET-only endpoint');

($st) = parse_response(http(crlf(<<EOF)));
BREW /nope HTTP/1.1
Host: localhost
Connection: close

EOF
like($st // '', qr/^(501|404)$/, 'unknown method token elsewhere');

($st, $h) = parse_response(http(crlf(<<EOF)));
BREW $LIVE HTTP/1.1
Host: localhost
Connection: close

EOF
like($st // '', qr/^(405|501)$/, 'unknown method token on a known path');

# Host

($st) = parse_response(http("GET $LIVE HTTP/1.1\r\n"
    . "Connection: close\r\n\r\n"));
is($st, 400, 'HTTP/1.1 without Host');

($st) = parse_response(http("GET $LIVE HTTP/1.0\r\n\r\n"));
is($st, 200, 'HTTP/1.0 without Host');

# tolerated syntax: no space after the colon, bare LF, leading empty lines

($st) = parse_response(http("GET $LIVE HTTP/1.1\r\nhost:localhost\r\n"
    . "connection:close\r\n\r\n"));
is($st, 200, 'header without space after colon');

($st) = parse_response(http("GET $LIVE HTTP/1.1\nHost: localhost\n"
    . "Connection: close\n\n"));
is($st, 200, 'bare LF line ends');

($st) = parse_response(http("\r\n\r\nGET $LIVE HTTP/1.1\r\nHost: localhost"
    . "\r\nConnection: close\r\n\r\n"));
is($st, 200, 'leading empty lines skipped');

###############################################################################

# keep-alive

my $s = http_get($LIVE, keepalive => 1, start => 1);
my $r = http_read_response($s);
($st, $h, $body) = parse_response($r);
is($st, 200, 'keepalive first');
like($h->{connection} // '', qr/^keep-alive$/i, 'keepalive header');
$r = http_get($READY, keepalive => 1, socket => $s);
($st, $h, $body) = parse_response($r);
is($st, 200, 'keepalive second on the same connection');
is($body, 'OK', 'keepalive second body');

# keepalive_timeout: 1s closes an idle connection

my $t0 = time();
is(read_eof($s, 5), 1, 'idle keepalive connection closed');
my $idle = time() - $t0;
ok($idle > 0.5 && $idle < 4, 'closed after about keepalive_timeout')
    or diag("closed after $idle s");

# keepalive_requests: 5, the fifth response says close

$s = http_get($LIVE, keepalive => 1, start => 1);
my @conn;
for my $i (1 .. 5) {
    $r = $i == 1 ? http_read_response($s)
        : http_get($LIVE, keepalive => 1, socket => $s);
    ($st, $h) = parse_response($r);
    push @conn, ($st // 'none') . ':' . lc($h->{connection} // '');
}
is(join(' ', @conn), '200:keep-alive 200:keep-alive 200:keep-alive '
    . '200:keep-alive 200:close', 'keepalive_requests');
is(read_eof($s, 3), 1, 'closed after keepalive_requests');

# HTTP/1.0

$s = http("GET $LIVE HTTP/1.0\r\n\r\n", start => 1);
$r = http_read_response($s);
($st, $h) = parse_response($r);
is($st, 200, 'HTTP/1.0 status');
unlike($h->{connection} // '', qr/keep-alive/i, 'HTTP/1.0 not kept alive');
is(read_eof($s, 3), 1, 'HTTP/1.0 closes');

$s = http("GET $LIVE HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    start => 1);
$r = http_read_response($s);
($st, $h) = parse_response($r);
is($st, 200, 'HTTP/1.0 keep-alive status');
like($h->{connection} // '', qr/^keep-alive$/i, 'HTTP/1.0 keep-alive header');
$r = http("GET $READY HTTP/1.0\r\n\r\n", socket => $s);
($st, undef, $body) = parse_response($r);
is($st, 200, 'HTTP/1.0 keep-alive second request');
is($body, 'OK', 'HTTP/1.0 keep-alive second body');

###############################################################################

# pipelining: responses in order

$r = http(
    "GET $LIVE HTTP/1.1\r\nHost: a\r\n\r\n"
    . "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n"
    . "HEAD $READY HTTP/1.1\r\nHost: a\r\n\r\n"
    . "GET $READY HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
my @rs = parse_responses_mixed($r, [0, 0, 1, 0]);
is(join(' ', map { $_->[0] // 'none' } @rs), '200 404 200 200',
    'pipelined statuses in order');
is($rs[3][2], 'OK', 'pipelined last body');
is($rs[2][2], '', 'pipelined HEAD has no body');

# a pipelined request split in the middle of the second one

$r = http([
    "GET $LIVE HTTP/1.1\r\nHost: a\r\n\r\nGET /nacos/v1/console/he",
    "alth/readiness HTTP/1.1\r\nHost: a\r\nConn",
    "ection: close\r\n\r\n"
], sleep_between => 0.05);
@rs = parse_responses($r);
is(join(' ', map { $_->[0] // 'none' } @rs), '200 200',
    'pipelined split across writes');

###############################################################################

# HEAD

$r = http_head($LIVE);
($st, $h, $body) = parse_response($r);
is($st, 200, 'HEAD status');
is($h->{'content-length'}, 2, 'HEAD content-length of the GET body');
is($body, '', 'HEAD without body');

$s = http("HEAD $LIVE HTTP/1.1\r\nHost: a\r\n\r\n", start => 1);
$r = http_read_response($s, head => 1);
is((parse_response($r))[0], 200, 'HEAD keepalive');
$r = http_get($READY, socket => $s);
($st, undef, $body) = parse_response($r);
is($st, 200, 'GET after HEAD on the same connection');
is($body, 'OK', 'GET after HEAD body is not shifted');

###############################################################################

# a bad request closes its connection, others keep working

$s = http_get($LIVE, keepalive => 1, start => 1);
http_read_response($s);
$r = http("GET /x HTTP/1.1\r\nHost: a\r\nBad Header: 1\r\n\r\n",
    socket => $s);
like($r, qr{^HTTP/1\.1 400 }, 'bad request on a kept-alive connection');
like($r, qr/^Connection: close\r$/mi, 'bad request says close');
($st) = parse_response(http_get($LIVE));
is($st, 200, 'other connections unaffected');

###############################################################################

# debug echo: the raw target and the decoded parameters

SKIP: {
    skip 'no --with-debug', 8 unless $debug;

    ($st, $h, $body) = parse_response(
        http_get('/nacre/debug/echo?a=1&b=%20x&a=2&c'));
    is($st, 200, 'echo status');
    like($h->{'content-type'} // '', qr{^application/json}, 'echo type');

    my $j = eval { decode_json($body) } // {};
    is($j->{method}, 'GET', 'echo method');
    is($j->{uri}, '/nacre/debug/echo?a=1&b=%20x&a=2&c', 'echo raw uri');
    is($j->{path}, '/nacre/debug/echo', 'echo path');
    is_deeply($j->{params}, [['a', '1'], ['b', ' x'], ['a', '2'], ['c', '']],
        'echo params decoded in order');
    is($j->{body_length}, 0, 'echo body length');
    is($j->{body_md5}, 'd41d8cd98f00b204e9800998ecf8427e', 'echo empty md5');
}

# IPv6 listener

SKIP: {
    skip 'no ipv6', 2 unless $ipv6;

    ($st, undef, $body) = parse_response(
        http_get($LIVE, addr => '[::1]:' . port(8850)));
    is($st, 200, 'ipv6 status');
    is($body, 'OK', 'ipv6 body');
}

ok($t->running(), 'daemon still running');
is(scalar $t->worker_pids(), 1, 'one worker');

###############################################################################

sub crlf {
    my ($s) = @_;
    $s =~ s/\n/\r\n/g;
    return $s;
}

sub date_ok {
    my ($d) = @_;
    my %mon = (Jan => 0, Feb => 1, Mar => 2, Apr => 3, May => 4, Jun => 5,
        Jul => 6, Aug => 7, Sep => 8, Oct => 9, Nov => 10, Dec => 11);

    return 0 unless defined $d && $d =~ /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),
        [ ](\d\d)[ ](\w{3})[ ](\d{4})[ ](\d\d):(\d\d):(\d\d)[ ]GMT$/x;
    return 0 unless exists $mon{$2};

    my $ts = timegm($6, $5, $4, $1, $mon{$2}, $3);
    return abs($ts - time()) < 60;
}

# wait for the peer to close; 1 on EOF, 0 on data or timeout
sub read_eof {
    my ($s, $timeout) = @_;
    my $buf;

    my $r = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm($timeout);
        my $n = sysread($s, $buf, 4096);
        alarm(0);
        # ECONNRESET counts as closed
        !defined $n ? 1 : $n == 0 ? 1 : 0;
    };
    alarm(0);

    return $r // 0;
}

sub parse_responses_mixed {
    my ($raw, $heads) = @_;
    my @r;

    for my $head (@$heads) {
        last unless defined $raw && length $raw;
        my ($one) = Test::Nacre::_response_length($raw, $head);
        $one = length $raw if !defined $one || $one < 0;
        push @r, [ parse_response(substr($raw, 0, $one, '')) ];
    }

    return @r;
}

###############################################################################
