#!/usr/bin/perl

# nacre: Nacos' config API v1.  Publish, read back the exact bytes (binary
# too) with Content-MD5 and Config-Type, the public namespace under its
# three names, bad parameters (400, nothing stored), an oversized item
# (413), compare-and-set, delete, search and paging, the long-poll
# listener (at once on a differing MD5, on a change, on time out; not on
# an identical republish; malformed records refused), permissions per
# namespace, group and action, and a change on one member of a cluster
# waking a listener parked on another.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;

use Digest::MD5 qw/ md5_hex /;
use IO::Compress::Zip qw/ $ZipError /;
use IO::Uncompress::Unzip qw/ $UnzipError /;
use IO::Select;
use JSON::PP;
use URI::Escape qw/ uri_escape /;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $t = Test::Nacre->new()->plan(178);
my $json = JSON::PP->new->canonical;

my %port = (a => port(8881), c1 => port(8882), c2 => port(8883),
    h => port(8884));

my $na = $t->instance('a');
$na->write_file('admin.pw', "config-admin-password-0\n");
$na->write_file_expand('nacre.yaml', <<'EOF');
daemon: false
worker_processes: 1
auth:
  admin_password_file: admin.pw
config:
  max_content_size: 64k
api:
  listen: 127.0.0.1:%%PORT_8881%%
EOF

$t->instance('h')->write_file_expand('nacre.yaml', <<'EOF');
daemon: false
worker_processes: 1
auth:
  enabled: false
config:
  history_max_count: 3
  history_max_age: 2s
api:
  listen: 127.0.0.1:%%PORT_8884%%
EOF

for my $i (1, 2) {
    my $c = $t->instance("c$i");
    $c->write_file('cluster.key', "the secret of the config test cluster\n");
    $c->write_file_expand('nacre.yaml', <<"EOF");
daemon: false
worker_processes: 2
auth:
  enabled: false
api:
  listen: 127.0.0.1:%%PORT_888@{[ 1 + $i ]}%%
cluster:
  self: 127.0.0.1:%%PORT_798$i%%
  members: [127.0.0.1:%%PORT_7981%%, 127.0.0.1:%%PORT_7982%%]
  secret_file: cluster.key
EOF
}

$_->run() for $na, $t->instance('c1'), $t->instance('c2'), $t->instance('h');

###############################################################################

my $tok = '';

# (status, headers, body)
sub req {
    my ($who, $method, $uri, %o) = @_;
    my $h = $o{headers} // '';
    $h .= "accessToken: $o{token}\r\n" if $o{token};

    my $raw = defined $o{body}
        ? http_post($uri, $o{body}, method => $method,
              addr => "127.0.0.1:$port{$who}", headers => $h, timeout => 20,
              quiet => 1, content_type => 'application/x-www-form-urlencoded')
        : http(Test::Nacre::_request($method, $uri, headers => $h),
              addr => "127.0.0.1:$port{$who}", timeout => 20, quiet => 1);

    return (0, {}, '') unless defined $raw;
    return parse_response($raw);
}

sub form {
    my (%f) = @_;
    return join '&', map { "$_=" . uri_escape($f{$_}) } sort keys %f;
}

sub publish {
    my ($who, %f) = @_;
    my $token = delete $f{token} // $tok;
    my $h = delete $f{headers};
    return req($who, 'POST', '/nacos/v1/cs/configs', body => form(%f),
        token => $token, headers => $h);
}

sub get {
    my ($who, %f) = @_;
    my $token = delete $f{token} // $tok;
    return req($who, 'GET', '/nacos/v1/cs/configs?' . form(%f),
        token => $token);
}

sub records {
    return join '', map { join("\x02", @$_) . "\x01" } @_;
}

# start a listener; its socket
sub listen_start {
    my ($who, $records, %o) = @_;
    my $body = form('Listening-Configs' => $records);
    my $h = "Content-Type: application/x-www-form-urlencoded\r\n"
        . ($o{timeout} ? "Long-Pulling-Timeout: $o{timeout}\r\n" : '')
        . ($o{token} // $tok ? "accessToken: " . ($o{token} // $tok) . "\r\n"
            : '');
    return http_start(Test::Nacre::_request('POST',
            '/nacos/v1/cs/configs/listener', headers => $h, content => $body),
        addr => "127.0.0.1:$port{$who}", timeout => 60);
}

