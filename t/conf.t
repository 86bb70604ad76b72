#!/usr/bin/perl

# nacre: command line and configuration checks: -t, -T, -v, -V, -h and
# errors with file:line:column positions.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;

use IO::Socket::INET;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new()->plan(118);
my $d = $t->testdir();

###############################################################################

# -v, -V, -h

my $r = $t->nacre('-v');
is($r->{code}, 0, '-v exit code');
like($r->{stderr} . $r->{stdout}, qr{^nacre version: nacre/\d+\.\d+\.\d+$}m,
    '-v version line');

$r = $t->nacre('-V');
my $v = $r->{stderr} . $r->{stdout};
is($r->{code}, 0, '-V exit code');
like($v, qr{^nacre version: nacre/\d+\.\d+\.\d+$}m, '-V version line');
like($v, qr/^built by \S/m, '-V built by');
like($v, qr/^configure arguments:/m, '-V configure arguments');
like($v, qr/OpenSSL \d+\.\d+/i, '-V openssl version');
like($v, qr/zlib \d/i, '-V zlib version');
like($v, qr/pcre2? \d/i, '-V pcre2 version');
like($v, qr/(lib)?fyaml \d/i, '-V libfyaml version');

$r = $t->nacre('-h');
is($r->{code}, 0, '-h exit code');
like($r->{stderr} . $r->{stdout}, qr/-s signal|-s\b/, '-h lists -s');

$r = $t->nacre('-x');
isnt($r->{code}, 0, 'unknown option fails');
like($r->{stderr}, qr/\bx\b/, 'unknown option named');

$r = $t->nacre('-c');
isnt($r->{code}, 0, '-c without an argument fails');

###############################################################################

# a valid configuration

$t->write_file_expand('ok.yaml', <<'EOF');
# a comment
daemon: false
worker_processes: 3
worker_connections: 64
worker_shutdown_timeout: 500ms
pid: logs/test.pid
error_log: logs/err.log
log_level: warn
access_log: "off"
data_dir: mydata
api:
  listen:
    - 127.0.0.1:%%PORT_8848%%
    - "localhost:%%PORT_8849%%"
  client_max_body_size: 512k
  client_header_buffer_size: 8k
  client_header_timeout: 30s
  client_body_timeout: 5m
  send_timeout: 1h
  keepalive_timeout: 2d
  keepalive_requests: 7
  gzip: false
  gzip_min_length: 512
  gzip_comp_level: 9
  root: www
cluster: {}
auth: {}
gateway: {}
store: {}
naming: {}
config: {}
EOF

# -t does not bind: the port may be busy

my $busy = IO::Socket::INET->new(LocalAddr => '127.0.0.1:' . port(8848),
    Listen => 1, ReuseAddr => 1) or die "listen: $!";

$r = test_conf('ok.yaml');
is($r->{code}, 0, '-t ok exit code');
like($r->{stderr}, qr{^nacre: the configuration file \S*ok\.yaml syntax is ok$}m,
    '-t syntax is ok');
like($r->{stderr},
    qr{^nacre: configuration file \S*ok\.yaml test is successful$}m,
    '-t test is successful');
ok(!-e "$d/logs/test.pid", '-t writes no pid file');
ok(!-e "$d/mydata", '-t creates no data dir');

close $busy;

# -T: the effective configuration

$r = $t->nacre('-p', "$d/", '-c', 'ok.yaml', '-T');
is($r->{code}, 0, '-T exit code');
my $dump = $r->{stdout};
like($dump, qr/^worker_processes: 3$/m, '-T worker_processes');
like($dump, qr/^worker_connections: 64$/m, '-T worker_connections');
like($dump, qr/^log_level: warn$/m, '-T log_level');
like($dump, qr{^pid: "?\Q$d\E/logs/test\.pid"?$}m, '-T pid absolute');
like($dump, qr{^data_dir: "?\Q$d\E/mydata"?$}m, '-T data_dir absolute');
like($dump, qr/^access_log: "?off"?$/m, '-T access_log off');
like($dump, qr/^\s+keepalive_requests: 7$/m, '-T keepalive_requests');
like($dump, qr/^\s+client_max_body_size: "?(512k|524288)"?$/m,
    '-T client_max_body_size');
like($dump, qr/^\s+gzip: false$/m, '-T gzip');
like($dump, qr{^\s+root: "?\Q$d\E/www"?$}m, '-T root absolute');
like($dump, qr/127\.0\.0\.1:\Q${\ port(8848)}\E/, '-T first listen');
like($dump, qr/:\Q${\ port(8849)}\E/, '-T second listen');

# the dump is itself a valid configuration with the same meaning

$t->write_file('dumped.yaml', $dump);
$r = test_conf('dumped.yaml');
is($r->{code}, 0, '-T output passes -t') or diag($r->{stderr});
$r = $t->nacre('-p', "$d/", '-c', 'dumped.yaml', '-T');
is($r->{stdout}, $dump, '-T of the dump is the same dump');

