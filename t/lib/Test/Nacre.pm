package Test::Nacre;

# Generic module for nacre integration tests, modelled on nginx-tests'
# Test::Nginx: a temp prefix per test file, configs with %%PORT_n%%
# placeholders, collision-safe ports, the daemon run in the foreground as
# our child, and two tests added at the end: "no alerts" and "no sanitizer
# errors" over every instance's logs.
#
# Usage, one daemon:
#
#   my $t = Test::Nacre->new()->has('debug')
#       ->write_file_expand('nacre.yaml', $conf)->plan(5);
#   $t->run();
#   my ($status, $headers, $body) = parse_response(http_get('/x'));
#
# Several daemons: my $n2 = $t->instance('n2') has its own prefix
# ($testdir/n2/) and the same methods: write_file_expand, run, try_run,
# stop, reload, signal, kill_instance, master_pid, worker_pids, children,
# cmdline, wait_for_log, wait_for_log_count, log_offset, nacre_in ...
# %%PORT_n%% names one port per test file, shared by all instances.
#
# Env: NACRE_BINARY (default <repo>/objs/nacre), NACRE_TEST_VERBOSE (dump
# traffic and commands), NACRE_TEST_LEAVE (keep the temp dir),
# NACRE_TEST_CATLOG (print the error logs at the end).

###############################################################################

use strict;
use warnings;

use base qw/ Exporter /;

our @EXPORT = qw/
    port http http_get http_head http_post http_start http_end
    http_read_response parse_response parse_responses http_content
    http_chunked_decode gunzip_data log_in log_out
/;

###############################################################################

use Cwd qw/ abs_path /;
use Errno qw/ EINTR EAGAIN /;
use File::Basename qw/ dirname /;
use File::Path qw/ make_path rmtree /;
use File::Spec;
use File::Temp qw/ tempdir /;
use IO::Socket::INET;
use IO::Socket::IP;
use POSIX qw/ WNOHANG /;
use Scalar::Util qw/ weaken blessed /;
use Test::More qw//;
use Time::HiRes qw/ sleep time /;

###############################################################################

our $ROOT = abs_path(dirname(__FILE__) . '/../../..');
our $NACRE = _binary();
our $TIMEOUT = 8;
our $DEFAULT_PORT = 8848;
our %ports;

my @objects;

# a relative NACRE_BINARY is relative to where prove was started: the .t
# files chdir to t/ before loading us, $ENV{PWD} still says where that was
sub _binary {
    my $b = $ENV{NACRE_BINARY};

    return "$ROOT/objs/nacre" unless defined $b && length $b;
    return $b if File::Spec->file_name_is_absolute($b);

    for my $base ($ENV{PWD}, $ROOT) {
        next unless defined $base;
        my $p = File::Spec->rel2abs($b, $base);
        return $p if -e $p;
    }

    return File::Spec->rel2abs($b);
}

END {
    for my $t (@objects) {
        $t->_finish() if defined $t;
    }
}

sub new {
    my ($class) = @_;

    my $self = bless {
        _pid => $$,
        _instances => {},
        _order => [],
    }, $class;

    Test::More::BAIL_OUT("no nacre binary found at $NACRE")
        unless -x $NACRE;

    my $base = $ENV{TMPDIR} && -d $ENV{TMPDIR} ? $ENV{TMPDIR} : '/tmp';

    $self->{_testdir} = tempdir('nacre-test-XXXXXXXX', DIR => $base)
        or die "Can't create temp directory: $!\n";

    # interrupted, or prove's pipe gone: still run END, which stops the
    # daemons and cleans up (sockets ignore SIGPIPE locally while in use)
    for my $sig (qw/ INT TERM HUP PIPE /) {
        next if $SIG{$sig};
        $SIG{$sig} = sub {
            $SIG{PIPE} = 'IGNORE';
            exit 1;
        };
    }

    $self->{_default} = Test::Nacre::Instance->_new($self, '',
        $self->{_testdir});

    push @objects, $self;
    weaken($objects[-1]);

    return $self;
}

sub DESTROY {
    my ($self) = @_;
    $self->_finish();
}

