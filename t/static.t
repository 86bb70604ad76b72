#!/usr/bin/perl

# nacre: static files under /nacos/: index, redirects, types, ETag,
# conditional requests, HEAD, traversal and symlinks.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;

use Digest::MD5 qw/ md5_hex /;
use POSIX qw/ strftime /;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new();

$t->write_file_expand('nacre.yaml', <<'EOF')->plan(73);
daemon: false
worker_processes: 1
api:
  listen: 127.0.0.1:%%PORT_8848%%
  gzip: false
EOF

my $d = $t->testdir();
my $png = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR" . join('', map { chr } 0 .. 255);
my $large = join('', map { sprintf("%08d\n", $_) } 1 .. 40000);

my %files = (
    'index.html' => "<html>root index</html>\n",
    'style.css' => "body { color: red }\n",
    'app.js' => "console.log('x');\n",
    'data.json' => qq{{"a":1}\n},
    'logo.png' => $png,
    'icon.svg' => qq{<svg xmlns="http://www.w3.org/2000/svg"/>\n},
    'favicon.ico' => "\0\0\1\0",
    'readme.txt' => "plain text\n",
    'font.woff2' => "wOF2\0\1",
    'blob.xyz' => "unknown type\n",
    'noext' => "no extension\n",
    'sp ace.txt' => "space in name\n",
    'dir/index.html' => "<html>dir index</html>\n",
    'dir/page.html' => "<html>page</html>\n",
    'empty/.keep' => '',
    'large.txt' => $large,
);

$t->write_file("html/$_", $files{$_}) for keys %files;
$t->write_file('secret.txt', "SECRET outside the root\n");
symlink("$d/secret.txt", "$d/html/evil.txt") or die "symlink: $!";
symlink($d, "$d/html/evildir") or die "symlink: $!";

my $mtime = 1700000000;
utime($mtime, $mtime, "$d/html/readme.txt") or die "utime: $!";

$t->run();

###############################################################################

# redirect and index files

