#!/usr/bin/perl

# nacre: Nacos' naming API v1 and v2.  Registration in its variants
# (plain and grouped names, clusters, weights, metadata in both forms,
# v2), the list as Nacos shapes it (name grouped, clusters echoed, the
# clusters and healthyOnly filters, disabled instances left out), one
# instance, update and patch, beats (known, unknown, registering again
# from the beat JSON), leases (unhealthy after the timeout, healthy on
# the next beat, removed after the delete timeout), the kinds of a
# service, services (create, read, update, list, refusing to delete one
# with instances), the protect threshold, health checks of persistent
# instances (TCP against a listener the test opens and closes, HTTP with a
# path and expected code, NONE set by hand), UDP pushes (the test is the
# subscriber: plain and gzipped datagrams, acks as numbers and strings, one
# retry without an ack), Nacos 2.x's clients (publishers, this node's
# subscribers), bad input everywhere, the operator's endpoints, the
# console's catalog, the address server, permissions; and on three
# members: the same bytes listed everywhere, every member's API address
# in the server list, and a leader change that expires nobody who beats.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;

use Encode;
use IO::Select;
use IO::Socket::INET;
use IO::Socket::IP;
use IO::Uncompress::Gunzip qw/ gunzip $GunzipError /;
use JSON::PP;
use Time::HiRes qw/ time sleep /;
use URI::Escape qw/ uri_escape /;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new()->plan(169);
my $json = JSON::PP->new->canonical;

my %port = (a => port(8891));

my $na = $t->instance('a');
$na->write_file('admin.pw', "naming-admin-password-0\n");
$na->write_file_expand('nacre.yaml', <<'EOF');
daemon: false
worker_processes: 2
auth:
  admin_password_file: admin.pw
api:
  listen: 127.0.0.1:%%PORT_8891%%
naming:
  beat_interval: 200ms
  unhealthy_after: 1s
  remove_after: 2s
  health_check: false         # the checks are tested on h
EOF

$port{h} = port(8899);
$t->instance('h')->write_file_expand('nacre.yaml', <<'EOF');
daemon: false
worker_processes: 1
auth:
  enabled: false
api:
  listen: 127.0.0.1:%%PORT_8899%%
naming:
  check_interval: 200ms
  check_timeout: 300ms
  check_times: 2
EOF

for my $i (1 .. 3) {
    my $n = $t->instance("n$i");
    $port{"n$i"} = port(8891 + $i);

    $n->write_file('cluster.key', "the secret of the naming test cluster\n");
    $n->write_file_expand('nacre.yaml', <<"EOF");
daemon: false
worker_processes: 2
auth:
  enabled: false
api:
  listen: 127.0.0.1:%%PORT_889@{[ 1 + $i ]}%%
cluster:
  self: 127.0.0.1:%%PORT_799$i%%
  members: [127.0.0.1:%%PORT_7991%%, 127.0.0.1:%%PORT_7992%%, 127.0.0.1:%%PORT_7993%%]
  secret_file: cluster.key
  election_timeout: 1s
  heartbeat_interval: 100ms
naming:
  beat_interval: 500ms
  unhealthy_after: 3s
  remove_after: 6s
EOF
}

$_->run() for $na, $t->instance('h'), map { $t->instance("n$_") } 1 .. 3;

###############################################################################

my $tok = '';

# (status, headers, body); parameters in the query, as the Node client
sub req {
    my ($who, $method, $path, %f) = @_;
    my $token = exists $f{token} ? delete $f{token} : $tok;
    my $body = delete $f{body};
    my $q = join '&', map { "$_=" . uri_escape($f{$_}) } sort keys %f;
    my $uri = $path . ($q ne '' ? "?$q" : '');
    my $h = $token ? "accessToken: $token\r\n" : '';

    my $raw = defined $body
        ? http_post($uri, $body, method => $method,
              addr => "127.0.0.1:$port{$who}", headers => $h, timeout => 20,
              quiet => 1, content_type => 'application/x-www-form-urlencoded')
        : http(Test::Nacre::_request($method, $uri, headers => $h),
              addr => "127.0.0.1:$port{$who}", timeout => 20, quiet => 1);

    return (0, {}, '') unless defined $raw;
    return parse_response($raw);
}

sub register {
    my ($who, %f) = @_;
    return req($who, 'POST', '/nacos/v1/ns/instance', %f);
}

# the decoded list, and its raw body
sub list {
    my ($who, %f) = @_;
    my ($st, $h, $b) = req($who, 'GET', '/nacos/v1/ns/instance/list', %f);
    return ($st == 200 ? eval { $json->decode($b) } : undef, $b, $st);
}

