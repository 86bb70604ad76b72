#!/usr/bin/perl

# nacre: limits and error statuses: 400, 408, 413, 414, 431, 501, 505,
# header and body timeouts, worker_connections.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;

use IO::Socket::INET;
use Time::HiRes qw/ time sleep /;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new();
my $debug = $t->has_feature('debug');

$t->write_file_expand('nacre.yaml', <<'EOF')->plan(53);
daemon: false
worker_processes: 1
api:
  listen: 127.0.0.1:%%PORT_8848%%
  client_header_buffer_size: 1k
  client_max_body_size: 1k
  client_header_timeout: 1s
  client_body_timeout: 1s
EOF

$t->run();

# worker_connections: 16

my $wc = $t->instance('wc');
$wc->write_file_expand('nacre.yaml', <<'EOF');
daemon: false
worker_processes: 1
worker_connections: 16
api:
  listen: 127.0.0.1:%%PORT_8849%%
EOF

$wc->run();

my $LIVE = '/nacos/v1/console/health/liveness';
my $ECHO = '/nacre/debug/echo';

###############################################################################

# client_header_buffer_size: 1k

my $pad = 'x' x 800;
like(get("$LIVE?p=$pad"), qr{^HTTP/1\.1 200 }, 'request line under the limit');

like(get("$LIVE?p=" . ('x' x 1100)), qr{^HTTP/1\.1 414 },
    'request line over the limit: 414');

my $r = get("$LIVE?p=" . ('x' x 1100));
like($r, qr/^Connection: close\r$/mi, '414 closes');

like(get($LIVE, "X-Pad: " . ('y' x 1100) . "\r\n"), qr{^HTTP/1\.1 431 },
    'one big header: 431');

like(get($LIVE, join('', map { "X-H$_: " . ('z' x 40) . "\r\n" } 1 .. 30)),
    qr{^HTTP/1\.1 431 }, 'many headers: 431');

like(get($LIVE, "X-Pad: " . ('y' x 600) . "\r\n"), qr{^HTTP/1\.1 200 },
    'headers under the limit');

# the same in pieces: the limit is on the total, not per read

$r = http(["GET $LIVE HTTP/1.1\r\nHost: a\r\nX-A: " . ('a' x 500) . "\r\n",
    "X-B: " . ('b' x 600) . "\r\n", "Connection: close\r\n\r\n"],
    sleep_between => 0.05);
like($r, qr{^HTTP/1\.1 431 }, 'headers over the limit across writes');

###############################################################################

# malformed requests

for my $case (
    [ "GET\r\n\r\n", 'method only' ],
    [ "GET /x HTTP/1.1 extra\r\nHost: a\r\n\r\n", 'trailing junk' ],
    [ "GET x HTTP/1.1\r\nHost: a\r\n\r\n", 'target without slash' ],
    [ "GET /x HTTP/1.x\r\nHost: a\r\n\r\n", 'bad version' ],
    [ "GET /x FTP/1.1\r\nHost: a\r\n\r\n", 'bad protocol' ],
    [ "GET  /x HTTP/1.1\r\nHost: a\r\n\r\n", 'double space' ],
    [ "GET /x\x00y HTTP/1.1\r\nHost: a\r\n\r\n", 'NUL in target' ],
    [ "GET /x HTTP/1.1\rHost: a\r\n\r\n", 'bare CR' ],
    [ "GET /x HTTP/1.1\r\nBad Header: 1\r\nHost: a\r\n\r\n",
        'space in header name' ],
    [ "GET /x HTTP/1.1\r\nHost : a\r\n\r\n", 'space before colon' ],
    [ "GET /x HTTP/1.1\r\nNoColon\r\nHost: a\r\n\r\n", 'header without colon' ],
    [ "GET /x HTTP/1.1\r\nX-A: b\x00c\r\nHost: a\r\n\r\n", 'NUL in value' ],
    [ "GET /x HTTP/1.1\r\n: novalue\r\nHost: a\r\n\r\n", 'empty header name' ],
    [ "GET /x HTTP/1.1\r\nHost: a\r\nX-A: b\r\n  folded\r\n\r\n",
        'header folding' ],
    [ "GET /x HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tfolded\r\n\r\n",
        'header folding with tab' ],
)
{
    my ($req, $name) = @$case;
    like(http($req), qr{^HTTP/1\.1 400 }, "400: $name");
}

# HTTP/0.9 is not supported: 400 and close

$r = http("GET /\r\n");
like($r, qr{^HTTP/1\.[01] 400 }, 'HTTP/0.9 request: 400');

# HTTP/2 preface and version