sub _finish {
    my ($self) = @_;

    return if $self->{_finished} || !defined $self->{_pid}
        || $self->{_pid} != $$;
    $self->{_finished} = 1;

    local $?;
    local $@;

    for my $inst ($self->instances()) {
        eval { $inst->stop(); };
        Test::More::diag("stop of $inst->{name}: $@") if $@;
    }

    if ($self->{_plan}) {
        my (@alerts, @san);

        for my $inst ($self->instances()) {
            push @alerts, $inst->alerts();
            push @san, $inst->sanitizer_errors();
        }

        Test::More::is(join("\n", @alerts), '', 'no alerts');
        Test::More::is(join("\n", @san), '', 'no sanitizer errors');
    }

    if ($ENV{NACRE_TEST_CATLOG}) {
        for my $inst ($self->instances()) {
            for my $f ($inst->error_logs()) {
                Test::More::diag("==> $f <==");
                Test::More::diag(_slurp($f) // '');
            }
        }
    }

    if ($ENV{NACRE_TEST_LEAVE}) {
        Test::More::diag("test dir left: $self->{_testdir}");
    } else {
        eval { rmtree($self->{_testdir}); };
    }
}

###############################################################################

# features

sub has {
    my ($self, @features) = @_;

    for my $feature (@features) {
        Test::More::plan(skip_all => "no $feature available")
            unless $self->has_feature($feature);
    }

    return $self;
}

sub has_feature {
    my ($self, $feature) = @_;

    if ($feature eq 'debug') {
        return $self->version_info() =~ /--with-debug\b/;
    }

    if ($feature eq 'tls') {
        return 0 unless defined find_in_path('openssl');
        return eval { require IO::Socket::SSL; 1 } ? 1 : 0;
    }

    if ($feature eq 'ipv6') {
        my $s = IO::Socket::IP->new(
            LocalHost => '::1',
            LocalPort => 0,
            Proto => 'tcp',
            Listen => 1,
        );
        return defined $s ? 1 : 0;
    }

    if ($feature eq 'node') {
        return defined find_in_path('node');
    }

    # anything else: a regex over "nacre -V"
    return $self->version_info() =~ /$feature/;
}

sub version_info {
    my ($self) = @_;

    unless (defined $self->{_version_info}) {
        my $r = $self->nacre('-V');
        $self->{_version_info} = $r->{stdout} . $r->{stderr};
    }

    return $self->{_version_info};
}

sub find_in_path {
    my ($name) = @_;

    for my $dir (split /:/, $ENV{PATH} // '') {
        next unless length $dir;
        return "$dir/$name" if -f "$dir/$name" && -x _;
    }

    return undef;
}

sub plan {
    my ($self, $n) = @_;

    Test::More::plan(tests => $n + 2);
    $self->{_plan} = 1;

    return $self;
}

sub testdir {
    my ($self) = @_;
    return $self->{_testdir};
}

sub binary {
    return $NACRE;
}

###############################################################################

# instances: the default one lives in the test dir itself, others each in
# a subdirectory of their own

sub instance {
    my ($self, $name) = @_;

    return $self->{_default} if !defined $name || $name eq '';
    return $name if blessed($name) && $name->isa('Test::Nacre::Instance');

    $self->{_instances}{$name} //= do {
        my $inst = Test::Nacre::Instance->_new($self, $name,
            "$self->{_testdir}/$name");
        push @{$self->{_order}}, $name;
        $inst;
    };

    return $self->{_instances}{$name};
}

sub instances {
    my ($self) = @_;
    return ($self->{_default},
        map { $self->{_instances}{$_} } @{$self->{_order}});
}

# the simple case: methods on $t act on the default instance

for my $m (qw/ write_file write_file_expand read_file run try_run stop
    reload signal kill_instance master_pid worker_pids consensus_pid
    wait_ready children
    prefix error_log access_log pid_file log_offset alerts
    sanitizer_errors running exit_status nacre_in cmdline wait_exit
    listen_addrs error_logs expand /)
{
    no strict 'refs';
    *{$m} = sub {
        my $self = shift;

        # keep chains like ->write_file_expand(...)->plan(n) on $t
        return wantarray ? $self->{_default}->$m(@_) : do {
            my $r = $self->{_default}->$m(@_);
            ref $r && $r == $self->{_default} ? $self : $r;
        };
    };
}

sub wait_for_log {
    my $self = shift;
    my $inst = ref $_[0] eq 'Regexp' ? $self->{_default}
        : $self->instance(shift);
    return $inst->wait_for_log(@_);
}

sub wait_for_log_count {
    my $self = shift;
    my $inst = ref $_[0] eq 'Regexp' ? $self->{_default}
        : $self->instance(shift);
    return $inst->wait_for_log_count(@_);
}

###############################################################################

# running the binary for -t, -T, -v, -V, -s: returns
# { code, signal, stdout, stderr }

sub nacre {
    my ($self, @args) = @_;
    my %opts = ref $args[-1] eq 'HASH' ? %{pop @args} : ();

    my $dir = $opts{cwd} // $self->{_testdir};
    my $n = ++$self->{_cmd};
    my $out = "$self->{_testdir}/.cmd-$n.out";
    my $err = "$self->{_testdir}/.cmd-$n.err";

    log_core('$$', join(' ', $NACRE, @args));

    my $pid = fork();
    die "fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        chdir $dir;
        open STDOUT, '>', $out or POSIX::_exit(126);
        open STDERR, '>', $err or POSIX::_exit(126);
        exec($NACRE, @args) or POSIX::_exit(127);
    }

    my $deadline = time() + ($opts{timeout} // 10);
    my $st;

    for ( ;; ) {
        my $r = waitpid($pid, WNOHANG);
        if ($r == $pid) {
            $st = $?;
            last;
        }
        if (time() > $deadline) {
            kill 'KILL', $pid;
            waitpid($pid, 0);
            $st = $?;
            last;
        }
        sleep(0.01);
    }

    my $r = {
        code => $st >> 8,
        signal => $st & 127,
        stdout => _slurp($out) // '',
        stderr => _slurp($err) // '',
    };

    unlink $out, $err;

    log_core('$<', $r->{stderr}) if length $r->{stderr};
    log_core('$<', $r->{stdout}) if length $r->{stdout};

    return $r;
}

