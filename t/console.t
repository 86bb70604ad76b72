#!/usr/bin/perl

# nacre: the console (html/) in headless Chromium, driven by playwright-core
# against a real node: log in (a wrong password first), the config list
# with 10,000 items (first paint, paging, search), create, edit, history
# with its diff and a rollback, gray release, delete; an instance
# registered through the API appears, is disabled and reweighted; the
# cluster's Raft state; gateway routes with validation errors and
# counters; users, roles, permissions; namespaces; log out; an expired
# token.  What the pages show is checked here, and the API is asked
# whether the clicks did what they said.  Screenshots: objs/console/.

###############################################################################

use warnings;
use strict;

use Test::More;

BEGIN { use FindBin; chdir($FindBin::Bin); }

use lib 'lib';
use Test::Nacre;

use Digest::MD5 qw/ md5_hex /;
use File::Path qw/ make_path /;
use IO::Compress::Zip qw/ $ZipError /;
use JSON::PP;

###############################################################################

select STDERR; $| = 1;
select STDOUT; $| = 1;

my $chromium = $ENV{NACRE_CHROMIUM} // '/usr/bin/chromium';

plan(skip_all => 'node is not installed (auto/install-deps installs it)')
    unless Test::Nacre::find_in_path('node');
plan(skip_all => "no Chromium at $chromium (auto/install-deps installs it)")
    unless -x $chromium;
plan(skip_all => 'playwright-core is not installed: run auto/install-deps')
    unless -d "$FindBin::Bin/clients/node_modules/playwright-core";

my $t = Test::Nacre->new()->plan(102);
my $json = JSON::PP->new->canonical;
my $html = "$Test::Nacre::ROOT/html";
my $shots = "$Test::Nacre::ROOT/objs/console";
my $password = 'console-admin-password';

my %port = (api => port(8941), short => port(8942), gw => port(8943),
    backend => port(8944));

my $n = $t->instance('a');
$n->write_file('admin.pw', "$password\n");
$n->write_file_expand('nacre.yaml', <<"EOF");
daemon: false
worker_processes: 2
auth:
  admin_password_file: admin.pw
api:
  listen: 127.0.0.1:%%PORT_8941%%
  root: $html
gateway:
  listen: 127.0.0.1:%%PORT_8943%%
EOF

# tokens that expire within seconds
my $s = $t->instance('short');
$s->write_file('admin.pw', "$password\n");
$s->write_file_expand('nacre.yaml', <<"EOF");
daemon: false
worker_processes: 1
auth:
  admin_password_file: admin.pw
  token_ttl: 2s
api:
  listen: 127.0.0.1:%%PORT_8942%%
  root: $html
EOF

# a cluster of three, for the members' Raft state
for my $i (1 .. 3) {
    my $c = $t->instance("c$i");
    $c->write_file('cluster.key', "the secret of the console's cluster\n");
    $c->write_file('admin.pw', "$password\n");
    $c->write_file_expand('nacre.yaml', <<"EOF");
daemon: false
worker_processes: 1
auth:
  admin_password_file: admin.pw
api:
  listen: 127.0.0.1:%%PORT_895$i%%
  root: $html
cluster:
  self: 127.0.0.1:%%PORT_796$i%%
  members: [127.0.0.1:%%PORT_7961%%, 127.0.0.1:%%PORT_7962%%,
            127.0.0.1:%%PORT_7963%%]
  secret_file: cluster.key
  election_timeout: 1s
  heartbeat_interval: 100ms
EOF
}

$_->run() for $n, $s, map { $t->instance("c$_") } 1 .. 3;

###############################################################################

