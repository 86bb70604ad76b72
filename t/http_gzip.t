#!/usr/bin/perl

# nacre: gzip of responses: types, gzip_min_length, Accept-Encoding,
# Vary, gzip: false, gzip_comp_level.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new();
my $debug = $t->has_feature('debug');

$t->write_file_expand('nacre.yaml', <<'EOF')->plan(43);
daemon: false
worker_processes: 1
api:
  listen: 127.0.0.1:%%PORT_8848%%
EOF

my $text = join('', map { "line $_ of some compressible text\n" } 1 .. 200);
my $small = "short text, under the minimum\n" x 3;
my $json = '{"items":[' . join(',', map { qq{{"id":$_,"name":"n$_"}} }
    1 .. 100) . "]}\n";
my $words = words();
my $bin = join('', map { chr(($_ * 7919) % 256) } 1 .. 4096);

my %files = (
    'big.txt' => $text,
    'small.txt' => $small,
    'data.json' => $json,
    'app.js' => "var a = 1;\n" x 200,
    'style.css' => "p { margin: 0 }\n" x 200,
    'img.svg' => '<svg>' . ('<g/>' x 400) . "</svg>\n",
    'page.html' => '<p>' . ('hello ' x 400) . "</p>\n",
    'data.xml' => '<a>' . ('<b/>' x 400) . "</a>\n",
    'img.png' => $bin,
    'blob.bin' => $bin,
    'words.txt' => $words,
);

$t->write_file("html/$_", $files{$_}) for keys %files;

# gzip: false; and gzip_min_length: 50, gzip_comp_level: 9

my $off = $t->instance('off');
$off->write_file_expand('nacre.yaml', <<'EOF');
daemon: false
worker_processes: 1
api:
  listen: 127.0.0.1:%%PORT_8849%%
  gzip: false
EOF
$off->write_file('html/big.txt', $text);

my $lvl = $t->instance('lvl');
$lvl->write_file_expand('nacre.yaml', <<'EOF');
daemon: false
worker_processes: 1
api:
  listen: 127.0.0.1:%%PORT_8850%%
  gzip_min_length: 50
  gzip_comp_level: 9
EOF
$lvl->write_file('html/small.txt', $small);
$lvl->write_file('html/words.txt', $words);

$t->run();
$off->run();
$lvl->run();

###############################################################################

# compressible types over the minimum

for my $f (qw/ big.txt data.json app.js style.css img.svg page.html
    data.xml /)
{
    my ($st, $h, $body) = gz("/nacos/$f");
    ok($st == 200 && ($h->{'content-encoding'} // '') eq 'gzip',
        "$f gzipped");
    is(gunzip_data($body // ''), $files{$f}, "$f gunzips to the original");
}

my ($st, $h, $body) = gz('/nacos/big.txt');
like($h->{vary} // '', qr/Accept-Encoding/i, 'vary');
ok(length($body) < length($text) / 2, 'actually smaller');
ok(!defined $h->{'content-length'} || $h->{'content-length'} == length $body,
    'content-length is the compressed length');

# identity cases

($st, $h, $body) = parse_response(http_get('/nacos/big.txt'));
ok(!defined $h->{'content-encoding'}, 'no accept-encoding: identity');
is($body, $text, 'no accept-encoding: original body');
is($h->{'content-length'}, length $text, 'identity content-length');

($st, $h, $body) = gz('/nacos/small.txt');
ok(!defined $h->{'content-encoding'}, 'under gzip_min_length: identity');
is($body, $small, 'under gzip_min_length: body');

for my $f (qw/ img.png blob.bin /) {
    ($st, $h, $body) = gz("/nacos/$f");
    ok(!defined $h->{'content-encoding'}, "$f not gzipped");
    is($body, $bin, "$f body");
}

($st, $h, $body) = gz('/nacos/big.txt', 'br');
ok(!defined $h->{'content-encoding'}, 'accept-encoding br only: identity');

($st, $h, $body) = gz('/nacos/big.txt', 'deflate, gzip;q=0.8, br');
is($h->{'content-encoding'}, 'gzip', 'gzip in a list');

($st, $h, $body) = gz('/nacos/big.txt', 'GZIP');
is($h->{'content-encoding'}, 'gzip', 'case-insensitive');

($st, $h, $body) = gz('/nacos/big.txt', 'gzip;q=0');
ok(!defined $h->{'content-encoding'}, 'gzip;q=0 refuses gzip');

# HEAD and keep-alive with gzip

my $r = http_head('/nacos/big.txt', headers => "Accept-Encoding: gzip\r\n");
($st, $h, $body) = parse_response($r);
is($st, 200, 'HEAD with gzip');
is($body, '', 'HEAD with gzip has no body');

my $s = http_get('/nacos/big.txt', keepalive => 1, start => 1,
    headers => "Accept-Encoding: gzip\r\n");
$r = http_read_response($s);
($st, $h, $body) = parse_response($r);
is(gunzip_data($body // ''), $text, 'gzip keepalive first');
($st, $h, $body) = parse_response(http_get('/nacos/small.txt',
    socket => $s));
is($body, $small, 'next response on the connection intact');

###############################################################################

# gzip: false

($st, $h, $body) = gz('/nacos/big.txt', 'gzip', 8849);
ok(!defined $h->{'content-encoding'}, 'gzip off: identity');
is($body, $text, 'gzip off: body');

# gzip_min_length: 50, gzip_comp_level: 9

($st, $h, $body) = gz('/nacos/small.txt', 'gzip', 8850);
is($h->{'content-encoding'}, 'gzip', 'lower minimum: small file gzipped');
is(gunzip_data($body // ''), $small, 'lower minimum: gunzips');

my ($st1, $h1, $body1) = gz('/nacos/words.txt', 'gzip', 8850);
($st, $h, $body) = gz('/nacos/words.txt');
is(gunzip_data($body1 // ''), $words, 'level 9 gunzips');
ok(length($body1 // '') < 0.9 * length($body // ''),
    'comp level 9 smaller than level 1')
    or diag('level 9: ' . length($body1 // '') . ', level 1: '
        . length($body // ''));

###############################################################################

# dynamic responses

SKIP: {
    skip 'no --with-debug', 2 unless $debug;

    my $q = join('&', map { "k$_=value$_" } 1 .. 100);
    ($st, $h, $body) = gz("/nacre/debug/echo?$q");
    is($h->{'content-encoding'}, 'gzip', 'json response gzipped');
    like(gunzip_data($body // '') // '', qr/"k100","value100"/,
        'json response gunzips');
}

($st, $h, $body) = gz('/nacos/v1/console/health/liveness');
ok(!defined $h->{'content-encoding'} && $body eq 'OK',
    'tiny response not gzipped');

###############################################################################

# text where level 9 beats level 1 by 30%
sub words {
    my @w = qw/ alpha beta gamma delta epsilon zeta eta theta /;
    my ($x, $s) = (1, '');

    for (1 .. 3000) {
        $x = ($x * 1103515245 + 12345) % 2147483648;
        $s .= $w[$x >> 16 & 7] . (($x >> 8) % 5 ? ' ' : "\n");
    }

    return $s;
}

sub gz {
    my ($uri, $ae, $port) = @_;

    return parse_response(http_get($uri, port => $port // 8848,
        headers => 'Accept-Encoding: ' . ($ae // 'gzip') . "\r\n"));
}

###############################################################################