sub listen_end {
    my ($s) = @_;
    my ($st, $h, $b) = parse_response(http_end($s, timeout => 60) // '');
    return ($st // 0, $b // '');
}

sub login {
    my ($who, $user, $pw) = @_;
    my ($st, $h, $b) = req($who, 'POST', '/nacos/v1/auth/login',
        body => "username=$user&password=$pw");
    return $st == 200 ? $json->decode($b)->{accessToken} : undef;
}

###############################################################################

ok($na->wait_ready(10, port => $port{a}), 'ready');
ok($t->wait_until(sub { login('a', 'nacos', 'config-admin-password-0') },
    20), 'the admin logs in');
$tok = login('a', 'nacos', 'config-admin-password-0');

# a listener that will time out: started first, checked last
my $idle = listen_start('a', records([ 'idle', 'G', '' ]), timeout => 10500);

my ($st, $h, $b);

# publish and read back

($st, $h, $b) = publish('a', dataId => 'app.yaml', group => 'DEFAULT_GROUP',
    content => "a: 1\nb: two\n", type => 'yaml', appName => 'shop');
is($st, 200, 'publish');
is($b, 'true', 'answers true');

($st, $h, $b) = get('a', dataId => 'app.yaml', group => 'DEFAULT_GROUP',
    tenant => '');
is($st, 200, 'read');
is($b, "a: 1\nb: two\n", 'the bytes as published');
is($h->{'content-md5'}, md5_hex("a: 1\nb: two\n"), 'Content-MD5');
is($h->{'config-type'}, 'yaml', 'Config-Type');
like($h->{'content-type'}, qr{^text/plain;charset=UTF-8}i, 'Content-Type');
is($h->{'cache-control'}, 'no-cache,no-store', 'Cache-Control');

publish('a', dataId => 'c.json', group => 'G', content => '{"x":1}',
    type => 'json');
($st, $h, $b) = get('a', dataId => 'c.json', group => 'G');
like($h->{'content-type'}, qr{^application/json;charset=UTF-8}i,
    'json: its Content-Type');

($st, $h, $b) = publish('a', dataId => 'odd', group => 'G', content => 'x',
    type => 'exe');
($st, $h, $b) = get('a', dataId => 'odd', group => 'G');
is($h->{'config-type'}, 'text', 'an unknown type is text');

# the public namespace has three names

for my $ns ('public', 'null', 'PUBLIC') {
    ($st, $h, $b) = get('a', dataId => 'app.yaml', group => 'DEFAULT_GROUP',
        tenant => $ns);
    is($b, "a: 1\nb: two\n", "tenant=$ns is the public namespace");
}

# namespaces: made first, then used

($st, $h, $b) = publish('a', dataId => 'ns.txt', group => 'G',
    content => 'dev one', tenant => 'dev');
is($st, 400, 'a namespace that does not exist: 400');
is($b, "caused: namespace 'dev' does not exist;", 'says so');

($st, $h, $b) = req('a', 'POST', '/nacos/v1/console/namespaces',
    token => $tok, body => form(customNamespaceId => 'dev',
        namespaceName => 'Development', namespaceDesc => 'the dev one'));
is("$st $b", '200 true', 'create namespace dev');
($st, $h, $b) = req('a', 'POST', '/nacos/v1/console/namespaces',
    token => $tok, body => form(customNamespaceId => 'dev',
        namespaceName => 'Again'));
is($st, 400, 'twice: 400');
($st, $h, $b) = req('a', 'POST', '/nacos/v1/console/namespaces',
    token => $tok, body => form(customNamespaceId => 'a.b',
        namespaceName => 'x'));
is($st, 400, 'an id with a dot: 400');
($st, $h, $b) = req('a', 'POST', '/nacos/v1/console/namespaces',
    token => $tok, body => form(namespaceName => 'Generated'));
is("$st $b", '200 true', 'no id: Nacos makes a UUID');

($st) = publish('a', dataId => 'ns.txt', group => 'G', content => 'dev one',
    tenant => 'dev');
is($st, 200, 'publish into dev');
($st) = get('a', dataId => 'ns.txt', group => 'G');
is($st, 404, 'namespaces are apart');
($st, $h, $b) = get('a', dataId => 'ns.txt', group => 'G', tenant => 'dev');
is($b, 'dev one', 'namespace dev');

# bytes that are not UTF-8 come back identical

my $bin = join '', map { chr } 0 .. 255;
($st) = publish('a', dataId => 'bin', group => 'G', content => $bin);
is($st, 200, 'publish 256 arbitrary bytes');
($st, $h, $b) = get('a', dataId => 'bin', group => 'G');
ok($b eq $bin, 'read back identical');
is($h->{'content-md5'}, md5_hex($bin), 'the MD5 of those bytes');

# absent

($st, $h, $b) = get('a', dataId => 'nope', group => 'G');
is($st, 404, 'absent: 404');
is($b, "config data not exist\n", 'config data not exist');

# bad input: 400, nothing stored

($st, $h, $b) = publish('a', group => 'G', content => 'x');
is($st, 400, 'no dataId: 400');
is($b, 'caused: dataId invalid;', 'dataId invalid');
($st, $h, $b) = publish('a', dataId => 'x', content => 'x');
is($b, 'caused: group invalid;', 'no group: group invalid');
($st, $h, $b) = publish('a', dataId => 'x', group => 'G');
is($b, 'caused: content invalid;', 'no content: content invalid');
($st, $h, $b) = publish('a', dataId => 'a b', group => 'G', content => 'x');
is($st, 400, 'a space in dataId: 400');
is($b, "Param 'dataId' is illegal, illegal characters should not appear "
    . 'in the param.', "Nacos' parameter check text");
($st, $h, $b) = publish('a', dataId => 'x', group => 'G/H', content => 'x');
is($st, 400, 'a slash in group: 400');
($st, $h, $b) = publish('a', dataId => 'x' x 257, group => 'G',
    content => 'x');
like($b, qr/should not exceed 256/, 'dataId of 257: too long');
($st, $h, $b) = publish('a', dataId => 'x', group => 'G', content => 'x',
    tenant => 'a.b');
is($st, 400, 'a dot in a namespace: 400');
($st) = get('a', dataId => 'x', group => 'G');
is($st, 404, 'none of those was stored');

($st, $h, $b) = publish('a', dataId => 'big', group => 'G',
    content => 'x' x (64 * 1024 + 1));
is($st, 413, 'larger than config.max_content_size: 413');
($st) = get('a', dataId => 'big', group => 'G');
is($st, 404, 'not stored');
($st) = publish('a', dataId => 'big', group => 'G',
    content => 'x' x (64 * 1024));
is($st, 200, 'exactly the limit: stored');

# compare-and-set

my $md5 = md5_hex("a: 1\nb: two\n");
($st, $h, $b) = publish('a', dataId => 'app.yaml', group => 'DEFAULT_GROUP',
    content => 'a: 2', headers => "casMd5: $md5\r\n");
is($st, 200, 'CAS with the current MD5');
($st, $h, $b) = publish('a', dataId => 'app.yaml', group => 'DEFAULT_GROUP',
    content => 'a: 3', headers => "casMd5: $md5\r\n");
is($st, 500, 'CAS with a stale MD5: 500');
is($b, 'Cas publish fail, server md5 may have changed.', 'says why');
($st, $h, $b) = get('a', dataId => 'app.yaml', group => 'DEFAULT_GROUP');
is($b, 'a: 2', 'the item is unchanged');

# delete

($st, $h, $b) = req('a', 'DELETE', '/nacos/v1/cs/configs?dataId=odd&group=G',
    token => $tok);
is($b, 'true', 'delete');
($st) = get('a', dataId => 'odd', group => 'G');
is($st, 404, 'gone');
($st, $h, $b) = req('a', 'DELETE', '/nacos/v1/cs/configs?dataId=odd&group=G',
    token => $tok);
is($b, 'true', 'delete of nothing: true as well');

# batch delete by id, as the console does it

publish('a', dataId => "batch-$_", group => 'B', content => 'b') for 1 .. 3;
($st, $h, $b) = get('a', search => 'blur', dataId => 'batch-*', group => 'B',
    pageNo => 1, pageSize => 10);
my @bids = map { $_->{id} } @{ $json->decode($b)->{pageItems} };
is(scalar(@bids), 3, 'three items to delete');
($st, $h, $b) = req('a', 'DELETE', '/nacos/v1/cs/configs?delType=ids&ids='
    . join(',', @bids[0, 1]), token => $tok);
is($b, '{"code":200,"message":null,"data":true}', 'delete two by id');
($st, $h, $b) = get('a', search => 'blur', dataId => 'batch-*', group => 'B',
    pageNo => 1, pageSize => 10);
is(join(' ', map { $_->{dataId} } @{ $json->decode($b)->{pageItems} }),
    'batch-3', 'the third is left');

# search

for my $i (1 .. 12) {
    publish('a', dataId => sprintf('svc-%02d.properties', $i), group => 'S',
        content => "n=$i", appName => $i % 2 ? 'odd' : 'even',
        config_tags => $i == 3 ? 'blue,green' : 'red');
}

sub items {
    my ($b) = @_;
    my $d = eval { $json->decode($b) } or return "bad JSON: $b";
    return join ' ', map { $_->{dataId} } @{ $d->{pageItems} };
}

($st, $h, $b) = get('a', search => 'blur', dataId => 'svc-*', group => 'S',
    pageNo => 1, pageSize => 5);
is(items($b), join(' ', map { sprintf 'svc-%02d.properties', $_ } 1 .. 5),
    'blur search, first page');
my $page = $json->decode($b);
is("$page->{totalCount} $page->{pagesAvailable}", '12 3',
    'totalCount, pagesAvailable');
is($page->{pageItems}[0]{content}, 'n=1', 'items carry content');
is($page->{pageItems}[0]{md5}, md5_hex('n=1'), 'and MD5');

($st, $h, $b) = get('a', search => 'blur', dataId => 'svc-*', group => 'S',
    pageNo => 9, pageSize => 5);
is(items($b), '', 'paging past the end: no items');
is($json->decode($b)->{totalCount}, 12, 'the total still told');

($st, $h, $b) = get('a', search => 'accurate', dataId => 'svc-03.properties',
    group => 'S', pageNo => 1, pageSize => 10);
is(items($b), 'svc-03.properties', 'accurate search');
($st, $h, $b) = get('a', search => 'accurate', dataId => '', group => 'S',
    appName => 'even', pageNo => 1, pageSize => 3);
is(items($b), 'svc-02.properties svc-04.properties svc-06.properties',
    'by appName');
($st, $h, $b) = get('a', search => 'blur', dataId => '', group => '',
    config_tags => 'green', pageNo => 1, pageSize => 10);
is(items($b), 'svc-03.properties', 'by tag');
publish('a', dataId => 'svc-13.json', group => 'S', content => '{}',
    type => 'json');
($st, $h, $b) = get('a', search => 'blur', dataId => 'svc-*', group => 'S',
    types => 'json,xml', pageNo => 1, pageSize => 10);
is(items($b), 'svc-13.json', 'by types');

# namespaces: listed with their counts, shown, changed, deleted when empty

($st, $h, $b) = req('a', 'GET', '/nacos/v1/console/namespaces',
    token => $tok);
my $nsl = $json->decode($b);
is($nsl->{code}, 200, 'namespaces: RestResult');
is(join(' ', map { "$_->{namespace}=$_->{namespaceShowName}:$_->{type}" }
    grep { $_->{namespace} !~ /-/ } @{ $nsl->{data} }),
    '=public:0 dev=Development:2', 'public first, then dev');
my ($gen) = grep { $_->{namespace} =~ /^[0-9a-f]{8}-[0-9a-f]{4}-4/ }
    @{ $nsl->{data} };
ok($gen, 'the generated id is a UUID');
my ($pub) = grep { $_->{namespace} eq '' } @{ $nsl->{data} };
ok($pub->{configCount} >= 15, "public's configCount ($pub->{configCount})");

($st, $h, $b) = req('a', 'GET',
    '/nacos/v1/console/namespaces?show=all&namespaceId=dev', token => $tok);
is($json->decode($b)->{configCount}, 1, 'show=all: dev holds one item');
($st, $h, $b) = req('a', 'GET', '/nacos/v1/console/namespaces?'
    . 'checkNamespaceIdExist=true&customNamespaceId=dev', token => $tok);
is($b, 'true', 'checkNamespaceIdExist');

($st, $h, $b) = req('a', 'PUT', '/nacos/v1/console/namespaces',
    token => $tok, body => form(namespace => 'dev',
        namespaceShowName => 'Dev', namespaceDesc => 'renamed'));
is("$st $b", '200 true', 'rename dev');
($st, $h, $b) = req('a', 'DELETE', '/nacos/v1/console/namespaces?'
    . 'namespaceId=dev', token => $tok);
is($st, 400, 'a namespace with items is not deleted');
($st, $h, $b) = req('a', 'DELETE', "/nacos/v1/console/namespaces?"
    . "namespaceId=$gen->{namespace}", token => $tok);
is("$st $b", '200 true', 'an empty one is');

# history: every change, newest first; one record; the previous one

publish('a', dataId => 'h.txt', group => 'G', content => "h$_")
    for 1 .. 3;
req('a', 'DELETE', '/nacos/v1/cs/configs?dataId=h.txt&group=G',
    token => $tok);

($st, $h, $b) = get('a', dataId => 'h.txt', group => 'G');
($st, $h, $b) = req('a', 'GET', '/nacos/v1/cs/history?search=accurate&'
    . 'dataId=h.txt&group=G&pageNo=1&pageSize=10', token => $tok);
my $hist = $json->decode($b);
is(join(' ', map { $_->{opType} } @{ $hist->{pageItems} }), 'D U U I',
    'history: newest first, I U U D');
ok(!defined $hist->{pageItems}[0]{content}, 'the list has no content');
like($hist->{pageItems}[0]{lastModifiedTime},
    qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/, 'ISO times');
is($hist->{pageItems}[0]{srcUser}, 'nacos', 'who');

my $nid = $hist->{pageItems}[1]{id};
($st, $h, $b) = req('a', 'GET', "/nacos/v1/cs/history?dataId=h.txt&group=G"
    . "&nid=$nid", token => $tok);
my $one = $json->decode($b);
is("$one->{opType} $one->{content}", 'U h2', 'one record: U keeps the old '
    . 'content');
is($one->{md5}, md5_hex('h2'), 'and its MD5');
($st, $h, $b) = req('a', 'GET', '/nacos/v1/cs/history?dataId=h.txt&group=G'
    . '&nid=999999', token => $tok);
is("$st:$b", '200:', 'an unknown nid: empty');

# rollback is a publish of an old record's content
($st) = publish('a', dataId => 'h.txt', group => 'G',
    content => $one->{content});
($st, $h, $b) = get('a', dataId => 'h.txt', group => 'G');
is($b, 'h2', 'rolled back');

($st, $h, $b) = req('a', 'GET', '/nacos/v1/cs/history/configs?tenant=dev',
    token => $tok);
is(join(' ', map { "$_->{group}/$_->{dataId}" } @{ $json->decode($b) }),
    'G/ns.txt', 'history/configs: the items of a namespace');

# v2: the same items in an envelope

($st, $h, $b) = req('a', 'GET', '/nacos/v2/cs/config?dataId=ns.txt&group=G'
    . '&namespaceId=dev', token => $tok);
is($b, '{"code":0,"message":"success","data":"dev one"}', 'v2 GET');
($st, $h, $b) = req('a', 'GET', '/nacos/v2/cs/config?dataId=nope&group=G',
    token => $tok);
is("$st $b", '404 {"code":20004,"message":"resource not found",'
    . '"data":"config data not exist"}', 'v2 GET of nothing');
($st, $h, $b) = req('a', 'POST', '/nacos/v2/cs/config', token => $tok,
    body => form(dataId => 'v2.txt', group => 'G', content => 'two',
        namespaceId => 'dev', configTags => 'x'));
is($b, '{"code":0,"message":"success","data":true}', 'v2 POST');
($st, $h, $b) = req('a', 'POST', '/nacos/v2/cs/config', token => $tok,
    body => form(dataId => 'v2.txt', group => 'G'));
is("$st $b", '400 {"code":10000,"message":"parameter missing",'
    . '"data":"content invalid"}', 'v2 POST without content');
($st, $h, $b) = req('a', 'POST', '/nacos/v2/cs/config', token => $tok,
    body => form(dataId => 'a b', group => 'G', content => 'x'));
like("$st $b", qr/^400 \{"code":20002,"message":"parameter validate error"/,
    'v2: an illegal dataId');
($st, $h, $b) = req('a', 'GET', '/nacos/v2/cs/history/list?dataId=v2.txt'
    . '&group=G&namespaceId=dev', token => $tok);
is(join(' ', map { $_->{opType} }
    @{ $json->decode($b)->{data}{pageItems} }), 'I', 'v2 history/list');
($st, $h, $b) = req('a', 'DELETE', '/nacos/v2/cs/config?dataId=v2.txt'
    . '&group=G&namespaceId=dev', token => $tok);
is($b, '{"code":0,"message":"success","data":true}', 'v2 DELETE');

# gray release: a version for some client addresses only

publish('a', dataId => 'gray.txt', group => 'G', content => 'formal');
($st, $h, $b) = publish('a', dataId => 'gray.txt', group => 'G',
    content => 'gray', headers => "betaIps: 10.0.0.1,10.0.0.2\r\n");
is($st, 200, 'publish a gray version for two addresses');

sub get_from {
    my ($ip) = @_;
    return req('a', 'GET', '/nacos/v1/cs/configs?dataId=gray.txt&group=G',
        token => $tok, headers => "X-Forwarded-For: $ip\r\n");
}

($st, $h, $b) = get_from('10.0.0.2');
is($b, 'gray', 'a listed address reads the gray version');
is($h->{isbeta}, 'true', 'with isBeta: true');
($st, $h, $b) = get_from('10.0.0.9');
is($b, 'formal', 'another reads the formal one');
ok(!exists $h->{isbeta}, 'without isBeta');

($st, $h, $b) = get('a', dataId => 'gray.txt', group => 'G', beta => 'true');
my $beta = $json->decode($b);
is("$beta->{data}{content} $beta->{data}{betaIps}", 'gray 10.0.0.1,10.0.0.2',
    '?beta=true: the gray version and its addresses');
($st, $h, $b) = get('a', search => 'accurate', dataId => 'gray.txt',
    group => 'G', pageNo => 1, pageSize => 10);
is($json->decode($b)->{pageItems}[0]{isBeta}, JSON::PP::true(),
    'isBeta in listings');
($st, $h, $b) = publish('a', dataId => 'gray.txt', group => 'G',
    content => 'x', headers => "betaIps: <script>\r\n");
is($st, 400, 'betaIps that are not addresses: 400');

sub listen_from {
    my ($ip, $md5) = @_;
    return park('a', $ip, [ 'gray.txt', 'G', $md5 ]);
}

($st, $b) = listen_end(listen_from('10.0.0.1', md5_hex('formal')));
is($b, "gray.txt%02G%01\n",
    'a listed address with the formal MD5 is told at once');
my $lg = listen_from('10.0.0.1', md5_hex('gray'));
my $lf = listen_from('10.0.0.9', md5_hex('formal'));

($st, $h, $b) = req('a', 'DELETE', '/nacos/v1/cs/configs?beta=true&'
    . 'dataId=gray.txt&group=G', token => $tok);
is($json->decode($b)->{message}, 'stop beta ok', 'stop the gray release');
($st, $b) = listen_end($lg);
is($b, "gray.txt%02G%01\n", 'which wakes the listener that saw it');
($st, $h, $b) = get_from('10.0.0.1');
is($b, 'formal', 'the formal version for everyone again');
my @ready = IO::Select->new($lf)->can_read(0.5);
is(scalar(@ready), 0, 'the others were never told');
publish('a', dataId => 'gray.txt', group => 'G', content => 'formal 2');
($st, $b) = listen_end($lf);
is($b, "gray.txt%02G%01\n", 'until the formal version changes');

# export and import: a zip as Nacos' console makes and reads them

($st, $h, $b) = req('a', 'GET', '/nacos/v1/cs/configs?exportV2=true&tenant=dev',
    token => $tok);
is($st, 200, 'export namespace dev');
like($h->{'content-disposition'},
    qr/^attachment;filename=nacos_config_export_\d{14}\.zip$/,
    'as a zip file');

my %zipped;
my $u = IO::Uncompress::Unzip->new(\$b) or diag("unzip: $UnzipError");
for (my $more = $u ? 1 : 0; $more > 0; $more = $u->nextStream()) {
    my $name = $u->getHeaderInfo()->{Name};
    my $data = '';
    while ((my $n = $u->read(my $chunk)) > 0) { $data .= $chunk }
    $zipped{$name} = $data;
}
is(join(' ', sort keys %zipped), '.metadata.yml G/ns.txt',
    'an independent unzip reads the item and the metadata');
is($zipped{'G/ns.txt'}, 'dev one', 'the content');
like($zipped{'.metadata.yml'}, qr/^metadata:\n- dataId: "ns.txt"\n  group: "G"\n/,
    'the metadata');

sub import_zip {
    my ($zip, $query) = @_;
    my $bd = 'nacreboundary7c3f';
    my $body = "--$bd\r\nContent-Disposition: form-data; name=\"file\"; "
        . "filename=\"x.zip\"\r\nContent-Type: application/zip\r\n\r\n"
        . $zip . "\r\n--$bd--\r\n";
    my $raw = http(Test::Nacre::_request('POST',
            "/nacos/v1/cs/configs?import=true&$query",
            headers => "accessToken: $tok\r\n"
                . "Content-Type: multipart/form-data; boundary=$bd\r\n",
            content => $body),
        addr => "127.0.0.1:$port{a}", timeout => 20, quiet => 1);
    my ($s, $hh, $bb) = parse_response($raw // '');
    return ($s // 0, $bb // '');
}

# made by an independent zip writer
my $zip;
my @members = ([ 'IMP/one.yaml', 'imported one' ],
    [ 'IMP/two.txt', 'imported two' ], [ 'G/ns.txt', 'exists already' ],
    [ '.metadata.yml', "metadata:\n- dataId: 'one.yaml'\n  group: IMP\n"
        . "  type: yaml\n  appName: importer\n" ]);
my $zw = IO::Compress::Zip->new(\$zip, Name => $members[0][0])
    or diag("zip: $ZipError");
$zw->print($members[0][1]);
for my $m (@members[1 .. $#members]) {
    $zw->newStream(Name => $m->[0]);
    $zw->print($m->[1]);
}
$zw->close();

($st, $b) = import_zip($zip, 'namespace=dev&policy=ABORT');
my $rep = $json->decode($b);
is("$rep->{data}{succCount} $rep->{data}{failCount} "
    . "$rep->{data}{failData}[0]{dataId}", '0 1 ns.txt',
    'ABORT: one exists, nothing is imported');
($st) = get('a', dataId => 'one.yaml', group => 'IMP', tenant => 'dev');
is($st, 404, 'not even those before it');
($st, $b) = import_zip($zip, 'namespace=dev&policy=SKIP');
$rep = $json->decode($b);
is("$rep->{data}{succCount} $rep->{data}{skipCount}", '2 1',
    'SKIP: the others are imported');
is($rep->{data}{skipData}[0]{dataId}, 'ns.txt', 'and the skipped named');
($st, $h, $b) = get('a', dataId => 'one.yaml', group => 'IMP',
    tenant => 'dev');
is("$b $h->{'config-type'}", 'imported one yaml', 'with its metadata');
($st, $h, $b) = get('a', dataId => 'ns.txt', group => 'G', tenant => 'dev');
is($b, 'dev one', 'the existing one untouched');
($st, $b) = import_zip($zip, 'namespace=dev&policy=OVERWRITE');
$rep = $json->decode($b);
is($rep->{data}{succCount}, 3, 'OVERWRITE: all three');
($st, $h, $b) = get('a', dataId => 'ns.txt', group => 'G', tenant => 'dev');
is($b, 'exists already', 'overwritten');
publish('a', dataId => 'ns.txt', group => 'G', content => 'dev one',
    tenant => 'dev');

($st, $b) = import_zip('this is no zip', 'namespace=dev');
is($st, 400, 'not a zip: 400');
like($b, qr/the zip cannot be read: not a zip archive/, 'says so');
($st, $b) = import_zip(substr($zip, 0, length($zip) - 30), 'namespace=dev');
is($st, 400, 'a truncated zip: 400');
($st, $b) = import_zip($zip, 'namespace=nowhere');
is($st, 400, 'into a namespace that does not exist: 400');

# the listener

my $cur = md5_hex('a: 2');

($st, $h, $b) = req('a', 'POST', '/nacos/v1/cs/configs/listener',
    token => $tok, body => form('Listening-Configs' =>
        records([ 'app.yaml', 'DEFAULT_GROUP', 'stale' ])),
    headers => "Long-Pulling-Timeout: 30000\r\n");
is($b, "app.yaml%02DEFAULT_GROUP%01\n", 'a differing MD5: answered at once');

($st, $h, $b) = req('a', 'POST', '/nacos/v1/cs/configs/listener',
    token => $tok, body => form('Listening-Configs' =>
        records([ 'ns.txt', 'G', '', 'dev' ], [ 'nope', 'G', '' ])));
is($b, "ns.txt%02G%02dev%01\n",
    'with a tenant, echoed; an absent item with an empty MD5 is unchanged');

($st, $h, $b) = req('a', 'POST', '/nacos/v1/cs/configs/listener',
    token => $tok, body => form('Listening-Configs' =>
        records([ 'app.yaml', 'DEFAULT_GROUP', $cur ])),
    headers => "Long-Pulling-Timeout: 30000\r\n"
        . "Long-Pulling-Timeout-No-Hangup: true\r\n");
is("$st:$b", '200:', 'No-Hangup: an empty answer at once');

my $s = listen_start('a', records([ 'app.yaml', 'DEFAULT_GROUP', $cur ],
    [ 'svc-01.properties', 'S', md5_hex('n=1') ]), timeout => 30000);

publish('a', dataId => 'app.yaml', group => 'DEFAULT_GROUP',
    content => 'a: 2');
publish('a', dataId => 'svc-02.properties', group => 'S', content => 'n=2b');
@ready = IO::Select->new($s)->can_read(1);
is(scalar(@ready), 0,
    'held: an identical republish and another key change nothing');

publish('a', dataId => 'svc-01.properties', group => 'S', content => 'n=1b');
($st, $b) = listen_end($s);
is($b, "svc-01.properties%02S%01\n", 'a change wakes it, with that key');

for my $bad ([ "a\x02G\x02m", 'truncated' ],
    [ "a\x02G\x02m\x02t\x02x\x01", 'five fields' ],
    [ "a\x01", 'one field' ],
    [ '', 'empty' ])
{
    ($st, $h, $b) = req('a', 'POST', '/nacos/v1/cs/configs/listener',
        token => $tok, body => form('Listening-Configs' => $bad->[0]),
        headers => "Long-Pulling-Timeout: 30000\r\n");
    is($st, 400, "listener, $bad->[1]: 400");
}

is($b, 'caused: invalid probeModify;', 'invalid probeModify');

# permissions: namespace dev read-write; public DEFAULT_GROUP read-only

for my $u ([ 'dev', 'ROLE_DEV', 'dev:*:*', 'rw' ],
    [ 'ro', 'ROLE_RO', 'public:DEFAULT_GROUP:*', 'r' ])
{
    my ($user, $role, $res, $act) = @$u;
    req('a', 'POST', '/nacos/v1/auth/users', token => $tok,
        body => "username=$user&password=$user-password");
    req('a', 'POST', '/nacos/v1/auth/roles', token => $tok,
        body => "role=$role&username=$user");
    ($st) = req('a', 'POST', '/nacos/v1/auth/permissions', token => $tok,
        body => form(role => $role, resource => $res, action => $act));
    is($st, 200, "$role: $res $act");
}

my $dev = login('a', 'dev', 'dev-password');
my $ro = login('a', 'ro', 'ro-password');

($st) = publish('a', dataId => 'mine', group => 'X', content => 'm',
    tenant => 'dev', token => $dev);
is($st, 200, 'dev writes in namespace dev');
($st, $h, $b) = get('a', dataId => 'ns.txt', group => 'G', tenant => 'dev',
    token => $dev);
is($b, 'dev one', 'and reads there');
($st) = get('a', dataId => 'app.yaml', group => 'DEFAULT_GROUP',
    token => $dev);
is($st, 403, 'but not in public');
($st) = publish('a', dataId => 'x', group => 'X', content => 'm',
    tenant => 'prod', token => $dev);
is($st, 403, 'nor in prod');

($st, $h, $b) = get('a', dataId => 'app.yaml', group => 'DEFAULT_GROUP',
    token => $ro);
is($b, 'a: 2', 'ro reads public DEFAULT_GROUP');
($st) = publish('a', dataId => 'app.yaml', group => 'DEFAULT_GROUP',
    content => 'no', token => $ro);
is($st, 403, 'but does not write it');
($st) = get('a', dataId => 'x', group => 'G', token => $ro);
is($st, 403, 'nor reads another group');
($st) = get('a', dataId => 'app.yaml', group => 'DEFAULT_GROUP',
    token => 'forged.token.here');
is($st, 403, 'a forged token: 403');

($st) = req('a', 'POST', '/nacos/v1/cs/configs/listener', token => $ro,
    body => form('Listening-Configs' =>
        records([ 'app.yaml', 'DEFAULT_GROUP', '' ], [ 'x', 'G', '' ])));
is($st, 403, 'a listener on a key it may not read: 403');
($st, $h, $b) = req('a', 'POST', '/nacos/v1/cs/configs/listener',
    token => $ro, body => form('Listening-Configs' =>
        records([ 'app.yaml', 'DEFAULT_GROUP', '' ])));
is($b, "app.yaml%02DEFAULT_GROUP%01\n", 'and on one it may: answered');

($st, $h, $b) = get('a', dataId => 'app.yaml', group => 'DEFAULT_GROUP',
    token => '', username => 'ro', password => 'ro-password');
is($b, 'a: 2', 'username and password parameters, as the Node client');

# who listens: GET /nacos/v1/cs/configs/listener (by item) and
# /nacos/v1/cs/listener?ip= (by client), from the parked listeners

publish('a', dataId => 'watched.txt', group => 'G', content => 'w');
my ($mw, $ma) = (md5_hex('w'), md5_hex('a: 2'));
my $odd_ip = '10.0.0.8"\\';

# a listener parked on a member, for a client at ip
sub park {
    my ($who, $ip, @recs) = @_;
    my $body = form('Listening-Configs' => records(@recs));
    return http_start(Test::Nacre::_request('POST',
            '/nacos/v1/cs/configs/listener', headers =>
            "Content-Type: application/x-www-form-urlencoded\r\n"
            . "Long-Pulling-Timeout: 30000\r\naccessToken: $tok\r\n"
            . "X-Forwarded-For: $ip\r\n", content => $body),
        addr => "127.0.0.1:$port{$who}", timeout => 60);
}

# the map answered, or the status, or what went wrong
sub listeners {
    my ($query, $token) = @_;
    my ($st, $h, $b) = req('a', 'GET', $query, token => $token // $tok);
    return $st unless $st == 200;
    my $r = eval { $json->decode($b) } or return "not JSON: $b";
    return "collectStatus $r->{collectStatus}"
        unless $r->{collectStatus} == 200;
    return $r->{lisentersGroupkeyStatus};
}

my @parked = (park('a', '10.0.0.1', [ 'watched.txt', 'G', $mw ]),
    park('a', '10.0.0.1', [ 'watched.txt', 'G', $mw ]),
    park('a', '10.0.0.7', [ 'watched.txt', 'G', $mw ],
        [ 'app.yaml', 'DEFAULT_GROUP', $ma ]),
    park('a', $odd_ip, [ 'app.yaml', 'DEFAULT_GROUP', $ma ]));

my $by_item = '/nacos/v1/cs/configs/listener?dataId=watched.txt&group=G';
my $of_app = '/nacos/v1/cs/configs/listener?dataId=app.yaml';
ok($t->wait_until(sub { my $l = listeners($of_app);
        ref $l && keys %$l == 2 }, 5),
    'the listeners of an item are listed once parked');
is_deeply(listeners($by_item), { '10.0.0.1' => $mw, '10.0.0.7' => $mw },
    'by address, each once, with the MD5 each holds');
is_deeply(listeners('/nacos/v1/cs/listener?ip=10.0.0.7'),
    { 'watched.txt+G' => $mw, 'app.yaml+DEFAULT_GROUP' => $ma },
    'the items of a client, by group key');
is_deeply(listeners($of_app), { '10.0.0.7' => $ma, $odd_ip => $ma },
    'a blank group is DEFAULT_GROUP; an address escaped in JSON');
is_deeply(listeners('/nacos/v1/cs/configs/listener?dataId=none&group=G'),
    {}, 'an item nobody polls: an empty map');
is(listeners('/nacos/v1/cs/configs/listener?group=G'), 400,
    'no dataId: 400');
is(listeners('/nacos/v1/cs/listener?tenant=dev'), 400, 'no ip: 400');
is(listeners($by_item, $ro), 403,
    'the listeners of an item the user may not read: 403');
is_deeply(listeners("$of_app&group=DEFAULT_GROUP", $ro),
    { '10.0.0.7' => $ma, $odd_ip => $ma }, 'of one it may: listed');
is(listeners('/nacos/v1/cs/listener?ip=10.0.0.7&all=true', $ro), 403,
    'every namespace: the admin role only');
is_deeply(listeners('/nacos/v1/cs/listener?ip=10.0.0.7&all=true'),
    { 'watched.txt+G' => $mw, 'app.yaml+DEFAULT_GROUP' => $ma },
    'which may ask');
is_deeply(listeners('/nacos/v1/cs/listener?ip=10.0.0.7&tenant=dev'), {},
    'none in another namespace');

publish('a', dataId => 'watched.txt', group => 'G', content => 'w2');
my @answers = map { (listen_end($_))[1] } @parked[0 .. 2];
is(join('|', @answers), join('|', ("watched.txt%02G%01\n") x 3),
    'a change answers them');
ok($t->wait_until(sub { my $l = listeners($by_item); ref $l && !%$l }, 5),
    'and they are listed no longer');
is_deeply(listeners($of_app), { $odd_ip => $ma }, 'on any of their items');
close($parked[3]);
ok($t->wait_until(sub { my $l = listeners($of_app); ref $l && !%$l }, 5),
    'nor one whose client went away');

# the idle listener timed out with an empty answer

($st, $b) = listen_end($idle);
is("$st:$b", '200:', 'a listener with nothing changed: empty, on time out');

# a listener whose client goes away frees its connection at once (499)

my $gone = listen_start('a', records([ 'app.yaml', 'DEFAULT_GROUP',
    md5_hex('a: 2') ]), timeout => 30000);
@ready = IO::Select->new($gone)->can_read(0.3);
close($gone);
ok($t->wait_until(sub { ($na->read_file('logs/access.log') // '')
    =~ m{"POST /nacos/v1/cs/configs/listener HTTP/1.1" 499 } }, 5),
    'a listener whose client closed ends at once, logged 499');

# a reload: the old worker answers its parked listeners at once

my $parked = listen_start('a', records([ 'app.yaml', 'DEFAULT_GROUP',
    md5_hex('a: 2') ]), timeout => 30000);
@ready = IO::Select->new($parked)->can_read(0.5);
is(scalar(@ready), 0, 'a listener is parked');
$na->reload();
my ($pst, $ph, $pb) = parse_response(http_end($parked, timeout => 8) // '');
is(($pst // 'no answer') . ':' . ($pb // ''), '200:',
    'a reload answers it, empty, long before its time out');

# the daemon is fine after all that

($st) = req('a', 'GET', '/nacos/v1/console/health/liveness');
is($st, 200, 'still serving');

###############################################################################

# history bounded by count (3) and by age (2 s)

# a worker killed with parked listeners: the master frees what it listed

my $orphan = park('a', '10.0.0.9', [ 'watched.txt', 'G', md5_hex('w2') ]);
ok($t->wait_until(sub { my $l = listeners($by_item); ref $l && %$l }, 5),
    'a parked listener listed');
my @killed = $na->worker_pids();
kill 'KILL', @killed;
close($orphan);
ok($t->wait_until(sub { my @w = $na->worker_pids();
        @w && !grep { my $w = $_; grep { $_ == $w } @killed } @w }, 10),
    'its worker killed and replaced');
ok($t->wait_until(sub { my $l = listeners($by_item); ref $l && !%$l }, 10),
    'the killed worker\'s listener is listed no longer');

ok($t->instance('h')->wait_ready(10, port => $port{h}), 'h ready');

sub history_of {
    my ($st, $h, $b) = req('h', 'GET', '/nacos/v1/cs/history?search=accurate'
        . '&dataId=bounded&group=G&pageNo=1&pageSize=50');
    my $d = eval { $json->decode($b) } or return "bad JSON: $b";
    return join ' ', map { $_->{opType} } @{ $d->{pageItems} };
}

publish('h', dataId => 'bounded', group => 'G', content => "v$_")
    for 1 .. 5;
is(history_of(), 'U U U', 'at most history_max_count records, the newest');
sleep(2.5);
publish('h', dataId => 'bounded', group => 'G', content => 'v6');
is(history_of(), 'U', 'records older than history_max_age are gone');

###############################################################################

# a cluster: a change on one member wakes a listener parked on the other

my ($c1, $c2) = ($t->instance('c1'), $t->instance('c2'));
ok($c1->wait_ready(20, port => $port{c1}), 'c1 ready');
ok($t->wait_until(sub { (publish('c1', dataId => 'shared', group => 'G',
    content => 'v1'))[0] == 200 }, 30), 'the cluster takes writes');
ok($t->wait_until(sub { (get('c2', dataId => 'shared', group => 'G'))[2]
    eq 'v1' }, 10), 'c2 has it');

my @ls = map { listen_start('c2', records([ 'shared', 'G', md5_hex('v1') ]),
    timeout => 30000) } 1 .. 4;
($st) = req('c2', 'GET', '/nacos/v1/console/health/liveness');

($st) = publish('c1', dataId => 'shared', group => 'G', content => 'v2');
is($st, 200, 'publish on c1');
is(join(' ', map { (listen_end($_))[1] } @ls),
    join(' ', ("shared%02G%01\n") x 4),
    "every listener on c2 (both workers) woke with the key");
($st, $h, $b) = get('c2', dataId => 'shared', group => 'G');
is($b, 'v2', 'and reads the new value there');

# the listeners of an item: a client polls one member, every member's listed

sub listeners_on {
    my ($who, $query) = @_;
    my ($st, $h, $b) = req($who, 'GET', $query);
    my $r = $st == 200 ? eval { $json->decode($b) } : undef;
    return $r ? $r->{lisentersGroupkeyStatus} : "$st $b";
}

my @on = map { park("c$_", "10.3.0.$_", [ 'shared', 'G', md5_hex('v2') ]) }
    1, 2;
my $shared = '/nacos/v1/cs/configs/listener?dataId=shared&group=G';
ok($t->wait_until(sub { my $l = listeners_on('c1', $shared);
        ref $l && keys %$l == 2 }, 5),
    'the listeners of an item on every member, asked of one')
    or diag(explain(listeners_on('c1', $shared)));
is_deeply(listeners_on('c2', '/nacos/v1/cs/listener?ip=10.3.0.1'),
    { 'shared+G' => md5_hex('v2') }, 'a client polling another member');

# a member that does not answer costs a second, never the answer
my $cons = $c2->consensus_pid();
kill 'STOP', $cons;
my $t0 = time();
is_deeply(listeners_on('c1', $shared), { '10.3.0.1' => md5_hex('v2') },
    'a member that does not answer: the others\' listeners');
my $took = time() - $t0;
kill 'CONT', $cons;
ok($took < 5, "answered without it (${took}s)");
close($_) for @on;