# defaults

$t->write_file('min.yaml', "daemon: false\n");
$r = $t->nacre('-p', "$d/", '-c', 'min.yaml', '-T');
is($r->{code}, 0, 'minimal conf');
$dump = $r->{stdout};
like($dump, qr/^worker_connections: 4096$/m, 'default worker_connections');
like($dump, qr{^pid: "?\Q$d\E/logs/nacre\.pid"?$}m, 'default pid');
like($dump, qr{^error_log: "?\Q$d\E/logs/error\.log"?$}m, 'default error_log');
like($dump, qr{^access_log: "?\Q$d\E/logs/access\.log"?$}m,
    'default access_log');
like($dump, qr/^log_level: info$/m, 'default log_level');
like($dump, qr/^\s+keepalive_requests: 1000$/m, 'default keepalive_requests');
like($dump, qr/127\.0\.0\.1:8848/, 'default listen');
like($dump, qr/^\s+gzip: true$/m, 'default gzip');

# accepted value forms

for my $case (
    [ 'worker_processes: auto', 'worker_processes auto' ],
    [ "api:\n  listen: 127.0.0.1:1", 'listen as a scalar' ],
    [ "api:\n  listen: [\"127.0.0.1:1\", \"127.0.0.1:2\"]", 'listen flow' ],
    [ "api:\n  listen: 18848", 'listen port only' ],
    [ "api:\n  listen: \"*:18848\"", 'listen wildcard' ],
    [ "api:\n  listen: \"[::1]:18848\"", 'listen ipv6' ],
    [ "api:\n  client_max_body_size: 1g", 'size 1g' ],
    [ "api:\n  client_max_body_size: 512", 'size bytes' ],
    [ "api:\n  keepalive_timeout: 0", 'zero keepalive' ],
)
{
    my ($yaml, $name) = @$case;
    $t->write_file('acc.yaml', "daemon: false\n$yaml\n");
    $r = test_conf('acc.yaml');
    is($r->{code}, 0, "accepted: $name") or diag($r->{stderr});
}

###############################################################################

# errors name file:line:column

my @bad = (
    [ "daemon: false\nbogus: 1\n", 2, 1, qr/unknown key/i,
        'unknown top-level key' ],
    [ "daemon: false\napi:\n  listen: 127.0.0.1:1\n  foo: bar\n", 4, 3,
        qr/unknown key/i, 'unknown api key' ],
    [ "api:\n  client_max_body_size: 10q\n", 2, [3, 25], qr/\S/,
        'bad size unit' ],
    [ "api:\n  client_max_body_size: 99999999999999999999g\n", 2, [3, 25],
        qr/\S/, 'size overflow' ],
    [ "api:\n  client_header_timeout: 5x\n", 2, [3, 26], qr/\S/,
        'bad duration unit' ],
    [ "api:\n  client_header_timeout: -5s\n", 2, [3, 26], qr/\S/,
        'negative duration' ],
    [ "api:\n  listen: 127.0.0.1:99999\n", 2, [3, 11], qr/\S/,
        'port out of range' ],
    [ "api:\n  listen: 300.1.1.1:80\n", 2, [3, 11], qr/\S/,
        'bad ipv4 address' ],
    [ "api:\n  listen: \"127.0.0.1:\"\n", 2, [3, 11], qr/\S/, 'empty port' ],
    [ "api:\n  listen:\n    - 127.0.0.1:1\n    - nonsense:port\n", 4, [5, 7],
        qr/\S/, 'bad address in a list' ],
    [ "daemon: maybe\n", 1, [1, 9], qr/\S/, 'bad boolean' ],
    [ "worker_processes: many\n", 1, [1, 19], qr/\S/, 'bad number' ],
    [ "worker_processes: 0\n", 1, [1, 19], qr/\S/, 'zero workers' ],
    [ "log_level: loud\n", 1, [1, 12], qr/\S/, 'bad log level' ],
    [ "api:\n  gzip_comp_level: 10\n", 2, [3, 20], qr/\S/,
        'gzip_comp_level out of range' ],
    [ "api: 5\n", 1, [1, 6], qr/\S/, 'api not a map' ],
    [ "worker_connections: [1, 2]\n", 1, [1, 21], qr/\S/,
        'sequence for a scalar' ],
    [ "cluster:\n  peers: []\n", 2, 3, qr/unknown key "peers" in "cluster"/,
        'unknown cluster key' ],
    [ "cluster:\n  self: 127.0.0.1:7848\n"
        . "  members: [127.0.0.1:7849, 127.0.0.1:7850]\n", 3, 12,
        qr/"members" must include "self" \(127\.0\.0\.1:7848\)/,
        'cluster self not a member' ],
    [ "cluster:\n  self: \"*:7848\"\n", 2, 9, qr/wildcard address/,
        'cluster self a wildcard' ],
    [ "cluster:\n  self: 127.0.0.1:7848\n"
        . "  members: [127.0.0.1:7848, 127.0.0.1:7849]\n", 2, 3,
        qr/"secret_file" is required in "cluster"/,
        'cluster without a secret' ],
    [ "cluster:\n  self: 127.0.0.1:7848\n  heartbeat_interval: 200ms\n"
        . "  election_timeout: 500ms\n", 4, 21,
        qr/"election_timeout" \(500ms\) must be at least 3 times/,
        'cluster election timeout too short' ],
    [ "daemon: false\nconfig:\n  x: 1\n", 3, 3, qr/unknown key/i,
        'non-empty reserved config' ],
);