$r = http("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
like($r, qr{^HTTP/1\.1 505 }, 'HTTP/2 preface: 505');

like(http("GET $LIVE HTTP/2.0\r\nHost: a\r\n\r\n"), qr{^HTTP/1\.1 505 },
    'HTTP/2.0 version: 505');

like(http("GET $LIVE HTTP/3.0\r\nHost: a\r\n\r\n"), qr{^HTTP/1\.1 505 },
    'HTTP/3.0 version: 505');

###############################################################################

# client_header_timeout: 1s

my $t0 = time();
$r = http("GET $LIVE HTTP/1.1\r\nHost: a\r\n");
my $el = time() - $t0;
like($r, qr{^HTTP/1\.1 408 }, 'incomplete headers: 408');
ok($el > 0.7 && $el < 4, 'after about client_header_timeout')
    or diag("took $el s");

$t0 = time();
$r = http('');
$el = time() - $t0;
like($r, qr{^(HTTP/1\.1 408 .*)?\z}s, 'nothing sent: closed (408 or silent)');
ok($el > 0.7 && $el < 4, 'silent connection closed in time')
    or diag("took $el s");

# a request trickled byte by byte slower than the timeout in total

$t0 = time();
$r = http([ map { substr("GET $LIVE HTTP/1.1\r\nHost: a\r\n\r\n", $_, 1) }
    0 .. 15 ], sleep_between => 0.15, quiet => 1);
like($r // '', qr{^HTTP/1\.1 408 |^\z}, 'slowloris headers cut off');
ok(time() - $t0 < 5, 'slowloris cut off in time');

###############################################################################

SKIP: {
    skip 'no --with-debug', 10 unless $debug;

    # client_max_body_size: 1k

    like(post_cl(1024, 'a' x 1024), qr{^HTTP/1\.1 200 }, 'body at the limit');
    like(post_cl(1025, 'a' x 1025), qr{^HTTP/1\.1 413 },
        'declared length over the limit: 413');
    like(post_cl(1025, ''), qr{^HTTP/1\.1 413 },
        'declared length over the limit, body not sent: 413');

    $r = http("POST $ECHO HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
        . "Transfer-Encoding: chunked\r\n\r\n"
        . ("200\r\n" . ('c' x 512) . "\r\n") x 3 . "0\r\n\r\n", quiet => 1);
    like($r // '', qr{^HTTP/1\.1 413 }, 'chunked body over the limit: 413');

    $r = http("POST $ECHO HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
        . "Transfer-Encoding: chunked\r\n\r\n"
        . ("200\r\n" . ('c' x 512) . "\r\n") x 2 . "0\r\n\r\n");
    like($r, qr{^HTTP/1\.1 200 }, 'chunked body at the limit');

    # client_body_timeout: 1s

    $t0 = time();
    $r = http("POST $ECHO HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
        . "Content-Length: 100\r\n\r\n0123456789");
    $el = time() - $t0;
    like($r, qr{^HTTP/1\.1 408 }, 'body not finished: 408');
    ok($el > 0.7 && $el < 4, 'after about client_body_timeout')
        or diag("took $el s");

    $t0 = time();
    $r = http("POST $ECHO HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
        . "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    $el = time() - $t0;
    like($r, qr{^HTTP/1\.1 408 }, 'chunked body not finished: 408');
    ok($el > 0.7 && $el < 4, 'chunked after about client_body_timeout')
        or diag("took $el s");

    # progress resets the timer: 5 writes 0.5 s apart finish fine

    $r = http(["POST $ECHO HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
        . "Content-Length: 5\r\n\r\n", 'a', 'b', 'c', 'd', 'e'],
        sleep_between => 0.4);
    like($r, qr{^HTTP/1\.1 200 }, 'slow but steady body');
}

###############################################################################

# after all that, fresh connections work and nothing crashed

like(get($LIVE), qr{^HTTP/1\.1 200 }, 'still serving');
ok($t->running(), 'daemon running');
is(scalar $t->worker_pids(), 1, 'worker alive');
is($t->wait_for_log(qr/exited on signal/, 0.1), undef, 'no worker crashed');

###############################################################################

# worker_connections: 16 with 40 idle connections

my $p = port(8849);
my @c;

for (1 .. 40) {
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$p", Timeout => 2)
        or last;
    push @c, $s;
}

ok(@c >= 16, 'connections opened: ' . scalar @c);
sleep(0.3);
ok($wc->running(), 'daemon up with connections over the limit');
my @w = $wc->worker_pids();
is(scalar @w, 1, 'worker up with connections over the limit');
ok($wc->wait_for_log(qr/16 worker_connections are not enough: new /, 5),
    'the error log says why new connections wait');

# full, the worker stops listening rather than spin on the ready socket
sub cpu_ticks {
    my ($pid) = @_;
    open(my $fh, '<', "/proc/$pid/stat") or return 0;
    my @f = split ' ', (<$fh> =~ s/^.*\) //r);
    return $f[11] + $f[12];
}

my $before = cpu_ticks($w[0]);
sleep(1);
my $spent = cpu_ticks($w[0]) - $before;
cmp_ok($spent, '<', 20, "the full worker idles ($spent ticks in a second)");

close $_ for @c;
@c = ();

my $ok = $t->wait_until(sub {
    my $r = http_get($LIVE, port => 8849, timeout => 2, quiet => 1) // '';
    $r =~ m{^HTTP/1\.1 200 };
}, 10);
ok($ok, 'serving again after the connections closed');
is_deeply([ $wc->worker_pids() ], \@w, 'same worker');

###############################################################################

sub get {
    my ($uri, $headers) = @_;

    return http("GET $uri HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
        . ($headers // '') . "\r\n");
}

sub post_cl {
    my ($len, $body) = @_;

    return http("POST $ECHO HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
        . "Content-Length: $len\r\n\r\n$body", quiet => 1) // '';
}

###############################################################################