###############################################################################

# ports

sub port {
    shift if ref $_[0];
    my ($num) = @_;

    unless (defined $ports{$num}) {
        my ($sock, $lock);
        my $port = $num;

        my $tcp = sub {
            IO::Socket::INET->new(
                Proto => 'tcp',
                LocalAddr => '127.0.0.1:' . shift,
                Listen => 1,
                ReuseAddr => 1,
            );
        };

        my $udp = sub {
            IO::Socket::INET->new(
                Proto => 'udp',
                LocalAddr => '127.0.0.1:' . shift,
            );
        };

        # the UDP socket on the same number is kept as a lock, so that
        # parallel test files never pick the same port; the TCP one is
        # released for the daemon to bind

        for my $try (1 .. 50) {
            $port = int($num / 500) * 500 + int(rand(500)) if $try > 1;
            next if $port < 1024 || $port > 65535;
            $lock = $udp->($port) or next;
            $sock = $tcp->($port) and last;
            undef $lock;
        }

        die "Port limit exceeded\n" unless defined $lock and defined $sock;

        close $sock;
        $ports{$num} = { port => $port, lock => $lock };
    }

    return $ports{$num}{port};
}

###############################################################################

# waiting

sub waitforfile {
    my ($self, $file, $pid, $timeout) = @_;

    my $deadline = time() + ($timeout // 10);

    for ( ;; ) {
        return 1 if -e $file;
        return 0 if $pid && waitpid($pid, WNOHANG) != 0;
        return undef if time() > $deadline;
        sleep(0.05);
    }
}

sub waitforsocket {
    my ($self, $peer, $timeout) = @_;

    my $deadline = time() + ($timeout // 10);

    for ( ;; ) {
        my $s = _connect($peer);
        return 1 if defined $s;
        return undef if time() > $deadline;
        sleep(0.05);
    }
}

# until $cond returns true (its value is returned) or timeout: undef
sub wait_until {
    my ($self, $cond, $timeout) = @_;

    my $deadline = time() + ($timeout // 10);

    for ( ;; ) {
        my $v = $cond->();
        return $v if $v;
        return undef if time() > $deadline;
        sleep(0.05);
    }
}

###############################################################################

# HTTP client

sub log_core {
    my ($prefix, $msg) = @_;
    return unless $ENV{NACRE_TEST_VERBOSE};
    $msg = '' unless defined $msg;
    $msg =~ s/([^\x20-\x7e\n])/$1 eq "\r" ? '' : sprintf('\\x%02x', ord $1)/ge;
    $msg =~ s/^/# $prefix /gm;
    $msg .= "\n" unless $msg =~ /\n\z/;
    print STDERR $msg;
}

sub log_out { log_core('>>', @_); }
sub log_in { log_core('<<', @_); }

sub _connect {
    my ($peer, %opts) = @_;

    my %common = (
        Proto => 'tcp',
        PeerAddr => $peer,
        Timeout => $opts{connect_timeout} // $TIMEOUT,
    );

    if ($opts{tls}) {
        require IO::Socket::SSL;
        return IO::Socket::SSL->new(
            %common,
            SSL_verify_mode => IO::Socket::SSL::SSL_VERIFY_NONE(),
            %{$opts{ssl} || {}},
        );
    }

    return $peer =~ /^\[/ ? IO::Socket::IP->new(%common)
        : IO::Socket::INET->new(%common);
}

sub _peer {
    my (%opts) = @_;

    return $opts{addr} if defined $opts{addr};

    my $host = $opts{host} // '127.0.0.1';
    my $p = port($opts{port} // $DEFAULT_PORT);

    return $host =~ /:/ ? "[$host]:$p" : "$host:$p";
}

# http($request, %opts) -> raw response text (undef on errors)
#   port => n (logical, default 8848), addr => 'host:port', tls => 1,
#   ssl => {IO::Socket::SSL options}, socket => $s (reuse),
#   start => 1 (send, return socket), keepalive => 1 (read one response
#   and leave the socket open: pass socket => $s), body => $more,
#   sleep_between => secs (write $request given as an array ref piece by
#   piece), head => 1 (responses have no body), timeout => secs.
sub http {
    my ($request, %opts) = @_;

    my $s = http_start($request, %opts);

    return $s if $opts{start} or !defined $s;

    if ($opts{keepalive}) {
        my $r = http_read_response($s, %opts);
        return $r;
    }

    return http_end($s, %opts);
}

sub http_start {
    my ($request, %opts) = @_;
    my $s;

    my $pieces = ref $request eq 'ARRAY' ? $request : [ $request ];

    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        local $SIG{PIPE} = 'IGNORE';
        alarm($opts{timeout} // $TIMEOUT);

        $s = $opts{socket} || _connect(_peer(%opts), %opts)
            or die "Can't connect to " . _peer(%opts) . ": $!"
                . ($opts{tls} ? ' ' . IO::Socket::SSL::errstr() : '')
                . "\n";

        my $first = 1;

        for my $piece (@$pieces, defined $opts{body} ? $opts{body} : ()) {
            sleep($opts{sleep_between} // 0.1) unless $first;
            $first = 0;
            log_out($piece);
            _write_all($s, $piece) or die "write: $!\n";
        }

        alarm(0);
    };

    alarm(0);

    if ($@) {
        log_in("died: $@");
        $@ = '' if $opts{quiet};
        return undef;
    }

    ${*$s}{_nacre_head} = 1
        if defined $pieces->[0] && $pieces->[0] =~ /^HEAD /;

    return $s;
}

sub _write_all {
    my ($s, $data) = @_;

    my $off = 0;

    while ($off < length $data) {
        my $n = syswrite($s, $data, length($data) - $off, $off);
        unless (defined $n) {
            next if $! == EINTR || $! == EAGAIN;
            return 0;
        }
        $off += $n;
    }

    return 1;
}

sub _read_some {
    my ($s) = @_;
    my $buf;

    for ( ;; ) {
        my $n = sysread($s, $buf, 65536);
        if (!defined $n) {
            next if $! == EINTR;
            if ($s->isa('IO::Socket::SSL') && $! == EAGAIN) {
                next;
            }
            return undef;
        }
        return $n ? $buf : '';
    }
}

# read until the peer closes; returns the raw text (also when the read
# timed out or was reset: what was read until then)
sub http_end {
    my ($s, %opts) = @_;
    my $reply = ${*$s}{_nacre_rbuf} // '';
    ${*$s}{_nacre_rbuf} = '';

    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        local $SIG{PIPE} = 'IGNORE';
        alarm($opts{timeout} // $TIMEOUT);

        for ( ;; ) {
            my $buf = _read_some($s);
            last unless defined $buf && length $buf;
            $reply .= $buf;
        }

        alarm(0);
    };

    alarm(0);

    if ($@) {
        log_in("died: $@");
        ${*$s}{_nacre_timedout} = 1;
    }

    log_in($reply);
    close $s;

    return $reply;
}

# read exactly one response from a kept-alive socket (interim 1xx
# responses count as one); bytes beyond it stay buffered on the socket
sub http_read_response {
    my ($s, %opts) = @_;
    my $buf = ${*$s}{_nacre_rbuf} // '';
    my $head = $opts{head} // ${*$s}{_nacre_head};
    my $reply;

    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        local $SIG{PIPE} = 'IGNORE';
        alarm($opts{timeout} // $TIMEOUT);

        for ( ;; ) {
            my $len = _response_length($buf, $head);

            if (defined $len && $len >= 0) {
                $reply = substr($buf, 0, $len, '');
                last;
            }

            my $more = _read_some($s);

            if (!defined $more || !length $more) {
                # closed: an unframed body ends here (or junk)
                $reply = $buf if length $buf;
                $buf = '';
                ${*$s}{_nacre_eof} = 1;
                last;
            }

            $buf .= $more;
        }

        alarm(0);
    };

    alarm(0);

    if ($@) {
        log_in("died: $@");
        ${*$s}{_nacre_timedout} = 1;
    }

    ${*$s}{_nacre_rbuf} = $buf;
    log_in($reply) if defined $reply;

    return $reply;
}

# length in bytes of the first complete response in $buf; undef: need
# more (or body delimited by close: -1)
sub _response_length {
    my ($buf, $head) = @_;

    my $hend = index($buf, "\r\n\r\n");
    return undef if $hend < 0;
    $hend += 4;

    my $hdr = substr($buf, 0, $hend);
    my ($status) = $hdr =~ m{^HTTP/\d\.\d (\d{3})};

    return $hend if !defined $status;
    return $hend if $status =~ /^1/ || $status == 204 || $status == 304
        || $head;

    if ($hdr =~ /^Transfer-Encoding:[ \t]*chunked[ \t]*\r$/mi) {
        my $pos = $hend;

        for ( ;; ) {
            my $eol = index($buf, "\r\n", $pos);
            return undef if $eol < 0;
            my ($size) = substr($buf, $pos, $eol - $pos) =~ /^([0-9a-f]+)/i;
            return -1 unless defined $size;
            $size = hex($size);
            $pos = $eol + 2;

            if ($size == 0) {
                # trailers up to an empty line
                for ( ;; ) {
                    my $e = index($buf, "\r\n", $pos);
                    return undef if $e < 0;
                    my $empty = $e == $pos;
                    $pos = $e + 2;
                    return $pos if $empty;
                }
            }

            return undef if length($buf) < $pos + $size + 2;
            $pos += $size + 2;
        }
    }

    if ($hdr =~ /^Content-Length:[ \t]*(\d+)[ \t]*\r$/mi) {
        my $need = $hend + $1;
        return length($buf) >= $need ? $need : undef;
    }

    return undef;
}

sub _request {
    my ($method, $uri, %opts) = @_;

    my $host = $opts{host_header} // 'localhost';
    my $r = "$method $uri HTTP/1.1\r\n";
    $r .= "Host: $host\r\n" if length $host;
    $r .= "Connection: close\r\n" unless $opts{keepalive};

    if (ref $opts{headers} eq 'HASH') {
        for my $k (sort keys %{$opts{headers}}) {
            $r .= "$k: $opts{headers}{$k}\r\n";
        }
    } elsif (ref $opts{headers} eq 'ARRAY') {
        $r .= "$_\r\n" for @{$opts{headers}};
    } elsif (defined $opts{headers}) {
        $r .= $opts{headers};
    }

    if (defined $opts{content}) {
        $r .= 'Content-Length: ' . length($opts{content}) . "\r\n";
        $r .= "\r\n" . $opts{content};
    } else {
        $r .= "\r\n";
    }

    return $r;
}

sub http_get {
    my ($uri, %opts) = @_;
    return http(_request('GET', $uri, %opts), %opts);
}

sub http_head {
    my ($uri, %opts) = @_;
    return http(_request('HEAD', $uri, %opts), %opts, head => 1);
}

sub http_post {
    my ($uri, $body, %opts) = @_;
    my $ct = $opts{content_type} // 'application/x-www-form-urlencoded';
    my $h = "Content-Type: $ct\r\n";
    $h .= $opts{headers} if defined $opts{headers} && !ref $opts{headers};
    return http(_request($opts{method} // 'POST', $uri, %opts,
        headers => $h, content => $body), %opts);
}

###############################################################################

# parsing responses

# (status, {lower-case name => value}, body) of the first final response;
# 1xx interim responses are skipped unless interim => 1; a chunked body
# is decoded (undef if malformed)
sub parse_response {
    my ($raw, %opts) = @_;

    return () unless defined $raw;

    for ( ;; ) {
        my $hend = index($raw, "\r\n\r\n");
        return () if $hend < 0;

        my $head = substr($raw, 0, $hend);
        my $body = substr($raw, $hend + 4);
        my ($status_line, @lines) = split /\r\n/, $head;
        my ($status) = $status_line =~ m{^HTTP/\d\.\d (\d{3})(?: |$)};
        return () unless defined $status;

        if ($status =~ /^1/ && !$opts{interim}) {
            $raw = $body;
            next;
        }

        my %h;
        for my $l (@lines) {
            my ($k, $v) = $l =~ /^([^:]+):[ \t]*(.*?)[ \t]*$/ or next;
            $k = lc $k;
            $h{$k} = exists $h{$k} ? "$h{$k}, $v" : $v;
        }

        if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
            $body = http_chunked_decode($body);
        }

        return ($status, \%h, $body);
    }
}

# several responses in a row (pipelining); HEAD responses need head => 1
sub parse_responses {
    my ($raw, %opts) = @_;
    my @r;

    while (defined $raw && length $raw) {
        my $len = _response_length($raw, $opts{head});
        $len = length $raw if !defined $len || $len < 0;
        my $one = substr($raw, 0, $len, '');
        push @r, [ parse_response($one, interim => 1) ];
    }

    return @r;
}

# body of a response, chunked decoded
sub http_content {
    my ($raw) = @_;
    my (undef, undef, $body) = parse_response($raw);
    return $body;
}

sub http_chunked_decode {
    my ($data) = @_;
    my $out = '';

    return undef unless defined $data;

    for ( ;; ) {
        $data =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n// or return undef;
        my $size = hex($1);
        last if $size == 0;
        return undef if length($data) < $size + 2;
        $out .= substr($data, 0, $size, '');
        $data =~ s/^\r\n// or return undef;
    }

    return $out;
}

sub gunzip_data {
    my ($data) = @_;
    my $out;

    require IO::Uncompress::Gunzip;
    IO::Uncompress::Gunzip::gunzip(\$data => \$out) or return undef;

    return $out;
}

###############################################################################

sub _slurp {
    my ($file) = @_;
    local $/;

    open my $fh, '<', $file or return undef;
    binmode $fh;
    my $c = <$fh>;
    close $fh;

    return $c // '';
}

###############################################################################

package Test::Nacre::Instance;

use strict;
use warnings;

use File::Basename qw/ dirname /;
use File::Path qw/ make_path /;
use POSIX qw/ WNOHANG /;
use Scalar::Util qw/ weaken /;
use Time::HiRes qw/ sleep time /;

sub _new {
    my ($class, $t, $name, $prefix) = @_;

    make_path($prefix);

    my $self = bless {
        t => $t,
        name => $name eq '' ? 'default' : $name,
        prefix => $prefix,
        conf => 'nacre.yaml',
    }, $class;

    weaken($self->{t});

    return $self;
}

sub prefix { $_[0]{prefix} }
sub name { $_[0]{name} }

sub _path {
    my ($self, $name) = @_;
    return $name =~ m{^/} ? $name : "$self->{prefix}/$name";
}

sub write_file {
    my ($self, $name, $content) = @_;

    my $path = $self->_path($name);
    make_path(dirname($path));

    open my $fh, '>', $path or die "Can't create $path: $!\n";
    binmode $fh;
    print {$fh} $content;
    close $fh or die "Can't write $path: $!\n";

    return $self;
}

sub expand {
    my ($self, $content) = @_;

    my $testdir = $self->{t}->testdir();

    $content =~ s/%%TESTDIR%%/$testdir/g;
    $content =~ s/%%PREFIX%%/$self->{prefix}/g;
    $content =~ s/%%PORT_(\d+)%%/Test::Nacre::port($1)/ge;

    return $content;
}

sub write_file_expand {
    my ($self, $name, $content) = @_;
    return $self->write_file($name, $self->expand($content));
}

sub read_file {
    my ($self, $name) = @_;

    my $c = Test::Nacre::_slurp($self->_path($name));
    die "Can't read " . $self->_path($name) . ": $!\n" unless defined $c;

    return $c;
}

# a few top-level scalars and the api listen addresses, from the conf
# as written (enough for the harness; the daemon does the real parsing)
sub _conf_scan {
    my ($self) = @_;
    my (%top, @listen);

    my $c = Test::Nacre::_slurp($self->_path($self->{conf})) // '';
    my ($section, $in_listen) = ('', 0);

    for my $line (split /\n/, $c) {
        $line =~ s/\s+#.*$//;
        next if $line =~ /^\s*(#|$)/;

        if ($line =~ /^(\w+):\s*(.*?)\s*$/) {
            ($section, $in_listen) = ($1, 0);
            my $v = $2;
            $v =~ s/^(["'])(.*)\1$/$2/;
            $top{$1} = $v if length $v;
            next;
        }

        next unless $section eq 'api';

        if ($line =~ /^\s+listen:\s*(.*?)\s*$/) {
            my $v = $1;
            $in_listen = 0;
            if ($v eq '') {
                $in_listen = 1;
            } elsif ($v =~ /^\[(.*)\]$/) {
                push @listen, split /\s*,\s*/, $1;
            } else {
                push @listen, $v;
            }
            next;
        }

        if ($in_listen && $line =~ /^\s+-\s*(\S+)/) {
            push @listen, $1;
            next;
        }

        $in_listen = 0;
    }

    s/^(["'])(.*)\1$/$2/ for @listen;

    return (\%top, \@listen);
}

# addresses to probe, as host:port
sub listen_addrs {
    my ($self) = @_;
    my (undef, $listen) = $self->_conf_scan();
    my @a;

    for my $l (@$listen) {
        if ($l =~ /^\d+$/) {
            push @a, "127.0.0.1:$l";
        } elsif ($l =~ /^\*:(\d+)$/ || $l =~ /^0\.0\.0\.0:(\d+)$/) {
            push @a, "127.0.0.1:$1";
        } elsif ($l =~ /^\[::\]:(\d+)$/) {
            push @a, "[::1]:$1";
        } elsif ($l =~ /^localhost:(\d+)$/) {
            push @a, "127.0.0.1:$1";
        } else {
            push @a, $l;
        }
    }

    return @a;
}

sub pid_file {
    my ($self) = @_;
    my ($top) = $self->_conf_scan();
    return $self->_path($top->{pid} // 'logs/nacre.pid');
}

sub error_log {
    my ($self) = @_;
    my ($top) = $self->_conf_scan();
    return $self->_path($top->{error_log} // 'logs/error.log');
}

sub access_log {
    my ($self) = @_;
    my ($top) = $self->_conf_scan();
    return $self->_path($top->{access_log} // 'logs/access.log');
}

sub running {
    my ($self) = @_;
    return 0 unless $self->{pid};
    return waitpid($self->{pid}, WNOHANG) == 0 ? 1 : $self->_reaped();
}

sub _reaped {
    my ($self) = @_;
    $self->{exit_status} = $?;
    delete $self->{pid};
    return 0;
}

sub exit_status { $_[0]{exit_status} }

sub master_pid { $_[0]{pid} }

sub run {
    my ($self, %opts) = @_;

    die "instance $self->{name} already running\n" if $self->{pid};

    my $prefix = $self->{prefix};
    make_path("$prefix/logs", "$prefix/html", "$prefix/data");

    my $pidf = $self->pid_file();
    unlink $pidf;

    # the gateway listens on 127.0.0.1:9080 by default, which instances
    # running side by side would fight over: a conf that does not say
    # where gets it turned off
    my $conf = $self->_path($self->{conf});
    my $text = Test::Nacre::_slurp($conf) // '';

    if ($text ne '' && $text !~ /^gateway:/m) {
        open my $fh, '>>', $conf or die "$conf: $!\n";
        print $fh ($text =~ /\n\z/ ? '' : "\n") . "gateway:\n  listen: off\n";
        close $fh;
    }

    my @args = ('-p', "$prefix/", '-c', $self->{conf},
        @{$opts{args} || []});

    Test::Nacre::log_core('$$', join(' ', $Test::Nacre::NACRE, @args));

    my $pid = fork();
    die "Unable to fork(): $!\n" unless defined $pid;

    if ($pid == 0) {
        chdir $prefix;
        open STDOUT, '>>', "$prefix/logs/stderr.log" or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        open STDIN, '<', '/dev/null';
        exec($Test::Nacre::NACRE, @args) or POSIX::_exit(127);
    }

    $self->{pid} = $pid;
    delete $self->{exit_status};

    my $deadline = time() + ($opts{timeout} // 10);
    my @addrs = $self->listen_addrs();

    for ( ;; ) {
        if (waitpid($pid, WNOHANG) != 0) {
            $self->_reaped();
            die "nacre ($self->{name}) exited during start, status "
                . $self->{exit_status} . ":\n" . $self->_tail() . "\n";
        }

        my $ok = 0;
        my $c = Test::Nacre::_slurp($pidf);

        if (defined $c && $c =~ /^(\d+)\s*$/ && $1 == $pid) {
            $ok = 1;
            for my $a (@addrs) {
                my $s = Test::Nacre::_connect($a, connect_timeout => 1);
                unless (defined $s) {
                    $ok = 0;
                    last;
                }
                close $s;
            }
        }

        last if $ok;

        if (time() > $deadline) {
            my $tail = $self->_tail();
            $self->kill_instance();
            die "nacre ($self->{name}) did not start in time"
                . " (pid file $pidf, listen @addrs):\n$tail\n";
        }

        sleep(0.05);
    }

    return $self;
}

sub _tail {
    my ($self) = @_;
    my $s = '';

    for my $f ("$self->{prefix}/logs/stderr.log", $self->error_log()) {
        my $c = Test::Nacre::_slurp($f) // next;
        my @l = split /\n/, $c;
        splice @l, 0, @l - 20 if @l > 20;
        $s .= "--- $f\n" . join("\n", @l) . "\n";
    }

    return $s;
}

sub try_run {
    my ($self, $message) = @_;

    eval { $self->run(); };
    return $self unless $@;

    Test::Nacre::log_core('$!', $@);
    Test::More::plan(skip_all => "$message: " . ($@ =~ /^(.*)/)[0]);

    return $self;
}

sub signal {
    my ($self, $sig) = @_;
    return 0 unless $self->{pid};
    return kill $sig, $self->{pid};
}

sub reload {
    my ($self) = @_;
    $self->signal('HUP');
    return $self;
}

# wait for the master to exit; true if it did within $timeout
sub wait_exit {
    my ($self, $timeout) = @_;

    return 1 unless $self->{pid};

    my $deadline = time() + ($timeout // 10);

    for ( ;; ) {
        my $r = waitpid($self->{pid}, WNOHANG);
        if ($r != 0) {
            $self->_reaped();
            return 1;
        }
        return 0 if time() > $deadline;
        sleep(0.05);
    }
}

sub stop {
    my ($self, %opts) = @_;

    return $self unless $self->{pid};

    my @kids = $self->children();

    $self->signal($opts{signal} // 'QUIT');

    unless ($self->wait_exit($opts{timeout} // 20)) {
        $self->signal('TERM');
        unless ($self->wait_exit(5)) {
            $self->signal('KILL');
            $self->wait_exit(5);
        }
    }

    $self->_reap_orphans(@kids);

    return $self;
}

# kill -9 the master and its children (no graceful anything)
sub kill_instance {
    my ($self) = @_;

    return $self unless $self->{pid};

    my @kids = $self->children();
    kill 'KILL', $self->{pid};
    $self->wait_exit(10);
    kill 'KILL', @kids if @kids;
    $self->_reap_orphans(@kids);

    return $self;
}

# children of a dead master must not outlive the test
sub _reap_orphans {
    my ($self, @kids) = @_;

    my $deadline = time() + 5;

    while (@kids = grep { kill 0, $_ } @kids) {
        if (time() > $deadline) {
            Test::More::diag("killing leftover children: @kids");
            kill 'KILL', @kids;
            last;
        }
        sleep(0.05);
    }
}

# children of $pid (default: the master), from /proc
sub children {
    my ($self, $ppid) = @_;
    my @c;

    $ppid //= $self->{pid};
    return () unless $ppid;

    opendir my $d, '/proc' or return ();

    for my $p (grep { /^\d+$/ } readdir $d) {
        my $stat = Test::Nacre::_slurp("/proc/$p/stat") // next;
        # the command may hold spaces and parens: split after the last ')'
        $stat =~ /\)\s+\S+\s+(\d+)/ or next;
        push @c, $p + 0 if $1 == $ppid;
    }

    closedir $d;

    return sort { $a <=> $b } @c;
}

sub cmdline {
    my ($self, $pid) = @_;
    my $c = Test::Nacre::_slurp("/proc/$pid/cmdline") // return undef;
    $c =~ s/\0+$//;
    $c =~ s/\0/ /g;
    return $c;
}

sub worker_pids {
    my ($self) = @_;
    return grep { ($self->cmdline($_) // '') =~ /worker process/ }
        $self->children();
}

sub consensus_pid {
    my ($self) = @_;
    my ($pid) = grep { ($self->cmdline($_) // '') =~ /consensus process/ }
        $self->children();
    return $pid;
}

# wait until the store is loaded (readiness 200); true on success
sub wait_ready {
    my ($self, $timeout, %opts) = @_;
    my $port = $opts{port} // $self->_first_port();

    return Test::Nacre::wait_until(undef, sub {
        my $r = Test::Nacre::http_get('/nacos/v1/console/health/readiness',
            addr => "127.0.0.1:$port", quiet => 1, timeout => 2) // '';
        return $r =~ m{^HTTP/1\.1 200 };
    }, $timeout // 10);
}

sub _first_port {
    my ($self) = @_;
    my ($a) = $self->listen_addrs();
    return ($a // '') =~ /:(\d+)$/ ? $1 : Test::Nacre::port(8848);
}

sub wait_until { shift; return Test::Nacre::wait_until(undef, @_); }
sub waitforfile { shift; return Test::Nacre::waitforfile(undef, @_); }
sub waitforsocket { shift; return Test::Nacre::waitforsocket(undef, @_); }

sub log_offset {
    my ($self) = @_;
    return -s $self->error_log() // 0;
}

# poll the error log (from byte $from) for a line matching $re; returns
# the first such line, undef on timeout
sub wait_for_log {
    my ($self, $re, $timeout, $from) = @_;
    my @l = $self->wait_for_log_count($re, 1, $timeout, $from);
    return $l[0];
}

# poll until $n lines match; returns them (fewer on timeout)
sub wait_for_log_count {
    my ($self, $re, $n, $timeout, $from) = @_;
    my @m;

    my $deadline = time() + ($timeout // 10);

    for ( ;; ) {
        my $c = Test::Nacre::_slurp($self->error_log()) // '';
        $c = length($c) > ($from // 0) ? substr($c, $from // 0) : '';
        @m = grep { $_ =~ $re } split /\n/, $c;
        return @m[0 .. $n - 1] if @m >= $n;
        return @m if time() > $deadline;
        sleep(0.05);
    }
}

sub error_logs {
    my ($self) = @_;
    my %f;

    my $main = $self->error_log();
    $f{$main} = 1 if -f $main;

    # rotated error logs (logs/error.log.1 ...) count as well
    for my $g (glob("$self->{prefix}/logs/*error*")) {
        $f{$g} = 1 if -f $g;
    }

    return sort keys %f;
}

# stderr.log and the error logs, for matching startup errors
sub all_logs {
    my ($self) = @_;
    my $s = '';

    for my $f ("$self->{prefix}/logs/stderr.log", $self->error_logs()) {
        $s .= Test::Nacre::_slurp($f) // '';
    }

    return $s;
}

sub alerts {
    my ($self) = @_;
    my @a;

    for my $f ($self->error_logs()) {
        my $c = Test::Nacre::_slurp($f) // next;
        push @a, grep { !/exited on signal 9\b/ } $c =~ /^.*\[alert\].*$/mg;
    }

    return @a;
}

sub sanitizer_errors {
    my ($self) = @_;
    my @e;

    for my $f ($self->error_logs(), "$self->{prefix}/logs/stderr.log") {
        my $c = Test::Nacre::_slurp($f) // next;
        push @e, $c =~ /^.*(?:AddressSanitizer|LeakSanitizer|runtime error:).*$/mg;
    }

    return @e;
}

# run the binary with -p <prefix>/ and the given arguments, see nacre()
sub nacre_in {
    my ($self, @args) = @_;
    return $self->{t}->nacre('-p', "$self->{prefix}/", @args,
        { cwd => $self->{prefix} });
}

###############################################################################

1;