for my $b (@bad) {
    my ($yaml, $line, $col, $re, $name) = @$b;

    $t->write_file('bad.yaml', $yaml);
    $r = test_conf('bad.yaml');

    my $cols = ref $col ? join('|', @$col) : $col;

    is($r->{code}, 1, "$name: exit 1");
    like($r->{stderr}, qr/^nacre: \S*bad\.yaml:$line:(?:$cols): .*$re/m,
        "$name: position") or diag($r->{stderr});
}

# cluster: standalone with only self as a member needs no secret

$t->write_file('one.yaml', <<'EOF');
daemon: false
cluster:
  self: 127.0.0.1:7848
  members: [127.0.0.1:7848]
EOF

$r = test_conf('one.yaml');
is($r->{code}, 0, 'cluster of one: exit 0') or diag($r->{stderr});
$r = $t->nacre('-p', "$d/", '-c', 'one.yaml', '-T');
$dump = $r->{stdout};
like($dump, qr/^cluster:\n\s+self: 127\.0\.0\.1:7848\n/m, '-T cluster self');
like($dump, qr/^\s+members:\n\s+- 127\.0\.0\.1:7848\n\s+# secret_file: /m,
    '-T cluster members');
like($dump, qr/^\s+election_timeout: 1s\n\s+heartbeat_interval: 100ms\n/m,
    '-T cluster timings');
$t->write_file('one-dumped.yaml', $dump);
is(test_conf('one-dumped.yaml')->{code}, 0, '-T cluster dump passes -t');

# three members share a secret file, relative to the prefix

$t->write_file('cluster.key', "0123456789abcdef0123456789abcdef\n");
$t->write_file('short.key', "0123456789abcde\n");

my $three = "cluster:\n  self: 127.0.0.1:7848\n"
    . "  members: [127.0.0.1:7848, 127.0.0.1:7849, 127.0.0.1:7850]\n";

$t->write_file('three.yaml', $three . "  secret_file: cluster.key\n");
$r = test_conf('three.yaml');
is($r->{code}, 0, 'cluster of three: exit 0') or diag($r->{stderr});

$t->write_file('short.yaml', $three . "  secret_file: short.key\n");
$r = test_conf('short.yaml');
is($r->{code}, 1, 'short secret: exit 1');
like($r->{stderr}, qr{short\.yaml:4:16: .*"\Q$d\E/short\.key".* 15 bytes}m,
    'short secret: file named');

# YAML syntax errors

$t->write_file('syn.yaml', "daemon: false\napi:\n  listen: \"127.0.0.1:1\n");
$r = test_conf('syn.yaml');
is($r->{code}, 1, 'unterminated quote: exit 1');
like($r->{stderr}, qr/^nacre: \S*syn\.yaml:[2-4]:\d+: \S/m,
    'unterminated quote: position');

$t->write_file('syn2.yaml', "daemon: false\n  worker_processes: 1\n");
$r = test_conf('syn2.yaml');
is($r->{code}, 1, 'bad indentation: exit 1');
like($r->{stderr}, qr/^nacre: \S*syn2\.yaml:[12]:\d+: \S/m,
    'bad indentation: position');

# missing file and an empty one

$r = test_conf('nonexistent.yaml');
is($r->{code}, 1, 'missing conf: exit 1');
like($r->{stderr}, qr/nonexistent\.yaml/, 'missing conf named');

$t->write_file('empty.yaml', '');
$r = test_conf('empty.yaml');
ok($r->{code} == 0 || $r->{code} == 1, 'empty conf handled: '
    . $r->{code});
is($r->{signal}, 0, 'empty conf: no crash');

# a directory given as the conf

mkdir "$d/adir";
$r = test_conf('adir');
is($r->{code}, 1, 'directory as conf: exit 1');

# binary junk

$t->write_file('junk.yaml', join('', map { chr } 0 .. 255));
$r = test_conf('junk.yaml');
is($r->{code}, 1, 'binary junk: exit 1');
is($r->{signal}, 0, 'binary junk: no crash');

###############################################################################

sub test_conf {
    my ($file) = @_;
    return $t->nacre('-p', "$d/", '-c', $file, '-t');
}

###############################################################################