sub hosts {
    my ($l) = @_;
    return join ' ', map {
        "$_->{ip}:$_->{port}:$_->{clusterName}:"
        . ($_->{healthy} ? 'up' : 'down')
    } @{$l->{hosts} // []};
}

sub beat {
    my ($who, %f) = @_;
    my ($st, $h, $b) = req($who, 'PUT', '/nacos/v1/ns/instance/beat', %f);
    return $st == 200 ? $json->decode($b) : { status => $st, body => $b };
}

sub login {
    my ($who, $user, $pw) = @_;
    my ($st, $h, $b) = req($who, 'POST', '/nacos/v1/auth/login', token => '',
        body => "username=$user&password=$pw");
    return $st == 200 ? $json->decode($b)->{accessToken} : undef;
}

###############################################################################

ok($na->wait_ready(10, port => $port{a}), 'ready');
ok($t->wait_until(sub { login('a', 'nacos', 'naming-admin-password-0') }, 20),
    'the admin logs in');
$tok = login('a', 'nacos', 'naming-admin-password-0');

my ($st, $h, $b, $l);

# registration: the Node client's request, plain name with groupName

($st, $h, $b) = register('a', namespaceId => 'public',
    serviceName => 'DEFAULT_GROUP@@orders', groupName => 'DEFAULT_GROUP',
    clusterName => 'DEFAULT', ip => '10.0.0.1', port => 8080, weight => 1,
    enable => 'true', healthy => 'true', ephemeral => 'true',
    metadata => '{"zone":"a","version":"1.2"}');
is($st, 200, 'registered as the Node client does');
is($b, 'ok', 'answered ok');

($st) = register('a', serviceName => 'orders', ip => '10.0.0.2', port => 8080,
    clusterName => 'B', weight => '2.5', metadata => 'k1=v1,k2=v2');
is($st, 200, 'a plain name, another cluster, old-style metadata');

($l, $b) = list('a', serviceName => 'orders');
is($l->{name}, 'DEFAULT_GROUP@@orders', 'the name comes grouped');
is($l->{groupName}, 'DEFAULT_GROUP', 'with its group');
is($l->{clusters}, '', 'clusters echoed: none asked');
is($l->{cacheMillis}, 10000, 'cacheMillis');
is(hosts($l), '10.0.0.2:8080:B:up 10.0.0.1:8080:DEFAULT:up',
    'both hosts, in cluster order');
like($b, qr/^\{"name":"DEFAULT_GROUP\@\@orders","groupName":"DEFAULT_GROUP",
    "clusters":"","cacheMillis":10000,"hosts":\[\{"instanceId":
    "10\.0\.0\.2\#8080\#B\#DEFAULT_GROUP\@\@orders","ip":"10\.0\.0\.2",
    "port":8080,"weight":2\.5,"healthy":true,"enabled":true,
    "ephemeral":true,"clusterName":"B","serviceName":"DEFAULT_GROUP\@\@orders",
    "metadata":\{"k1":"v1","k2":"v2"\},"instanceHeartBeatInterval":200,
    "instanceHeartBeatTimeOut":1000,"ipDeleteTimeout":2000\}/x,
    'a host as Nacos 2.x writes it, field by field');
like($b, qr/"metadata":\{"zone":"a","version":"1\.2"\},/,
    'JSON metadata kept in its order');
like($b, qr/"lastRefTime":\d{13},"checksum":"","allIPs":false,
    "reachProtectionThreshold":false,"valid":true\}$/x, 'the tail fields');
unlike($b, qr/instanceIdGenerator/, 'no generator with metadata');

($l, $b) = list('a', serviceName => 'DEFAULT_GROUP@@orders',
    clusters => 'DEFAULT');
is($l->{clusters}, 'DEFAULT', 'clusters echoed as asked');
is(hosts($l), '10.0.0.1:8080:DEFAULT:up', 'the clusters filter');

($l) = list('a', serviceName => 'orders', clusters => 'B,DEFAULT');
is(scalar @{$l->{hosts}}, 2, 'two clusters asked, both listed');
($l) = list('a', serviceName => 'nobody');
is_deeply([ $l->{name}, $l->{hosts} ], [ 'DEFAULT_GROUP@@nobody', [] ],
    'an unknown service: 200 with no hosts');

($l, $b) = list('a', serviceName => 'orders', groupName => 'OTHER');
is($l->{name}, 'OTHER@@orders', 'another group is another service');

# v2

($st, $h, $b) = req('a', 'POST', '/nacos/v2/ns/instance',
    serviceName => 'orders', groupName => 'G2', ip => '10.0.1.1', port => 9,
    ephemeral => 'false', body => '');
is($b, '{"code":0,"message":"success","data":"ok"}', 'v2 register');
($st, $h, $b) = req('a', 'GET', '/nacos/v2/ns/instance/list',
    serviceName => 'orders', groupName => 'G2');
$l = $json->decode($b);
is($l->{code}, 0, 'v2 list enveloped');
is(hosts($l->{data}), '10.0.1.1:9:DEFAULT:up', 'with its host');
($st, $h, $b) = req('a', 'GET', '/nacos/v2/ns/instance',
    serviceName => 'orders', groupName => 'G2', ip => '10.0.1.1', port => 9);
is($json->decode($b)->{data}{instanceId}, '10.0.1.1#9#DEFAULT#G2@@orders',
    'v2 one instance');
($st, $h, $b) = req('a', 'GET', '/nacos/v2/ns/instance/list',
    groupName => 'G2');
is($st, 400, 'v2: a missing serviceName');
is_deeply($json->decode($b), { code => 10000, message => 'parameter missing',
    data => "Required parameter 'serviceName' type String is not present" },
    'in the v2 envelope');

# one instance, update, patch

($st, $h, $b) = req('a', 'GET', '/nacos/v1/ns/instance',
    serviceName => 'orders', ip => '10.0.0.1', port => 8080);
is($b, '{"service":"DEFAULT_GROUP@@orders","ip":"10.0.0.1","port":8080,'
    . '"clusterName":"DEFAULT","weight":1.0,"healthy":true,'
    . '"instanceId":"10.0.0.1#8080#DEFAULT#DEFAULT_GROUP@@orders",'
    . '"metadata":{"zone":"a","version":"1.2"}}', 'one instance');
($st, $h, $b) = req('a', 'GET', '/nacos/v1/ns/instance',
    serviceName => 'orders', ip => '10.0.0.9', port => 8080);
is("$st $b", '404 no matched ip found!', 'an unknown one: 404');

($st) = req('a', 'PUT', '/nacos/v1/ns/instance', serviceName => 'orders',
    ip => '10.0.0.1', port => 8080, weight => 3, metadata => '{"zone":"b"}');
is($st, 200, 'update');
($st) = req('a', 'PATCH', '/nacos/v1/ns/instance', serviceName => 'orders',
    ip => '10.0.0.2', port => 8080, clusterName => 'B', enabled => 'false');
is($st, 200, 'patch: disabled');

($l, $b) = list('a', serviceName => 'orders');
is(hosts($l), '10.0.0.1:8080:DEFAULT:up', 'a disabled instance is not listed');
is($l->{hosts}[0]{weight}, 3, 'the new weight');
is_deeply($l->{hosts}[0]{metadata}, { zone => 'b' }, 'the new metadata');

($st) = req('a', 'PATCH', '/nacos/v1/ns/instance', serviceName => 'orders',
    ip => '10.0.0.2', port => 8080, clusterName => 'B', enabled => 'true');
($l) = list('a', serviceName => 'orders');
is(scalar @{$l->{hosts}}, 2, 'enabled again, listed again');
is($l->{hosts}[0]{weight}, 2.5, 'a patch keeps what it does not name');

($st, $h, $b) = req('a', 'PUT', '/nacos/v1/ns/instance',
    serviceName => 'orders', ip => '10.0.0.7', port => 1);
is($st, 400, 'updating an instance that does not exist: 400');

# beats and leases (1s unhealthy, 2s removed)

my $r = beat('a', serviceName => 'DEFAULT_GROUP@@orders', ip => '10.0.0.1',
    port => 8080);
is_deeply($r, { clientBeatInterval => 200, code => 10200,
    lightBeatEnabled => JSON::PP::true }, 'a beat of a known instance');
$r = beat('a', serviceName => 'orders', ip => '10.9.9.9', port => 1);
is($r->{code}, 20404, 'an unknown one without beat JSON: 20404');

($st) = register('a', serviceName => 'lease', ip => '10.1.0.1', port => 1);
my $t0 = time();
ok($t->wait_until(sub {
    hosts((list('a', serviceName => 'lease'))[0]) eq '10.1.0.1:1:DEFAULT:down'
}, 5), 'no beats: unhealthy');
my $took = time() - $t0;
ok($took > 0.8 && $took < 3.5, sprintf('after its timeout (%.1fs)', $took));

beat('a', serviceName => 'lease', ip => '10.1.0.1', port => 1);
ok($t->wait_until(sub {
    hosts((list('a', serviceName => 'lease'))[0]) eq '10.1.0.1:1:DEFAULT:up'
}, 2), 'a beat makes it healthy again');

ok($t->wait_until(sub {
    my ($l) = list('a', serviceName => 'lease');
    $l && @{$l->{hosts}} == 0
}, 6), 'no beats: removed after the delete timeout');

($st, $h, $b) = req('a', 'GET', '/nacos/v1/ns/service',
    serviceName => 'lease');
is($st, 400, 'and its implied service with it');

# a beat with beat JSON registers it again, as clients that only beat do
$r = beat('a', serviceName => 'DEFAULT_GROUP@@lease',
    beat => '{"serviceName":"DEFAULT_GROUP@@lease","ip":"10.1.0.1",'
    . '"port":1,"cluster":"C1","weight":2,"metadata":{"m":"n"},'
    . '"scheduled":true}');
is($r->{code}, 10200, 'a beat with beat JSON');
($l) = list('a', serviceName => 'lease');
is(hosts($l), '10.1.0.1:1:C1:up', 'registered again from it');
is_deeply([ $l->{hosts}[0]{weight}, $l->{hosts}[0]{metadata} ],
    [ 2, { m => 'n' } ], 'with its weight and metadata');

# keep it alive by beating: still there after twice the delete timeout
for (1 .. 20) {
    beat('a', serviceName => 'lease', ip => '10.1.0.1', port => 1,
        clusterName => 'C1');
    sleep 0.2;
}
is(hosts((list('a', serviceName => 'lease'))[0]), '10.1.0.1:1:C1:up',
    'beats keep an instance healthy');

# kinds

($st) = register('a', serviceName => 'db', ip => '10.2.0.1', port => 5432,
    ephemeral => 'false');
is($st, 200, 'a persistent instance');
($st, $h, $b) = register('a', serviceName => 'db', ip => '10.2.0.2',
    port => 5432);
is("$st $b", '400 Current service DEFAULT_GROUP@@db is persistent service, '
    . "can't register ephemeral instance.", 'an ephemeral one beside it: 400');
sleep 2.5;
is(hosts((list('a', serviceName => 'db'))[0]), '10.2.0.1:5432:DEFAULT:up',
    'a persistent instance does not expire');
($l, $b) = list('a', serviceName => 'db');
like($b, qr/"ephemeral":false/, 'and says so');

# services

($st, $h, $b) = req('a', 'POST', '/nacos/v1/ns/service',
    serviceName => 'catalog', protectThreshold => '0.5',
    metadata => '{"owner":"team-a"}',
    selector => '{"type":"label","expression":"a=b"}');
is("$st $b", '200 ok', 'service created');
($st, $h, $b) = req('a', 'POST', '/nacos/v1/ns/service',
    serviceName => 'catalog');
is("$st $b", '400 specified service already exists, serviceName : '
    . 'DEFAULT_GROUP@@catalog', 'twice: 400');
($st, $h, $b) = req('a', 'GET', '/nacos/v1/ns/service',
    serviceName => 'catalog');
is($b, '{"namespaceId":"public","groupName":"DEFAULT_GROUP","name":"catalog",'
    . '"protectThreshold":0.5,"metadata":{"owner":"team-a"},'
    . '"selector":{"type":"label","expression":"a=b"},"clusters":[]}',
    'read back');

($st, $h, $b) = req('a', 'PUT', '/nacos/v1/ns/service',
    serviceName => 'catalog');
is("$st $b", "400 Param 'protectThreshold' is required.",
    'an update without protectThreshold');
($st) = req('a', 'PUT', '/nacos/v1/ns/service', serviceName => 'catalog',
    protectThreshold => '0.6', metadata => 'owner=team-b');
is($st, 200, 'updated');
($st, $h, $b) = req('a', 'GET', '/nacos/v1/ns/service',
    serviceName => 'catalog');
like($b, qr/"protectThreshold":0\.6,"metadata":\{"owner":"team-b"\},
    "selector":\{"type":"label"/x, 'the update, the selector kept');

($st, $h, $b) = req('a', 'PUT', '/nacos/v1/ns/service', serviceName => 'nope',
    protectThreshold => '0.1');
is($st, 400, 'updating a service that does not exist: 400');

# protect threshold: 0.6, one of two healthy (persistent: health is set)
register('a', serviceName => 'catalog', ip => '10.3.0.1', port => 1,
    ephemeral => 'false');
register('a', serviceName => 'catalog', ip => '10.3.0.2', port => 1,
    ephemeral => 'false', healthy => 'false');
($l, $b) = list('a', serviceName => 'catalog');
is($l->{reachProtectionThreshold}, JSON::PP::true,
    'one of two healthy, threshold 0.6: protected');
is(hosts($l), '10.3.0.1:1:DEFAULT:up 10.3.0.2:1:DEFAULT:up',
    'every host is listed healthy');
($l) = list('a', serviceName => 'catalog', healthyOnly => 'true');
is(scalar @{$l->{hosts}}, 2, 'protection wins over healthyOnly');

req('a', 'PUT', '/nacos/v1/ns/service', serviceName => 'catalog',
    protectThreshold => '0.2');
($l) = list('a', serviceName => 'catalog');
is($l->{reachProtectionThreshold}, JSON::PP::false, 'threshold 0.2: not');
is(hosts($l), '10.3.0.1:1:DEFAULT:up 10.3.0.2:1:DEFAULT:down',
    'the hosts as they are');
($l) = list('a', serviceName => 'catalog', healthyOnly => 'true');
is(hosts($l), '10.3.0.1:1:DEFAULT:up', 'healthyOnly');

# the implied service of db has no threshold: never protected
req('a', 'PATCH', '/nacos/v1/ns/instance', serviceName => 'db',
    ip => '10.2.0.1', port => 5432, healthy => 'false');
($l) = list('a', serviceName => 'db');
is(hosts($l) . ' ' . $l->{reachProtectionThreshold},
    '10.2.0.1:5432:DEFAULT:down 0', 'a service nobody made: no protection');

($st, $h, $b) = req('a', 'DELETE', '/nacos/v1/ns/service',
    serviceName => 'catalog');
is("$st $b", "400 Service DEFAULT_GROUP\@\@catalog is not empty, can't be "
    . 'delete. Please unregister instance first',
    'a service with instances is not deleted');

($st, $h, $b) = req('a', 'DELETE', '/nacos/v1/ns/instance',
    serviceName => 'catalog', ip => '10.3.0.1', port => 1,
    ephemeral => 'false');
is("$st $b", '200 ok', 'deregistered');
($st, $h, $b) = req('a', 'DELETE', '/nacos/v1/ns/instance',
    serviceName => 'catalog', ip => '10.3.0.1', port => 1);
is("$st $b", '200 ok', 'deregistering again is ok');
req('a', 'DELETE', '/nacos/v1/ns/instance', serviceName => 'catalog',
    ip => '10.3.0.2', port => 1);
($st, $h, $b) = req('a', 'GET', '/nacos/v1/ns/service',
    serviceName => 'catalog');
like($b, qr/"name":"catalog"/, 'a made service stays when empty');
($st, $h, $b) = req('a', 'DELETE', '/nacos/v1/ns/service',
    serviceName => 'catalog');
is("$st $b", '200 ok', 'and is deleted empty');
($st, $h, $b) = req('a', 'DELETE', '/nacos/v1/ns/service',
    serviceName => 'catalog');
is("$st $b", '400 specified service not exist, serviceName : '
    . 'DEFAULT_GROUP@@catalog', 'deleting it again: 400');

# the ephemeral instances nobody beats are gone by now; persistent ones stay
ok($t->wait_until(sub {
    !@{(list('a', serviceName => 'orders'))[0]{hosts}}
        && !@{(list('a', serviceName => 'lease'))[0]{hosts}}
}, 5), 'unbeaten ephemeral instances are gone');
register('a', serviceName => 'orders', ip => "10.0.0.$_", port => 1,
    ephemeral => 'false') for 1, 2;

($st, $h, $b) = req('a', 'GET', '/nacos/v1/ns/service/list', pageNo => 1,
    pageSize => 10);
is($b, '{"doms":["db","orders"],"count":2}',
    'the services of DEFAULT_GROUP');
($st, $h, $b) = req('a', 'GET', '/nacos/v1/ns/service/list', pageNo => 2,
    pageSize => 1);
is($b, '{"doms":["orders"],"count":2}', 'a page of them');
($st, $h, $b) = req('a', 'GET', '/nacos/v1/ns/service/list', pageNo => 1);
is("$st $b", "400 Param 'pageSize' is required.", 'pageSize is required');
($st, $h, $b) = req('a', 'GET', '/nacos/v2/ns/service/list',
    groupName => 'G2');
is($b, '{"code":0,"message":"success","data":{"services":["orders"],'
    . '"count":1}}', 'v2 service list');

# bad input: 400, nothing registered

my @bad = (
    [ { ip => '10.0.0.1', port => 1 }, "Param 'serviceName' is required.",
      'no serviceName' ],
    [ { serviceName => 's', port => 1 }, "Param 'ip' is required.",
      'no ip' ],
    [ { serviceName => 's', ip => '10.0.0.1' }, "Param 'port' is required.",
      'no port' ],
    [ { serviceName => 's', ip => '10.0.0.1', port => 70000 },
      "Param 'port' is illegal, illegal characters should not appear in the "
      . 'param.', 'a port out of range' ],
    [ { serviceName => 's', ip => '10.0.0.1', port => 'x' },
      "Param 'port' is illegal, illegal characters should not appear in the "
      . 'param.', 'a port that is no number' ],
    [ { serviceName => 's', ip => '10.0 .0.1', port => 1 },
      "Param 'ip' is illegal, illegal characters should not appear in the "
      . 'param.', 'an ip with a space' ],
    [ { serviceName => 's', ip => '10.0.0.1', port => 1, weight => 10001 },
      'instance format invalid: The weights range from 0.0 to 10000.0',
      'a weight above 10000' ],
    [ { serviceName => 's', ip => '10.0.0.1', port => 1, weight => '-1' },
      'instance format invalid: The weights range from 0.0 to 10000.0',
      'a negative weight' ],
    [ { serviceName => 's', ip => '10.0.0.1', port => 1,
        clusterName => 'a_b' },
      "Instance 'clusterName' should be characters with only 0-9a-zA-Z-. "
      . '(current: a_b)', 'a cluster name with _' ],
    [ { serviceName => 'a b', ip => '10.0.0.1', port => 1 },
      "Param 'serviceName' is illegal, illegal characters should not appear "
      . 'in the param.', 'a service name with a space' ],
    [ { serviceName => '@s', ip => '10.0.0.1', port => 1 },
      "Param 'serviceName' is illegal, illegal characters should not appear "
      . 'in the param.', 'a service name starting with @' ],
    [ { serviceName => "\x{4e2d}", ip => '10.0.0.1', port => 1 },
      "Param 'serviceName' is illegal, illegal characters should not appear "
      . 'in the param.', 'a CJK service name' ],
    [ { serviceName => 's', groupName => 'g/h', ip => '10.0.0.1', port => 1 },
      "Param 'groupName' is illegal, illegal characters should not appear "
      . 'in the param.', 'a group with /' ],
    [ { serviceName => 's', namespaceId => 'a/b', ip => '10.0.0.1',
        port => 1 },
      "Param 'namespaceId' is illegal, illegal characters should not appear "
      . 'in the param.', 'a namespace with /' ],
    [ { serviceName => 's', ip => '10.0.0.1', port => 1,
        metadata => '{"a":' },
      qr/^instance metadata format incorrect: /, 'metadata: broken JSON' ],
    [ { serviceName => 's', ip => '10.0.0.1', port => 1,
        metadata => '{"a":{"b":1}}' },
      qr/^instance metadata format incorrect/, 'metadata: a nested object' ],
    [ { serviceName => 's', ip => '10.0.0.1', port => 1,
        metadata => 'novalue' },
      'metadata format incorrect:novalue', 'metadata: k=v without =' ],
    [ { serviceName => 's', ip => '10.0.0.1', port => 1,
        metadata => '{"k":"' . ('x' x 1100) . '"}' },
      "Param 'Metadata' is illegal, the param length should not exceed 1024.",
      'metadata: too long' ],
    [ { serviceName => 's', ip => '10.0.0.1', port => 1,
        metadata => '{"preserved.heart.beat.interval":"9000",'
            . '"preserved.heart.beat.timeout":"3000"}' },
      "Instance 'heart beat interval' must less than 'heart beat timeout' "
      . "and 'ip delete timeout'.", 'a beat interval above the timeout' ],
);

for my $c (@bad) {
    my ($f, $want, $what) = @$c;
    $f->{serviceName} = Encode::encode_utf8($f->{serviceName})
        if defined $f->{serviceName};
    ($st, $h, $b) = register('a', %$f);
    if (ref $want) {
        ok($st == 400 && $b =~ $want, "$what: 400") or diag("$st $b");
    } else {
        is("$st $b", "400 $want", "$what: 400");
    }
}

($l) = list('a', serviceName => 's');
is(scalar @{$l->{hosts}}, 0, 'none of them registered');

($st, $h, $b) = req('a', 'PUT', '/nacos/v1/ns/instance/beat',
    serviceName => 's', beat => '{"ip":');
is($st, 400, 'a beat with broken JSON: 400');
($st, $h, $b) = req('a', 'POST', '/nacos/v1/ns/service', serviceName => 'x',
    selector => '{"type":"regex"}');
is($st, 400, 'an unknown selector type: 400');
($st, $h, $b) = req('a', 'POST', '/nacos/v1/ns/service', serviceName => 'x',
    protectThreshold => 'lots');
is($st, 400, 'a threshold that is no number: 400');

# UDP push: the test is the subscriber

my $udp = IO::Socket::INET->new(Proto => 'udp', LocalAddr => '127.0.0.1')
    or die "udp: $!";
my $uport = $udp->sockport();

# one datagram, decoded: (message, sender)
sub push_recv {
    my ($timeout) = @_;
    my $sel = IO::Select->new($udp);
    return unless $sel->can_read($timeout);
    my $from = $udp->recv(my $d, 65536) or return;
    if (substr($d, 0, 2) eq "\x1f\x8b") {
        gunzip(\$d => \my $plain) or return;
        $d = $plain;
    }
    return (eval { $json->decode($d) }, $from, length $d);
}

($l) = list('a', serviceName => 'pushed', udpPort => $uport,
    clientIP => '127.0.0.1', clusters => 'DEFAULT');
is_deeply($l->{hosts}, [], 'subscribed to a service with no instances yet');
sleep 0.3;

register('a', serviceName => 'pushed', ip => '10.6.0.1', port => 1,
    ephemeral => 'false');
my ($m, $from) = push_recv(5);
is($m->{type}, 'dom', 'a push on registration');
my $data = $json->decode($m->{data} // '{}');
is_deeply([ $data->{name}, $data->{clusters}, exists $data->{groupName} ? 1 : 0,
    hosts($data) ], [ 'DEFAULT_GROUP@@pushed', 'DEFAULT', 0,
    '10.6.0.1:1:DEFAULT:up' ],
    'its data: the list for the subscriber\'s clusters, no groupName');
ok($m->{lastRefTime} > 0 && $m->{lastRefTime} < 2 ** 53,
    'lastRefTime below 2^53');
$udp->send($json->encode({ type => 'push-ack',
    lastRefTime => $m->{lastRefTime}, data => '' }), 0, $from);

# many hosts: a gzipped datagram, decoded the same
register('a', serviceName => 'pushed', ip => "10.6.1.$_", port => 1,
    ephemeral => 'false', metadata => '{"padding":"' . ('p' x 100) . '"}')
    for 1 .. 8;
my ($last, $len);
while (my ($mm, $f, $n) = push_recv(2)) {
    ($last, $len) = ($mm, $n);
    $udp->send($json->encode({ type => 'push-ack',
        lastRefTime => "$mm->{lastRefTime}", data => '' }), 0, $f);
    last if scalar(@{$json->decode($mm->{data})->{hosts}}) == 9;
}
is(scalar @{$json->decode($last->{data})->{hosts}}, 9,
    'pushes follow the changes (acked, the Java way: a string)');
ok($len > 1024, "a big one came gzipped ($len bytes inflated)");

# no ack: the same push once more after 10 s, then no more
register('a', serviceName => 'pushed', ip => '10.6.2.1', port => 1,
    ephemeral => 'false');
($m) = push_recv(5);
ok($m, 'a push not acked');
my ($again) = push_recv(13);
is($again && $again->{lastRefTime}, $m->{lastRefTime},
    'is sent again, the same, after 10 s');
ok(!push_recv(1), 'and not a third time soon after');

# an IPv6 subscriber: pushed from an IPv6 socket, its ack taken

SKIP: {
    my $udp6 = IO::Socket::IP->new(Proto => 'udp', LocalHost => '::1',
        LocalPort => 0)
        or skip("no IPv6 loopback here: $!", 3);
    my $p6 = $udp6->sockport();

    list('a', serviceName => 'pushed6', udpPort => $p6, clientIP => '::1');
    sleep 0.3;
    register('a', serviceName => 'pushed6', ip => '10.6.3.1', port => 1,
        ephemeral => 'false');

    my $sel = IO::Select->new($udp6);
    my ($d, $from6);
    $from6 = $udp6->recv($d, 65536) if $sel->can_read(5);
    my $m6 = defined $d ? eval { $json->decode($d) } : undef;
    is($m6 && $m6->{type}, 'dom', 'a push to an IPv6 subscriber');
    $udp6->send($json->encode({ type => 'push-ack',
        lastRefTime => $m6 ? $m6->{lastRefTime} : 0, data => '' }), 0, $from6)
        if $from6;
    ok(!$sel->can_read(11.5), 'acked: not sent again');

    my ($st6, $h6, $b6) = req('a', 'GET',
        '/nacos/v1/ns/service/subscribers', serviceName => 'pushed6');
    is(eval { $json->decode($b6)->{subscribers}[0]{addrStr} } // '',
        "::1:$p6", 'listed by its IPv6 address');
}

# gone again: the counts below are of the services before it
req('a', 'DELETE', '/nacos/v1/ns/instance', serviceName => 'pushed6',
    ip => '10.6.3.1', port => 1, ephemeral => 'false');
req('a', 'DELETE', '/nacos/v1/ns/service', serviceName => 'pushed6');

# the clients Nacos 2.x names: publishers from the store, subscribers of
# this node

($st, $h, $b) = req('a', 'GET', '/nacos/v1/ns/service/subscribers',
    serviceName => 'pushed');
$r = $json->decode($b);
is_deeply([ $r->{count}, $r->{subscribers}[0]{addrStr},
    $r->{subscribers}[0]{port}, $r->{subscribers}[0]{cluster},
    $r->{subscribers}[0]{serviceName} ],
    [ 1, "127.0.0.1:$uport", $uport, 'DEFAULT', 'DEFAULT_GROUP@@pushed' ],
    'the subscribers of a service');
($st, $h, $b) = req('a', 'GET', '/nacos/v2/ns/client/service/subscriber/list',
    serviceName => 'pushed');
is_deeply($json->decode($b)->{data}, [ { clientId => "127.0.0.1:$uport#true",
    ip => '127.0.0.1', port => $uport } ], 'v2: the same as clients');
($st, $h, $b) = req('a', 'GET', '/nacos/v2/ns/client/service/publisher/list',
    serviceName => 'pushed');
$r = $json->decode($b)->{data};
is(scalar(@$r) . " $r->[0]{clientId}", '10 10.6.0.1:1#false',
    'the publishers of a service');
($st, $h, $b) = req('a', 'GET', '/nacos/v2/ns/client/list');
$r = $json->decode($b)->{data};
ok((grep { $_ eq "127.0.0.1:$uport#true" } @$r)
    && (grep { $_ eq '10.6.2.1:1#false' } @$r), 'every client, once each');
($st, $h, $b) = req('a', 'GET', '/nacos/v2/ns/client',
    clientId => '10.6.2.1:1#false');
$r = $json->decode($b)->{data};
is("$r->{clientType} $r->{clientIp} $r->{clientPort} "
    . ($r->{ephemeral} ? 'ephemeral' : 'persistent'),
    'ipPort 10.6.2.1 1 persistent', 'one client');
($st, $h, $b) = req('a', 'GET', '/nacos/v2/ns/client/publish/list',
    clientId => '10.6.2.1:1#false');
is_deeply($json->decode($b)->{data}, [ { namespace => 'public',
    group => 'DEFAULT_GROUP', serviceName => 'pushed',
    registeredInstance => { ip => '10.6.2.1', port => 1,
    cluster => 'DEFAULT' } } ], 'what it registered');
($st, $h, $b) = req('a', 'GET', '/nacos/v2/ns/client/subscribe/list',
    clientId => "127.0.0.1:$uport#true");
$r = $json->decode($b)->{data};
is("$r->[0]{group}\@\@$r->[0]{serviceName} $r->[0]{subscriberInfo}{addr}",
    "DEFAULT_GROUP\@\@pushed 127.0.0.1:$uport", 'what a client subscribed to');
($st) = req('a', 'GET', '/nacos/v2/ns/client', clientId => '10.9.9.9:1#true');
is($st, 404, 'an unknown client: 404');
($st) = req('a', 'GET', '/nacos/v2/ns/client', clientId => 'nonsense');
is($st, 400, 'a malformed clientId: 400');

# the operator's endpoints

($st, $h, $b) = req('a', 'GET', '/nacos/v1/ns/operator/metrics');
is($b, '{"status":"UP"}', 'metrics: status only, by default');
($st, $h, $b) = req('a', 'GET', '/nacos/v1/ns/operator/metrics',
    onlyStatus => 'false');
$r = $json->decode($b);
is("$r->{status} $r->{serviceCount} $r->{instanceCount}", 'UP 4 14',
    'metrics: the counts');
($st, $h, $b) = req('a', 'GET', '/nacos/v1/ns/operator/switches');
is($json->decode($b)->{clientBeatInterval}, 200, 'switches');
($st) = req('a', 'PUT', '/nacos/v1/ns/operator/switches', entry => 'x',
    value => 'y');
is($st, 400, 'switches are set in the conf');

# the console's catalog

($st, $h, $b) = req('a', 'GET', '/nacos/v1/ns/catalog/services', pageNo => 1,
    pageSize => 10);
$r = $json->decode($b);
is(join(' ', map { "$_->{groupName}\@\@$_->{name}:$_->{ipCount}" }
    @{$r->{serviceList}}) . " count $r->{count}",
    'DEFAULT_GROUP@@db:1 DEFAULT_GROUP@@orders:2 DEFAULT_GROUP@@pushed:10 '
    . 'G2@@orders:1 count 4', 'catalog: the services of a namespace');
($st, $h, $b) = req('a', 'GET', '/nacos/v1/ns/catalog/services', pageNo => 1,
    pageSize => 10, serviceNameParam => 'rder', groupNameParam => 'G2');
$r = $json->decode($b);
is_deeply($r, { count => 1, serviceList => [ { name => 'orders',
    groupName => 'G2', clusterCount => 1, ipCount => 1,
    healthyInstanceCount => 1, triggerFlag => 'false' } ] },
    'catalog: searched by parts of names, with the counts');
($st, $h, $b) = req('a', 'GET', '/nacos/v1/ns/catalog/service',
    serviceName => 'DEFAULT_GROUP@@orders');
$r = $json->decode($b);
is_deeply([ $r->{service}{name}, $r->{service}{groupName},
    $r->{clusters}[0]{name}, $r->{clusters}[0]{healthChecker}{type} ],
    [ 'orders', 'DEFAULT_GROUP', 'DEFAULT', 'TCP' ], 'catalog: one service');
($st) = req('a', 'GET', '/nacos/v1/ns/catalog/service', serviceName => 'none');
is($st, 404, 'catalog: an unknown service is 404');
($st, $h, $b) = req('a', 'GET', '/nacos/v1/ns/catalog/instances',
    serviceName => 'pushed', clusterName => 'DEFAULT', pageNo => 2,
    pageSize => 4);
$r = $json->decode($b);
is($r->{count} . ' ' . scalar(@{$r->{list}}) . ' ' . $r->{list}[0]{ip},
    '10 4 10.6.1.4', 'catalog: a page of a cluster\'s instances');

# the address server: this node
($st, $h, $b) = req('a', 'GET', '/nacos/serverlist', token => '');
is("$st $b", "200 127.0.0.1:$port{a}\r\n", 'serverlist: this node');

# permissions: a user who may read one group's services

req('a', 'POST', '/nacos/v1/auth/users',
    body => 'username=reader&password=reader-password');
req('a', 'POST', '/nacos/v1/auth/roles', body => 'role=ROLE_R&username=reader');
($st) = req('a', 'POST', '/nacos/v1/auth/permissions',
    body => 'role=ROLE_R&resource=' . uri_escape('public:DEFAULT_GROUP:*')
    . '&action=r');
is($st, 200, 'a read-only permission on DEFAULT_GROUP');
my $reader = login('a', 'reader', 'reader-password');

($l) = list('a', serviceName => 'orders', token => $reader);
is(scalar @{$l->{hosts}}, 2, 'the reader lists');
($st) = register('a', serviceName => 'orders', ip => '10.0.0.5', port => 1,
    token => $reader);
is($st, 403, 'but does not register');
(undef, undef, $st) = list('a', serviceName => 'orders', groupName => 'G2',
    token => $reader);
is($st, 403, 'nor list another group');
($st) = register('a', serviceName => 'orders', ip => '10.0.0.5', port => 1,
    token => '');
is($st, 403, 'no identity: 403');
$r = beat('a', serviceName => 'orders', ip => '10.0.0.1', port => 8080,
    token => $reader);
is($r->{status}, 403, 'nor beat');

ok($na->running(), 'the node runs on');

###############################################################################

# health checks of persistent instances (h: every 200ms, 2 in a row flip)

# a backend the test controls: accepts, answers HTTP with the status in
# $status_file, notes the request lines; gone when killed
my $status_file = $t->testdir() . '/backend.status';
my $request_log = $t->testdir() . '/backend.requests';

sub backend {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(Listen => 64, LocalAddr => '127.0.0.1',
        LocalPort => $port // 0, Proto => 'tcp', ReuseAddr => 1)
        or die "backend: $!";
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        while (my $c = $s->accept()) {
            my $sel = IO::Select->new($c);
            my $line = '';
            $line = <$c> // '' if $sel->can_read(0.2);
            if ($line =~ /^GET /) {
                open(my $l, '>>', $request_log); print $l $line; close $l;
                open(my $f, '<', $status_file);
                my $code = <$f> // 200; close $f;
                chomp $code;
                print $c "HTTP/1.1 $code X\r\nContent-Length: 0\r\n\r\n";
            }
            close $c;
        }
        exit 0;
    }
    my $p = $s->sockport();
    close $s;
    return ($pid, $p);
}

sub backend_stop { kill 'KILL', $_[0]; waitpid($_[0], 0); }

sub set_status {
    open(my $f, '>', $status_file) or die $!; print $f "$_[0]\n"; close $f;
}

sub hosts_of {
    my ($who, $service) = @_;
    return hosts((list($who, serviceName => $service))[0]);
}

# an instance's own health (a list may show it protected: a service made
# through the API has a threshold, 0 by default, so all-unhealthy lists
# every host as healthy)
sub health_of {
    my ($who, $service, $ip, $port) = @_;
    my ($st, $h, $b) = req($who, 'GET', '/nacos/v1/ns/instance',
        serviceName => $service, ip => $ip, port => $port);
    my $i = eval { $json->decode($b) } or return "status $st";
    return $i->{healthy} ? 'up' : 'down';
}

set_status(200);

$tok = '';
ok($t->instance('h')->wait_ready(10, port => $port{h}), 'h ready');

my ($bpid, $bport) = backend();

register('h', serviceName => 'tcp-svc', ip => '127.0.0.1', port => $bport,
    ephemeral => 'false', healthy => 'false');
ok($t->wait_until(sub {
    hosts_of('h', 'tcp-svc') eq "127.0.0.1:$bport:DEFAULT:up" }, 5),
    'TCP check: a listening instance turns healthy');

backend_stop($bpid);
ok($t->wait_until(sub {
    hosts_of('h', 'tcp-svc') eq "127.0.0.1:$bport:DEFAULT:down" }, 5),
    'its listener closed: unhealthy');

($bpid) = backend($bport);
ok($t->wait_until(sub {
    hosts_of('h', 'tcp-svc') eq "127.0.0.1:$bport:DEFAULT:up" }, 5),
    'listening again: healthy again');

# HTTP: the cluster's checker, path and expected code
($st) = req('h', 'PUT', '/nacos/v1/ns/cluster', serviceName => 'http-svc',
    clusterName => 'DEFAULT', checkPort => 0, useInstancePort4Check => 'true',
    healthChecker => '{"type":"HTTP","path":"/health"}');
is($st, 400, 'cluster settings of a service that does not exist: 400');

req('h', 'POST', '/nacos/v1/ns/service', serviceName => 'http-svc');
($st, $h, $b) = req('h', 'PUT', '/nacos/v1/ns/cluster',
    serviceName => 'http-svc', clusterName => 'DEFAULT', checkPort => 0,
    useInstancePort4Check => 'true',
    healthChecker => '{"type":"HTTP","path":"/health",'
        . '"headers":"X-Probe:nacre","expectedResponseCode":200}',
    metadata => '{"k":"v"}');
is("$st $b", '200 ok', 'an HTTP checker for the cluster');
($st, $h, $b) = req('h', 'GET', '/nacos/v1/ns/service',
    serviceName => 'http-svc');
like($b, qr/"clusters":\[\{"name":"DEFAULT","healthChecker":\{"type":"HTTP",
    "path":"\/health","headers":"X-Probe:nacre","expectedResponseCode":200\},
    "metadata":\{"k":"v"\}\}\]/x, 'the service shows it');

register('h', serviceName => 'http-svc', ip => '127.0.0.1', port => $bport,
    ephemeral => 'false');
ok($t->wait_until(sub { -s $request_log }, 5), 'the backend is probed');
like($t->read_file('backend.requests'), qr{^GET /health HTTP/1\.1\r?$}m,
    'with a GET of the path');

set_status(503);
ok($t->wait_until(sub {
    health_of('h', 'http-svc', '127.0.0.1', $bport) eq 'down' }, 5),
    'HTTP 503: unhealthy');
is(hosts_of('h', 'http-svc'), "127.0.0.1:$bport:DEFAULT:up",
    'listed as healthy all the same: the protect threshold (0) is reached');
set_status(200);
ok($t->wait_until(sub {
    health_of('h', 'http-svc', '127.0.0.1', $bport) eq 'up' }, 5),
    'HTTP 200 again: healthy');

($st) = req('h', 'PUT', '/nacos/v1/ns/cluster', serviceName => 'http-svc',
    clusterName => 'DEFAULT', checkPort => 0, useInstancePort4Check => 'true',
    healthChecker => '{"type":"MYSQL"}');
is($st, 400, 'a checker nacre does not run: 400');

# NONE: health by hand, and only there
req('h', 'POST', '/nacos/v1/ns/service', serviceName => 'manual');
req('h', 'PUT', '/nacos/v1/ns/cluster', serviceName => 'manual',
    clusterName => 'DEFAULT', checkPort => 0, useInstancePort4Check => 'true',
    healthChecker => '{"type":"NONE"}');
register('h', serviceName => 'manual', ip => '127.0.0.1', port => 1,
    ephemeral => 'false');
sleep 1;
is(health_of('h', 'manual', '127.0.0.1', 1), 'up',
    'NONE: nothing probes it (port 1 would refuse)');
($st, $h, $b) = req('h', 'PUT', '/nacos/v1/ns/health/instance',
    serviceName => 'manual', ip => '127.0.0.1', port => 1,
    healthy => 'false');
is("$st $b", '200 ok', 'its health set by hand');
is(health_of('h', 'manual', '127.0.0.1', 1), 'down', 'and so it is');
($st, $h, $b) = req('h', 'PUT', '/nacos/v1/ns/health/instance',
    serviceName => 'tcp-svc', ip => '127.0.0.1', port => $bport,
    healthy => 'false');
is("$st $b", '400 health check is still working, service: '
    . 'DEFAULT_GROUP@@tcp-svc', 'not where checks run');

backend_stop($bpid);



my @names = qw/ n1 n2 n3 /;

for my $n (@names) {
    ok($t->instance($n)->wait_ready(15, port => $port{$n}), "$n ready");
}

$tok = '';

sub raft {
    my ($who) = @_;
    my ($st, $h, $b) = req($who, 'GET', '/v1/cluster/raft');
    return $st == 200 ? eval { $json->decode($b) } : undef;
}

my $lead;
ok($t->wait_until(sub {
    my $s = raft('n1');
    return unless $s && defined $s->{leader};
    ($lead) = grep { raft($_) && raft($_)->{role} eq 'leader' } @names;
}, 20), 'a leader');

my ($follower) = grep { $_ ne $lead } @names;

($st) = register($follower, serviceName => 'web', ip => '10.5.0.1', port => 80,
    metadata => '{"v":"1"}');
is($st, 200, 'registered through a follower');
register($lead, serviceName => 'web', ip => '10.5.0.2', port => 80,
    clusterName => 'EAST');

my %bodies;
ok($t->wait_until(sub {
    %bodies = map { $_ => (list($_, serviceName => 'web'))[1] } @names;
    my %seen = map { $_ => 1 } values %bodies;
    keys %seen == 1 && $bodies{n1} =~ /10\.5\.0\.2/;
}, 10), 'every member lists the same bytes') or diag(explain(\%bodies));
like($bodies{n1}, qr/"lastRefTime":\d{13}/, 'lastRefTime included');

($st, $h, $b) = req($follower, 'GET', '/nacos/serverlist');
is(join(',', sort split /\r\n/, $b), join(',', sort map {
    "127.0.0.1:$port{$_}" } @names), 'serverlist: every member\'s API address');
like($b, qr/\A(?:127\.0\.0\.1:\d+\r\n){3}\z/, 'a line each, CRLF');

# each member pushes to those who poll it; the console sees them all
my %sub_port = map { $_ => port(8990 + substr($_, 1)) } @names;
sub subscribers_of {
    my ($who, %f) = @_;
    my ($st, $h, $b) = req($who, 'GET', '/nacos/v1/ns/service/subscribers',
        serviceName => 'web', %f);
    my $r = $st == 200 ? eval { $json->decode($b) } : undef;
    return $r ? join ' ', sort map { $_->{addrStr} } @{ $r->{subscribers} }
        : "$st $b";
}
list($_, serviceName => 'web', udpPort => $sub_port{$_},
    clientIP => '127.0.0.1') for @names;
my $all_subs = join ' ', sort map { "127.0.0.1:$sub_port{$_}" } @names;
ok($t->wait_until(sub { subscribers_of($follower) eq $all_subs }, 5),
    'the subscribers of a service: every member\'s')
    or diag(subscribers_of($follower));
is(subscribers_of($follower, aggregation => 'false'),
    "127.0.0.1:$sub_port{$follower}", 'aggregation=false: this member\'s');

# beat through the follower that stays, while the leader goes away
my $stay = (grep { $_ ne $lead } @names)[0];
my $other = (grep { $_ ne $lead && $_ ne $stay } @names)[0];
my $down = 0;
my $seen_down = '';

for my $i (1 .. 40) {
    for my $ip ('10.5.0.1', '10.5.0.2') {
        beat($stay, serviceName => 'web', ip => $ip, port => 80,
            clusterName => $ip eq '10.5.0.1' ? 'DEFAULT' : 'EAST');
    }

    $t->instance($lead)->stop() if $i == 5;

    my ($l) = list($stay, serviceName => 'web');
    my $h = hosts($l // {});
    if ($h ne '10.5.0.2:80:EAST:up 10.5.0.1:80:DEFAULT:up'
        && $h ne '10.5.0.1:80:DEFAULT:up 10.5.0.2:80:EAST:up')
    {
        $down++;
        $seen_down = $h;
    }

    sleep 0.2;
}

is($down, 0, 'beating instances stay healthy across a leader change')
    or diag("saw: $seen_down");
ok(raft($stay) && raft($stay)->{leader}, 'under a new leader');
is(subscribers_of($stay), join(' ', sort map { "127.0.0.1:$sub_port{$_}" }
    grep { $_ ne $lead } @names),
    'a member gone: the subscribers of those that answer, at once');

# no more beats: unhealthy after 3s, gone after 6s, on both members
ok($t->wait_until(sub {
    hosts((list($other, serviceName => 'web'))[0]) =~ /down.*down/
}, 8), 'without beats: unhealthy');
ok($t->wait_until(sub {
    my ($l) = list($other, serviceName => 'web');
    $l && @{$l->{hosts}} == 0;
}, 10), 'then removed');

###############################################################################