sub req {
    my ($method, $uri, %o) = @_;
    my $h = $o{token} ? "accessToken: $o{token}\r\n" : '';
    $h .= $o{headers} // '';

    my $raw = http(Test::Nacre::_request($method, $uri, headers => $h
            . (defined $o{body} ? "Content-Type: " . ($o{type}
                // 'application/x-www-form-urlencoded') . "\r\n" : ''),
            content => $o{body}),
        addr => "127.0.0.1:" . ($o{port} // $port{api}), timeout => 30,
        quiet => 1);

    return (0, '') unless defined $raw;
    my ($st, $hdr, $b) = parse_response($raw);
    return ($st, $b // '');
}

sub login {
    my ($port, $user, $pw) = @_;
    my ($st, $b) = req('POST', '/nacos/v1/auth/login', port => $port,
        body => "username=$user&password=$pw");
    return $st == 200 ? $json->decode($b)->{accessToken} : undef;
}

###############################################################################

ok($n->wait_ready(10, port => $port{api}), 'ready');
ok($s->wait_ready(10, port => $port{short}), 'the short-token node ready');
ok($t->wait_until(sub { login($port{api}, 'nacos', $password) }, 20),
    'the admin logs in');
$t->wait_until(sub { login($port{short}, 'nacos', $password) }, 20);

my $tok = login($port{api}, 'nacos', $password);

# the cluster's leader, once there is one and it has its admin
my $leader;
ok($t->wait_until(sub {
    for my $i (1 .. 3) {
        my $p = port(8950 + $i);
        my $ctok = login($p, 'nacos', $password) or next;
        my ($st, $b) = req('GET', '/v1/cluster/raft', port => $p,
            token => $ctok);
        my $r = eval { $json->decode($b) } or next;
        if (($r->{role} // '') eq 'leader'
            && (grep { ($_->{role} // '') eq 'follower' }
                @{ $r->{members} }) == 2)
        {
            $leader = $p;
            return 1;
        }
    }
    return 0;
}, 30), 'the cluster has a leader and two followers');

# the console's files are served, the page itself needs no identity

my ($st, $b) = req('GET', '/nacos/');
is($st, 200, 'the console is served');
like($b, qr{<script type="module" src="js/app\.js">}, 'the app page');

# 10,000 items, imported as one zip

my $zip;
my $z = IO::Compress::Zip->new(\$zip, Name => 'BULK/item-00000.properties',
    Minimal => 1) or die "zip: $ZipError\n";
$z->print("key=0\n");
for my $i (1 .. 9999) {
    $z->newStream(Name => sprintf('BULK/item-%05d.properties', $i));
    $z->print("key=$i\n");
}
$z->close();

my $bd = 'nacreconsole7c3f';
($st, $b) = req('POST', '/nacos/v1/cs/configs?import=true&policy=OVERWRITE',
    token => $tok, type => "multipart/form-data; boundary=$bd",
    body => "--$bd\r\nContent-Disposition: form-data; name=\"file\"; "
        . "filename=\"bulk.zip\"\r\nContent-Type: application/zip\r\n\r\n"
        . $zip . "\r\n--$bd--\r\n");
like($b, qr/"succCount":10000/, '10,000 items imported');

###############################################################################

# the browser

make_path($shots);
unlink glob("$shots/*.png");

my $cfg = $json->encode({
    base => "http://127.0.0.1:$port{api}",
    short => "http://127.0.0.1:$port{short}",
    gateway => "http://127.0.0.1:$port{gw}",
    backendPort => $port{backend},
    leader => "http://127.0.0.1:" . ($leader // port(8951)),
    password => $password,
    newPassword => 'alice-pass-2',
    shots => $shots,
    chromium => $chromium,
});

my $started = time();
my $out = `node $FindBin::Bin/clients/console.js '$cfg' 2>&1`;
my $r = eval { $json->decode($out) } // { facts => {},
    errors => ["not JSON: $out"] };
my %f = %{ $r->{facts} };

is(join("\n", @{ $r->{errors} }), '', 'every step ran');
diag(sprintf('browser: %.1f s', ($r->{ms} // 0) / 1000));

# log in

like($f{wrong_password}, qr/^HTTP 403: user not found!$/,
    'a wrong password: the server\'s message');
like($f{wrong_password_hash}, qr{^#/login}, 'still on the login page');
is($f{after_login}, 'Configurations', 'logged in: the config list');
ok($f{session}, 'the token is in session storage');

# the list: first paint, paging, search

# how fast is bench/console's question; here: rendered, with its mark
ok(defined $f{list_paint_ms} && $f{list_paint_ms} > 0,
    'the list rendered (its performance mark set)')
    or diag("list_paint_ms: " . ($f{list_paint_ms} // 'none'));
diag("the list rendered in $f{list_paint_ms} ms (bench/console measures it)")
    if defined $f{list_paint_ms};
is($f{list_rows}, 20, 'a page of 20 rows');
is($f{list_pager}, 'Page 1 of 500 (10000 in all)', 'paged on the server');
like($f{list_page2}, qr/^item-000(2[0-9]|3[0-9])\.properties$/,
    'the second page');
is(scalar @{ $f{search_rows} // [] }, 10, 'search: 10 rows');
like(($f{search_rows} // [])->[0] // '', qr/^item-04240\.propertiesBULK/,
    'search: matching items');

# create, edit, detail

is($f{created_content}, "a: 1\nb: 2", 'created: the content shown');
is($f{created_type}, 'yaml', 'created: the type');
like($f{invalid_json}, qr/not valid JSON/, 'invalid JSON refused');
is($f{edit_loaded}, "a: 1\nb: 2", 'edit: the content loaded');
is($f{edited_content}, "a: 1\nb: 3\nc: 4", 'edited');
is(join('|', @{ $f{listeners} // [] }),
    '10.1.2.3' . md5_hex("a: 1\nb: 3\nc: 4") . 'up to date',
    'the listeners of a config: a client polling it, up to date');

# history, diff, rollback

is(scalar @{ $f{history_rows} // [] }, 2, 'two history records');
like(($f{history_rows} // [])->[0] // '', qr/updatednacos127\.0\.0\.1/,
    'the newest: updated by nacos');
is($f{diff_summary}, '1 line removed, 2 added.', 'the diff');
is(join('|', @{ $f{diff_removed} // [] }), 'removed: b: 2',
    'the diff: removed line');
is(join('|', @{ $f{diff_added} // [] }), 'added: b: 3|added: c: 4',
    'the diff: added lines');
is($f{rolled_back}, "a: 1\nb: 2", 'rolled back');

($st, $b) = req('GET', '/nacos/v1/cs/configs?dataId=console.yaml'
    . '&group=DEFAULT_GROUP', token => $tok);
is($b, "a: 1\nb: 2", 'the API serves the rolled back content');

# gray, delete

like($f{gray}, qr/Served to 10\.1\.1\.1,10\.1\.1\.2 instead/,
    'gray release shown');
is($f{gray_stopped}, 0, 'gray release stopped');
is($f{scratch}, '200 true', 'an item to delete');
is($f{deleted}, 'No configuration matches.', 'deleted from the list');
like(join('|', @{ $f{deleted_history} // [] }), qr/^\d+deletednacos.*\|\d+creatednacos/,
    'the history of a deleted item');
($st, $b) = req('GET', '/nacos/v1/cs/configs?dataId=scratch.txt'
    . '&group=DEFAULT_GROUP', token => $tok);
is($st, 404, 'the API has it no more');

# services

is($f{register}, '200 ok', 'an instance registered through the API');
like(join('|', @{ $f{services} // [] }), qr/shopDEFAULT_GROUP111/,
    'the service in the list: 1 cluster, 1 instance, 1 healthy');
like($f{instance},
    qr/^127\.0\.0\.1:$port{backend} DEFAULT persistent \w+ enabled /,
    'the instance on the service page');
like($f{disabled}, qr/ disabled /, 'disabled');
like($f{weight_flash}, qr/set to 3/, 'weight saved');

($st, $b) = req('GET', '/nacos/v1/ns/catalog/instances?serviceName=shop'
    . '&pageNo=1&pageSize=10', token => $tok);
my $inst = (eval { $json->decode($b) } // {})->{list}[0] // {};
ok(defined $inst->{enabled} && !$inst->{enabled}, 'the API: disabled');
is($inst->{weight}, 3, 'the API: weight 3');

like($f{by_hand}, qr/ persistent unhealthy Mark healthy disabled /,
    'health set by hand once the checker is NONE');
like($f{service_props}, qr/Protect threshold0\.5Metadata\{"team":"shop"\}/,
    'service settings saved');
($st, $b) = req('GET', '/nacos/v1/ns/service?serviceName=shop', token => $tok);
like($b, qr/"protectThreshold":0\.5/, 'the API: protect threshold');

# cluster

is($f{role}, 'leader', 'cluster: role');
like($f{term}, qr/^\d+$/, 'cluster: term');
like($f{cluster_props}, qr/Commit index\d+Applied index\d+Last log index\d+Snapshot index\d+/,
    'cluster: commit, applied, last, snapshot');
like(join('|', @{ $f{members} // [] }), qr/leader/, 'cluster: members');

like(join('|', @{ $f{cluster_members} // [] }),
    qr/^(?=.*leader \d+ 0 yes)(?=(?:.*follower \d+ \d+ yes){2})/,
    'a cluster of three: the leader, two followers, match and lag');
is($f{cluster_role}, 'leader', 'a cluster of three: this member leads');
like($f{cluster_self}, qr/^127\.0\.0\.1:\d+ \(id [0-9a-f]+\)$/,
    'a cluster of three: this member\'s address');
like($f{removed} // '', qr/^127\.0\.0\.1:\d+$/, 'a follower to remove');
is(scalar(@{ $f{cluster_after} // [] }), 2, 'two members left');
ok(!grep({ $_ eq ($f{removed} // '') } @{ $f{cluster_after} // [] }),
    'the follower is gone from the page');
($st, $b) = req('GET', '/v1/cluster/raft', port => $leader, token =>
    login($leader, 'nacos', $password));
is(scalar(@{ (eval { $json->decode($b) } // {})->{members} // [] }), 2,
    'the API: two members');

# gateway

like($f{route_bad_json}, qr/not valid JSON/, 'route: bad JSON');
like($f{route_bad_regex}, qr/^HTTP 400: "path": missing closing parenthesis/,
    'route: the server\'s regex error shown');
is($json->encode($f{route_json} // {}),
    '{"methods":["GET","POST"],"path":"/shop/","strip_prefix":true,'
    . '"upstream":{"service":{"group":"DEFAULT_GROUP","name":"web"}}}',
    'route: the common fields written into the JSON');
is($f{register_web}, '200 ok', 'the route\'s service registered');
is($f{proxied0}, '200 hello from shop /hello', 'the route proxies');
my @cells = @{ $f{route_cells} // [] };
is($cells[0], 'shop', 'route listed');
is("@cells[3 .. 7]", '3 3 0 0 0', 'route counters: 3 requests, 3 2xx');

($st, $b) = req('GET', '/v1/gateway/routes/shop', token => $tok);
like($b, qr{"path":"/shop/"}, 'the API has the route');

# users, roles, permissions

like(join('|', @{ $f{users} // [] }), qr/^alice.*\|nacos/, 'user created');
like($f{user_exists}, qr/^HTTP 400: caused: user 'alice' already exist!;$/,
    'an existing user: the server\'s message');
like($f{user_flash}, qr/Password of alice changed/, 'password changed');
ok(login($port{api}, 'alice', 'alice-pass-2'),
    'alice logs in with the new password');
like(join('|', @{ $f{roles} // [] }), qr/shop-devalice/, 'role bound');
like(join('|', @{ $f{permissions} // [] }),
    qr/shop-dev:DEFAULT_GROUP:config\/\*read and write/, 'permission added');
unlike(join('|', @{ $f{users_after} // [] }), qr/bob/, 'user deleted');
ok(!login($port{api}, 'bob', 'bob-pass-12'), 'bob is gone');

is($f{alice_whoami}, 'alice', 'a user: logged in, not an admin');
is($f{alice_users}, 'HTTP 403: authorization failed!',
    'a user: the users page refused in place');
like($f{alice_hash}, qr{^#/users}, 'a user: still logged in');
unlike(join('|', @{ $f{permissions_after} // [] }), qr/shop-dev/,
    'permission deleted');
unlike(join('|', @{ $f{roles_after} // [] }), qr/shop-dev/, 'role deleted');

# namespaces

like(join('|', @{ $f{namespaces} // [] }), qr/Stagingstagingbefore production0200/,
    'namespace created');
like(join('|', @{ $f{ns_options} // [] }), qr/Staging \(staging\)/,
    'namespace in the selector');

# the namespace selector, a laptop screen

is($f{ns_configs}, 'No configuration matches.', 'another namespace: empty');
is($f{ns_item}, 'staging', 'an item made in the chosen namespace');
is($f{ns_public}, 'config data not exist', 'not in the public one');
is($f{export_name}, 'nacos_config_export_staging.zip', 'exported');
is($f{export_head}, 'PK', 'exported: a zip');
is($f{imported}, 'Imported 1, skipped 0, failed 0.', 'imported');
($st, $b) = req('GET', '/nacos/v1/cs/configs?dataId=staging.properties'
    . '&group=DEFAULT_GROUP', token => $tok);
is($b, 'stage=1', 'the API has the imported item');
($st, $b) = req('GET', '/nacos/v1/cs/configs?dataId=staging.properties'
    . '&group=DEFAULT_GROUP&tenant=staging', token => $tok);
is($b, 'stage=1', 'the API has it in staging');
is($f{narrow_overflow}, 0, '1024 px wide: the service page fits');
is($f{narrow_overflow_configs}, 0, '1024 px wide: the config list fits');

# keyboard, accessibility

is($f{kbd_current}, 'Services', 'keyboard: the navigation');
like($f{kbd_focus}, qr/^H1 Services/, 'keyboard: focus on the new page');
is(join(',', map { @{ $f{"unlabelled_$_"} // ['?'] } }
    qw/login configs edit services service users gateway/), '',
    'every field has a label');

# errors, logout, expiry

like($f{api_error}, qr/^HTTP 404/, 'an API error shown as it is');
is($f{logout}, 'You are logged out.', 'logged out');
ok(!defined $f{logout_session}, 'the token is gone');
like($f{logout_hash}, qr{^#/login\?next=%2Fgateway}, 'back to the login');
is($f{expired}, 'token expired!', 'an expired token: the message');
like($f{expired_hash}, qr{^#/login}, 'an expired token: the login page');
is($f{expired_relogin}, 'Services', 'logged in again, where it was');

my @png = map { "$shots/$_.png" } qw/login configs config-edit config-detail
    config-history services service-detail cluster cluster-3 gateway-edit-error
    gateway users roles permissions namespaces service-detail-1024/;
is(join(' ', grep { !-s $_ } @png), '', 'screenshots in objs/console/');

diag(sprintf('console.t: the browser part took %d s', time() - $started));

###############################################################################