my ($st, $h, $body) = parse_response(http_get('/nacos'));
is($st, 301, '/nacos redirects');
like($h->{location} // '', qr{^(https?://[^/]+)?/nacos/$}, 'to /nacos/');

($st, $h, $body) = parse_response(http_get('/nacos/'));
is($st, 200, '/nacos/ status');
is($body, $files{'index.html'}, '/nacos/ serves index.html');
like($h->{'content-type'} // '', qr{^text/html}, 'index type');

($st, $h, $body) = parse_response(http_get('/nacos/dir/'));
is($st, 200, 'dir/ status');
is($body, $files{'dir/index.html'}, 'dir/ serves its index.html');

($st, undef, $body) = parse_response(http_get('/nacos/dir/page.html'));
is($body, $files{'dir/page.html'}, 'file in a subdirectory');

($st) = parse_response(http_get('/nacos/empty/'));
is($st, 404, 'directory without index.html');

($st) = parse_response(http_get('/nacos/missing.html'));
is($st, 404, 'missing file');

($st) = parse_response(http_get('/nacos/dir/missing/'));
is($st, 404, 'missing directory');

###############################################################################

# content types, lengths and bytes

my %types = (
    'style.css' => qr{^text/css},
    'app.js' => qr{^(application|text)/javascript},
    'data.json' => qr{^application/json},
    'logo.png' => qr{^image/png$},
    'icon.svg' => qr{^image/svg\+xml},
    'favicon.ico' => qr{^image/(x-icon|vnd\.microsoft\.icon)$},
    'readme.txt' => qr{^text/plain},
    'font.woff2' => qr{^font/woff2$},
    'blob.xyz' => qr{^application/octet-stream$},
    'noext' => qr{^application/octet-stream$},
);

for my $f (sort keys %types) {
    ($st, $h, $body) = parse_response(http_get("/nacos/$f"));
    like($h->{'content-type'} // '', $types{$f}, "$f content-type");
    ok($st == 200 && $body eq $files{$f}
        && $h->{'content-length'} == length $files{$f}, "$f content");
}

($st, undef, $body) = parse_response(http_get('/nacos/sp%20ace.txt'));
is($body, $files{'sp ace.txt'}, 'percent-encoded name');

($st, undef, $body) = parse_response(http_get('/nacos/readme.txt?v=1'));
is($body, $files{'readme.txt'}, 'query string ignored');

($st, undef, $body) = parse_response(http_get('/nacos//dir/./page.html'));
is($body, $files{'dir/page.html'}, 'path normalized');

# a large file, then the connection stays usable

my $s = http_get('/nacos/large.txt', keepalive => 1, start => 1);
my $r = http_read_response($s);
($st, $h, $body) = parse_response($r);
is($st, 200, 'large file status');
is(length($body // ''), length $large, 'large file length');
is(md5_hex($body // ''), md5_hex($large), 'large file bytes');
($st, undef, $body) = parse_response(http_get('/nacos/readme.txt',
    socket => $s));
is($body, $files{'readme.txt'}, 'next request after a large file');

###############################################################################

# ETag, Last-Modified, conditional requests

my $etag = sprintf('"%x-%x"', $mtime, length $files{'readme.txt'});
my $lm = strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime($mtime));

($st, $h) = parse_response(http_get('/nacos/readme.txt'));
is($h->{etag}, $etag, 'etag is "mtime-size" in hex');
is($h->{'last-modified'}, $lm, 'last-modified');

$r = get('/nacos/readme.txt', "If-None-Match: $etag");
($st, $h, $body) = parse_response($r);
is($st, 304, 'if-none-match same: 304');
is($body, '', '304 has no body');
is($h->{etag}, $etag, '304 carries the etag');

($st) = parse_response(get('/nacos/readme.txt', qq{If-None-Match: "x", $etag}));
is($st, 304, 'if-none-match list');

($st, undef, $body) = parse_response(get('/nacos/readme.txt',
    'If-None-Match: "1-2"'));
is($st, 200, 'if-none-match other: 200');
is($body, $files{'readme.txt'}, 'full body on mismatch');

($st) = parse_response(get('/nacos/readme.txt', "If-Modified-Since: $lm"));
is($st, 304, 'if-modified-since same: 304');

($st) = parse_response(get('/nacos/readme.txt', 'If-Modified-Since: '
    . strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime($mtime - 3600))));
is($st, 200, 'if-modified-since earlier: 200');

($st) = parse_response(get('/nacos/readme.txt',
    'If-Modified-Since: not a date'));
is($st, 200, 'if-modified-since garbage: 200');

($st) = parse_response(get('/nacos/readme.txt',
    "If-None-Match: \"1-2\"\r\nIf-Modified-Since: $lm"));
is($st, 200, 'if-none-match wins over if-modified-since');

# a changed file gets a new etag

$t->write_file('html/readme.txt', "plain text, longer\n");
utime($mtime + 16, $mtime + 16, "$d/html/readme.txt");
($st, $h, $body) = parse_response(get('/nacos/readme.txt',
    "If-None-Match: $etag"));
is($st, 200, 'changed file: 200');
is($h->{etag}, sprintf('"%x-%x"', $mtime + 16, 19), 'changed file etag');

###############################################################################

# HEAD

$r = http_head('/nacos/logo.png');
($st, $h, $body) = parse_response($r);
is($st, 200, 'HEAD status');
is($h->{'content-length'}, length $png, 'HEAD content-length');
is($body, '', 'HEAD no body');

$r = http_head('/nacos/');
($st, $h, $body) = parse_response($r);
is($h->{'content-length'}, length $files{'index.html'}, 'HEAD of an index');

###############################################################################

# escaping the root

for my $uri (
    '/nacos/../secret.txt',
    '/nacos/%2e%2e/secret.txt',
    '/nacos/%2E%2E/secret.txt',
    '/nacos/..%2fsecret.txt',
    '/nacos/..%2f..%2fetc/passwd',
    '/nacos/dir/../../secret.txt',
    '/nacos/dir/%2e%2e/%2e%2e/secret.txt',
    '/nacos/..%5csecret.txt',
    '/nacos/readme.txt%00.html',
    '/nacos/../../../../../../etc/passwd',
)
{
    $r = http_get($uri);
    ($st) = parse_response($r);
    ok(defined $st && ($st == 400 || $st == 404)
        && $r !~ /SECRET|root:/, "traversal $uri: " . ($st // 'none'));
}

$r = http_get('/nacos/evil.txt');
($st) = parse_response($r);
ok(defined $st && ($st == 404 || $st == 403) && $r !~ /SECRET/,
    'symlink to a file outside the root: ' . ($st // 'none'));

$r = http_get('/nacos/evildir/secret.txt');
($st) = parse_response($r);
ok(defined $st && ($st == 404 || $st == 403) && $r !~ /SECRET/,
    'symlinked directory outside the root: ' . ($st // 'none'));

# the old name of a file swapped for an outside symlink while running

$t->write_file('html/swap.txt', "inside\n");
($st, undef, $body) = parse_response(http_get('/nacos/swap.txt'));
is($body, "inside\n", 'swap target served');
unlink("$d/html/swap.txt");
symlink("$d/secret.txt", "$d/html/swap.txt");
$r = http_get('/nacos/swap.txt');
unlike($r, qr/SECRET/, 'swapped to an outside symlink: not served');

# methods

($st, $h) = parse_response(http("POST /nacos/readme.txt HTTP/1.1\r\n"
    . "Host: a\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"));
is($st, 405, 'POST to a static file');
like($h->{allow} // '', qr/GET/, 'allow on static');

ok($t->running(), 'daemon still running');

###############################################################################

sub get {
    my ($uri, $headers) = @_;

    return http("GET $uri HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
        . "$headers\r\n\r\n");
}

###############################################################################
