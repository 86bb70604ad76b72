package Test::Nacre::Backend;

# A real HTTP/1.1 backend for the gateway tests to proxy to: a forked
# child process running a single-threaded select() event loop (many
# keep-alive connections at once, pipelining in order, /slow timers that
# never block other connections). Core Perl only.
#
#   use Test::Nacre::Backend;
#
#   my $b = Test::Nacre::Backend->start(port => port(8081), name => 'b1');
#   $b->port; $b->pid; $b->name; $b->addr;     # '127.0.0.1'
#   $b->hostport;                             # '127.0.0.1:8081'
#   $b->running;                              # not exited (and reaped) yet
#
#   $b->stop;             # SIGKILL + waitpid: a crash. The kernel closes
#                         # its sockets (FIN, or RST where unread data was
#                         # pending), new connections are refused
#   $b->stop(reset => 1); # a crash that resets every open connection:
#                         # SIGUSR1, the child sets SO_LINGER 0 on all its
#                         # sockets and _exits (SIGKILL as a fallback)
#   $b->stop_graceful;    # SIGTERM, and returns once the listener is
#                         # closed (new connections refused). The child
#                         # finishes in-flight requests (their responses
#                         # say "Connection: close"), closes idle ones,
#                         # sends WebSocket close 1001, then exits by
#                         # itself (hard limit: drain_timeout seconds).
#                         # Closes are lingering: FIN after the data, then
#                         # up to 2 s for the peer's close, so close the
#                         # client sockets to let it exit at once
#   $b->stop_graceful(wait => 1);   # ... and waits until it has exited
#   $b->wait($timeout);   # reap it: true once it has exited
#   $b->restart;          # a new process on the same port (after stop)
#   # DESTROY (and an END block) stop it too; nothing happens in forked
#   # children of the test (only the process that started it stops it).
#
# Options of start(): name (default 'backend'), port (default 0: the
# kernel picks one, read it back with ->port; with Test::Nacre pass
# port(N) to reuse its collision-safe ports), addr (default 127.0.0.1),
# drain_timeout (seconds, default 10), timeout (for the start, default 10).
# start() returns once the listener accepts connections, and dies with
# the reason if the child could not listen.
#
# Every response has "X-Backend: <name>" and "X-Backend-Conn: <n>" (the
# connection's serial number in this process, from 1: same number = same
# upstream connection reused). Keep-alive: HTTP/1.1 unless
# "Connection: close", HTTP/1.0 only with "Connection: keep-alive"
# (answered with "Connection: keep-alive"). Request bodies: Content-Length
# and chunked (with extensions and trailers); "Expect: 100-continue" gets
# a 100 Continue. HEAD gets the GET headers without the body. Routes, on
# the path without the query:
#
#   /echo*             200 application/json {"method", "path" (the raw
#                      target, query included), "headers" {lowercased
#                      name: value, the last one wins}, "body_length",
#                      "body_sha1" (hex)}, keys sorted, non-ASCII escaped
#   /status/<code>     <code> (200..599; other codes fall through to the
#                      default route), body "status <code>" (neither body
#                      nor Content-Length for 204 and 304)
#   /slow/<ms>         200 "slow <ms>" after <ms> milliseconds (counted
#                      from the end of the request body)
#   /big/<n>           200 with exactly n bytes "0123456789012...", with
#                      Content-Length
#   /bigchunked/<n>    the same bytes chunked, 16384 bytes a chunk (to an
#                      HTTP/1.0 client: close-delimited instead)
#   /close             200 "close <name>", no Content-Length, the close of
#                      the connection ends the body
#   /close/<n>         the same with n pattern bytes as the body
#   /reset             no answer: the connection is reset (SO_LINGER 0)
#                      once the responses before it are written
#   /ws                WebSocket (RFC 6455): 101 with Sec-WebSocket-Accept
#                      (and the first offered Sec-WebSocket-Protocol); then
#                      text, binary and continuation frames are echoed
#                      as they come (unmasked, same FIN and opcode), ping
#                      gets pong, close gets close (same status code) and
#                      the connection is closed; 400 without
#                      "Upgrade: websocket" and Sec-WebSocket-Key
#   /early             413 "early <name>" as soon as the head is read,
#                      the body left unread, then the connection closed
#   /garbage/<what>    an answer no HTTP client can take, then the close:
#                      "status" (a status line without a code), "header"
#                      (a 40000-byte header line), "chunk" (a chunk size
#                      that is not hex)
#   /count             200, body: the number of requests this backend
#                      process has received, this one included (exact:
#                      it is one process; a restart starts from 0)
#   anything else      200 "ok <name>"
#
# Malformed requests get 400 and the connection is closed. The child
# exits by itself if the test process that started it goes away.

###############################################################################

use strict;
use warnings;

use Digest::SHA;
use Errno qw/ EINTR /;
use IO::Select;
use IO::Socket::INET;
use JSON::PP;
use MIME::Base64;
use POSIX qw/ WNOHANG /;
use Scalar::Util qw/ weaken /;
use Time::HiRes qw/ time sleep /;

###############################################################################

my @objects;

END {
    local $?;
    for my $b (@objects) {
        eval { $b->stop() } if defined $b;
    }
}

sub start {
    my ($class, %opts) = @_;

    my $self = bless {
        name => $opts{name} // 'backend',
        addr => $opts{addr} // '127.0.0.1',
        port => $opts{port} // 0,
        drain_timeout => $opts{drain_timeout} // 10,
        start_timeout => $opts{timeout} // 10,
        owner => $$,
    }, $class;

    die "Test::Nacre::Backend: bad name '$self->{name}'\n"
        if $self->{name} =~ /[\x00-\x1f\x7f]/;

    $self->_spawn();

    push @objects, $self;
    weaken($objects[-1]);

    return $self;
}

sub name { $_[0]{name} }
sub addr { $_[0]{addr} }
sub port { $_[0]{port} }
sub pid { $_[0]{pid} }
sub hostport { "$_[0]{addr}:$_[0]{port}" }

sub running {
    my ($self) = @_;
    return 0 unless $self->{pid};
    return 1 if $self->{owner} != $$;
    $self->_reap(WNOHANG);
    return $self->{pid} ? 1 : 0;
}

sub restart {
    my ($self) = @_;
    $self->stop() if $self->{pid};
    $self->_spawn();
    return $self;
}

sub stop {
    my ($self, %opts) = @_;

    return $self unless $self->{pid} && $self->{owner} == $$;

    if ($opts{reset}) {
        kill 'USR1', $self->{pid};
        return $self if $self->wait(5);
    }

    kill 'KILL', $self->{pid};
    $self->_reap(0);

    return $self;
}

sub stop_graceful {
    my ($self, %opts) = @_;

    return $self unless $self->{pid} && $self->{owner} == $$;

    kill 'TERM', $self->{pid};

    # the child says "draining" once its listener is closed (or exits)
    my $deadline = time() + ($opts{timeout} // 10);

    for ( ;; ) {
        my $line = $self->_read_line($deadline - time());
        last if !defined $line || $line =~ /^draining/;
        last if time() > $deadline;
    }

    $self->wait($opts{timeout} // $self->{drain_timeout} + 5)
        if $opts{wait};

    return $self;
}

# true once the child has exited and is reaped
sub wait {
    my ($self, $timeout) = @_;

    return 1 unless $self->{pid};
    return 0 unless $self->{owner} == $$;

    my $deadline = time() + ($timeout // 10);

    for ( ;; ) {
        $self->_reap(WNOHANG);
        return 1 unless $self->{pid};
        return 0 if time() > $deadline;
        sleep(0.01);
    }
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $@, $!);
    eval { $self->stop(); };
}

sub _reap {
    my ($self, $flags) = @_;

    my $r = waitpid($self->{pid}, $flags);

    if ($r == $self->{pid} || $r < 0) {
        $self->{exit_status} = $?;
        $self->{pid} = undef;
        close $self->{pipe} if $self->{pipe};
        $self->{pipe} = undef;
    }
}

# one line from the child's status pipe; undef on EOF or timeout
sub _read_line {
    my ($self, $timeout) = @_;

    my $fh = $self->{pipe} or return undef;
    my $deadline = time() + ($timeout // 10);

    for ( ;; ) {
        if ($self->{pipebuf} =~ s/^(.*?)\n//) {
            return $1;
        }

        my $left = $deadline - time();
        return undef if $left <= 0;

        my $sel = IO::Select->new($fh);
        next unless $sel->can_read($left);

        my $n = sysread($fh, my $buf, 4096);
        next if !defined $n && $! == EINTR;
        return undef unless $n;

        $self->{pipebuf} .= $buf;
    }
}

sub _spawn {
    my ($self) = @_;

    pipe(my $r, my $w) or die "pipe: $!\n";

    my $pid = fork();
    die "fork: $!\n" unless defined $pid;

    if ($pid == 0) {
        close $r;
        eval { Test::Nacre::Backend::Server::run($self, $w); };
        my $err = $@;
        if ($err) {
            $err =~ s/\n(?=.)/ /g;
            $err .= "\n" unless $err =~ /\n\z/;
            syswrite($w, "error $err");
        }
        POSIX::_exit($err ? 1 : 0);
    }

    close $w;

    $self->{pid} = $pid;
    $self->{pipe} = $r;
    $self->{pipebuf} = '';
    $self->{exit_status} = undef;

    my $line = $self->_read_line($self->{start_timeout});

    if (!defined $line || $line !~ /^ready (\d+)$/) {
        kill 'KILL', $pid;
        $self->_reap(0);
        $line = defined $line ? $line =~ s/^error //r : 'no answer';
        die "Test::Nacre::Backend $self->{name} did not start: $line\n";
    }

    $self->{port} = $1;

    return $self;
}

###############################################################################

package Test::Nacre::Backend::Server;

use strict;
use warnings;

use Errno qw/ EAGAIN EWOULDBLOCK EINTR /;
use POSIX qw/ WNOHANG /;
use Socket qw/ SOL_SOCKET SO_LINGER IPPROTO_TCP TCP_NODELAY SHUT_WR /;
use Time::HiRes qw/ time /;

use constant {
    MAX_HEADER => 65536,
    MAX_RBUF => 1 << 20,
    MAX_WBUF => 1 << 20,
    MAX_FRAME => 64 << 20,
    LINGER => 2,
    WS_GUID => '258EAFA5-E914-47DA-95CA-C5AB0DC85B11',
};

my %REASON = (
    100 => 'Continue', 101 => 'Switching Protocols',
    200 => 'OK', 201 => 'Created', 202 => 'Accepted', 204 => 'No Content',
    206 => 'Partial Content',
    301 => 'Moved Permanently', 302 => 'Found', 303 => 'See Other',
    304 => 'Not Modified', 307 => 'Temporary Redirect',
    308 => 'Permanent Redirect',
    400 => 'Bad Request', 401 => 'Unauthorized', 403 => 'Forbidden',
    404 => 'Not Found', 405 => 'Method Not Allowed',
    408 => 'Request Timeout', 409 => 'Conflict', 413 => 'Payload Too Large',
    429 => 'Too Many Requests',
    500 => 'Internal Server Error', 501 => 'Not Implemented',
    502 => 'Bad Gateway', 503 => 'Service Unavailable',
    504 => 'Gateway Timeout',
);

my $PATTERN = '0123456789' x 6600;     # > 65536 + 10

my ($NAME, $served, $draining, $term, $crash, $nconn, %conns);

sub run {
    my ($cfg, $w) = @_;

    $SIG{$_} = 'DEFAULT' for qw/ INT HUP QUIT ALRM CHLD /;
    $SIG{PIPE} = 'IGNORE';
    $SIG{TERM} = sub { $term = 1; };
    $SIG{USR1} = sub { $crash = 1; };

    $0 = "nacre test backend $cfg->{name}";
    $NAME = $cfg->{name};
    $served = 0;
    $nconn = 0;
    %conns = ();

    # inherited descriptors (the test's client sockets, other backends'
    # pipes, prove's stdout) must not be kept open by us
    if (opendir my $d, '/proc/self/fd') {
        my @fds = grep { /^\d+$/ && $_ > 2 && $_ != fileno($w) } readdir $d;
        closedir $d;
        POSIX::close($_) for @fds;
    }

    open STDIN, '<', '/dev/null';
    open STDOUT, '>', '/dev/null';

    my $ls = IO::Socket::INET->new(
        Proto => 'tcp',
        LocalAddr => $cfg->{addr},
        LocalPort => $cfg->{port},
        Listen => 1024,
        ReuseAddr => 1,
    ) or die "cannot listen on $cfg->{addr}:$cfg->{port}: $!\n";

    $ls->blocking(0);

    syswrite($w, 'ready ' . $ls->sockport() . "\n");

    my $owner = $cfg->{owner};
    my $drain_deadline;

    for ( ;; ) {
        if ($crash) {
            for my $c (values %conns) {
                setsockopt($c->{fh}, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
            }
            POSIX::_exit(0);
        }

        POSIX::_exit(0) if getppid() != $owner;

        if ($term && !$draining) {
            $draining = 1;
            close $ls;
            $ls = undef;
            $drain_deadline = time() + $cfg->{drain_timeout};
            syswrite($w, "draining\n");
        }

        my $now = time();

        # a copy: _finalize() deletes from %conns
        for my $c (my @all = values %conns) {
            if ($c->{wait} && $c->{wait}{at} <= $now) {
                my $wait = delete $c->{wait};
                $wait->{cb}->();
            }
            _process($c);
            _fill($c);
            _finalize($c, $now);
        }

        POSIX::_exit(0)
            if $draining && (!%conns || time() > $drain_deadline);

        my $rs = IO::Select->new();
        my $ws = IO::Select->new();
        my $timeout = 0.5;

        $rs->add($ls) if $ls;

        for my $c (values %conns) {
            $rs->add($c->{fh})
                if !$c->{eof}
                    && ($c->{linger} || length($c->{rbuf}) < MAX_RBUF);
            $ws->add($c->{fh}) if length $c->{wbuf};

            if ($c->{wait}) {
                my $t = $c->{wait}{at} - $now;
                $timeout = $t if $t < $timeout;
            }

            if ($c->{linger}) {
                my $t = $c->{linger} - $now;
                $timeout = $t if $t < $timeout;
            }
        }

        $timeout = 0 if $timeout < 0;

        my ($r, $wr) = IO::Select->select($rs, $ws, undef, $timeout);

        next unless defined $r;    # EINTR (a signal), or timeout

        for my $fh (@$wr) {
            my $c = $conns{fileno $fh} or next;
            next if $c->{fh} != $fh;
            _write($c);
        }

        for my $fh (@$r) {
            if ($ls && $fh == $ls) {
                _accept($ls);
                next;
            }

            my $c = $conns{fileno $fh} or next;
            next if $c->{fh} != $fh;
            _read($c);
        }
    }
}

sub _accept {
    my ($ls) = @_;

    for (1 .. 64) {
        my $fh = $ls->accept() or return;

        $fh->blocking(0);
        setsockopt($fh, IPPROTO_TCP, TCP_NODELAY, 1);

        $conns{fileno $fh} = {
            fh => $fh,
            id => ++$nconn,
            rbuf => '',
            wbuf => '',
            queue => [],
        };
    }
}

sub _close {
    my ($c, $reset) = @_;

    setsockopt($c->{fh}, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0))
        if $reset;

    delete $conns{fileno $c->{fh}};
    close $c->{fh};
    $c->{dead} = 1;
}

sub _read {
    my ($c) = @_;

    my $n = sysread($c->{fh}, my $buf, 65536);

    if (!defined $n) {
        return if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
        _close($c);
        return;
    }

    if ($n == 0) {
        if ($c->{linger}) {
            _close($c);
            return;
        }
        $c->{eof} = 1;
        return;
    }

    return if $c->{linger};      # discarded

    $c->{rbuf} .= $buf;
}

sub _write {
    my ($c) = @_;

    my $n = syswrite($c->{fh}, $c->{wbuf});

    if (!defined $n) {
        return if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
        _close($c);
        return;
    }

    substr($c->{wbuf}, 0, $n, '');
    _fill($c);
}

# move queued output (strings or generators) into the write buffer
sub _fill {
    my ($c) = @_;

    my $q = $c->{queue};

    while (@$q && length($c->{wbuf}) < 262144) {
        if (!ref $q->[0]) {
            $c->{wbuf} .= shift @$q;
            next;
        }

        my $more = $q->[0]->();

        if (defined $more && length $more) {
            $c->{wbuf} .= $more;
        } else {
            shift @$q;
        }
    }
}

sub _idle {
    my ($c) = @_;
    return !$c->{wait} && !$c->{req} && !length($c->{rbuf})
        && !length($c->{wbuf}) && !@{$c->{queue}};
}

sub _finalize {
    my ($c, $now) = @_;

    return if $c->{dead};

    if ($c->{linger}) {
        _close($c) if $now > $c->{linger};
        return;
    }

    return if length $c->{wbuf} || @{$c->{queue}};

    if ($c->{reset}) {
        _close($c, 1);
        return;
    }

    if ($c->{closing}) {
        # lingering close: our FIN goes after all the data, and the
        # peer's unread requests do not turn it into a RST
        shutdown($c->{fh}, SHUT_WR);
        if ($c->{eof}) {
            _close($c);
            return;
        }
        $c->{rbuf} = '';
        $c->{linger} = $now + LINGER;
        return;
    }

    if ($c->{eof} && !$c->{wait}) {
        # the peer is gone (or half-closed): nothing more will come
        _close($c);
        return;
    }

    if ($draining) {
        if ($c->{ws}) {
            push @{$c->{queue}}, _ws_frame(0x88, pack('n', 1001));
            $c->{closing} = 1;
            _fill($c);
            return;
        }

        _close($c) if _idle($c);
    }
}

###############################################################################

# requests

sub _process {
    my ($c) = @_;

    for ( ;; ) {
        return if $c->{dead} || $c->{wait} || $c->{closing} || $c->{reset}
            || $c->{linger};

        if ($c->{ws}) {
            _ws_process($c);
            return;
        }

        return if @{$c->{queue}} || length($c->{wbuf}) > MAX_WBUF;

        my $req = _parse($c) or return;

        $served++;
        _handle($c, $req);
    }
}

sub _bad {
    my ($c, $why) = @_;

    $c->{req} = undef;
    $c->{rbuf} = '';
    _respond($c, { method => 'GET', keep => 0, v11 => 1 }, 400, [],
        "bad request: $why");

    return undef;
}

# a complete request (head and body read), or undef
sub _parse {
    my ($c) = @_;

    my $req = $c->{req};

    unless ($req) {
        $c->{rbuf} =~ s/^(?:\r?\n)+//;

        unless ($c->{rbuf} =~ /\r?\n\r?\n/) {
            _bad($c, 'header too large') if length $c->{rbuf} > MAX_HEADER;
            return undef;
        }

        my $head = substr($c->{rbuf}, 0, $-[0]);
        substr($c->{rbuf}, 0, $+[0], '');

        my ($line, @lines) = split /\r?\n/, $head;

        my ($method, $target, $major, $minor) = $line
            =~ m{^([!#\$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP/(\d)\.(\d)$}
            or return _bad($c, 'request line');

        return _bad($c, 'version') if $major != 1;

        my (@h, %h);

        for my $l (@lines) {
            my ($k, $v) = $l =~ /^([^:\s]+):[ \t]*(.*?)[ \t]*$/
                or return _bad($c, 'header line');
            push @h, [ $k, $v ];
            $h{lc $k} = $v;
        }

        my %tok = map { $_ => 1 }
            split /\s*,\s*/, lc($h{connection} // '');

        $req = $c->{req} = {
            method => $method,
            target => $target,
            v11 => $minor >= 1,
            headers => \@h,
            h => \%h,
            keep => $minor >= 1 ? !$tok{close} : !!$tok{'keep-alive'},
            body_length => 0,
            sha => Digest::SHA->new(1),
        };

        if (exists $h{'transfer-encoding'}) {
            return _bad($c, 'transfer-encoding')
                unless $h{'transfer-encoding'} =~ /(?:^|,)\s*chunked\s*$/i;
            $req->{chunk} = 'size';

        } elsif (exists $h{'content-length'}) {
            return _bad($c, 'content-length')
                unless $h{'content-length'} =~ /^\d{1,15}$/;
            $req->{left} = $h{'content-length'} + 0;

        } else {
            $req->{left} = 0;
        }

        if ($target =~ m{^/early(?:\?|$)}) {
            $c->{req} = undef;
            $c->{rbuf} = '';
            $served++;
            _respond($c, { method => $method, keep => 0, v11 => 1 }, 413,
                [ 'Content-Type: text/plain' ], "early $NAME");
            return undef;
        }

        if (lc($h{expect} // '') eq '100-continue' && $req->{v11}
            && ($req->{chunk} || $req->{left}))
        {
            $c->{wbuf} .= "HTTP/1.1 100 Continue\r\n\r\n";
        }
    }

    # the body

    if (!$req->{chunk}) {
        my $n = $req->{left};
        $n = length $c->{rbuf} if $n > length $c->{rbuf};
        _body($req, substr($c->{rbuf}, 0, $n, '')) if $n;
        $req->{left} -= $n;
        return undef if $req->{left};
        $c->{req} = undef;
        return $req;
    }

    for ( ;; ) {
        my $st = $req->{chunk};

        if ($st eq 'size' || $st eq 'trailer') {
            $c->{rbuf} =~ /\n/ or do {
                _bad($c, 'chunk line too long')
                    if length $c->{rbuf} > MAX_HEADER;
                return undef;
            };

            my $line = substr($c->{rbuf}, 0, $+[0], '');
            $line =~ s/\r?\n\z//;

            if ($st eq 'trailer') {
                next if length $line;
                $c->{req} = undef;
                return $req;
            }

            $line =~ /^([0-9a-fA-F]{1,15})[ \t]*(?:;.*)?$/
                or return _bad($c, 'chunk size');

            my $size = hex $1;
            $req->{chunk} = $size ? 'data' : 'trailer';
            $req->{left} = $size;

        } elsif ($st eq 'data') {
            return undef unless length $c->{rbuf};
            my $n = $req->{left};
            $n = length $c->{rbuf} if $n > length $c->{rbuf};
            _body($req, substr($c->{rbuf}, 0, $n, ''));
            $req->{left} -= $n;
            $req->{chunk} = 'crlf' unless $req->{left};

        } else {    # crlf after the data
            if ($c->{rbuf} =~ s/^\r?\n//) {
                $req->{chunk} = 'size';
                next;
            }
            return undef if $c->{rbuf} eq '' || $c->{rbuf} eq "\r";
            return _bad($c, 'chunk data');
        }
    }
}

sub _body {
    my ($req, $data) = @_;
    $req->{body_length} += length $data;
    $req->{sha}->add($data);
}

sub _pattern_gen {
    my ($n, $chunked) = @_;

    my $off = 0;
    my $done = 0;

    return sub {
        return undef if $done;

        if ($off >= $n) {
            $done = 1;
            return $chunked ? "0\r\n\r\n" : undef;
        }

        my $len = $n - $off;
        my $max = $chunked ? 16384 : 65536;
        $len = $max if $len > $max;

        my $data = substr($PATTERN, $off % 10, $len);
        $off += $len;

        return $chunked ? sprintf("%x\r\n", $len) . $data . "\r\n" : $data;
    };
}

# $body: a string, or [ generator, length ]; options: chunked => 1 (the
# generator produces chunks), close_delimited => 1
sub _respond {
    my ($c, $req, $status, $headers, $body, %o) = @_;

    my $keep = $req->{keep} && !$draining && !$o{close_delimited};
    my $head = "HTTP/1.1 $status " . ($REASON{$status} // 'Unknown')
        . "\r\nX-Backend: $NAME\r\nX-Backend-Conn: $c->{id}\r\n";

    $head .= "$_\r\n" for @$headers;

    my $nobody = $status == 204 || $status == 304;

    if ($nobody) {
        # neither a body nor its length

    } elsif ($o{chunked}) {
        $head .= "Transfer-Encoding: chunked\r\n";

    } elsif (!$o{close_delimited}) {
        $head .= 'Content-Length: '
            . (ref $body ? $body->[1] : length $body) . "\r\n";
    }

    if (!$keep) {
        $head .= "Connection: close\r\n";
    } elsif (!$req->{v11}) {
        $head .= "Connection: keep-alive\r\n";
    }

    push @{$c->{queue}}, "$head\r\n";

    unless ($nobody || $req->{method} eq 'HEAD') {
        push @{$c->{queue}}, ref $body ? $body->[0] : $body;
    }

    $c->{closing} = 1 unless $keep;

    _fill($c);
}

sub _handle {
    my ($c, $req) = @_;

    my $path = $req->{target};
    $path =~ s/\?.*//s;

    if ($path =~ m{^/echo}) {
        my $json = JSON::PP->new->canonical->ascii->encode({
            method => $req->{method},
            path => $req->{target},
            headers => $req->{h},
            body_length => $req->{body_length} + 0,
            body_sha1 => $req->{sha}->hexdigest(),
        });

        _respond($c, $req, 200, [ 'Content-Type: application/json' ],
            $json);

    } elsif ($path =~ m{^/status/(\d{3})$} && $1 >= 200 && $1 <= 599) {
        _respond($c, $req, $1 + 0, [ 'Content-Type: text/plain' ],
            "status $1");

    } elsif ($path =~ m{^/slow/(\d{1,9})$}) {
        my $ms = $1;
        $c->{wait} = {
            at => time() + $ms / 1000,
            cb => sub {
                _respond($c, $req, 200, [ 'Content-Type: text/plain' ],
                    "slow $ms");
            },
        };

    } elsif ($path =~ m{^/big/(\d{1,15})$}) {
        _respond($c, $req, 200, [ 'Content-Type: application/octet-stream' ],
            [ _pattern_gen($1), $1 ]);

    } elsif ($path =~ m{^/bigchunked/(\d{1,15})$}) {
        my @h = ('Content-Type: application/octet-stream');

        if ($req->{v11}) {
            _respond($c, $req, 200, \@h, [ _pattern_gen($1, 1) ],
                chunked => 1);
        } else {
            _respond($c, $req, 200, \@h, [ _pattern_gen($1) ],
                close_delimited => 1);
        }

    } elsif ($path eq '/close') {
        _respond($c, $req, 200, [ 'Content-Type: text/plain' ],
            "close $NAME", close_delimited => 1);

    } elsif ($path =~ m{^/close/(\d{1,15})$}) {
        _respond($c, $req, 200, [ 'Content-Type: application/octet-stream' ],
            [ _pattern_gen($1) ], close_delimited => 1);

    } elsif ($path eq '/reset') {
        $c->{reset} = 1;
        $c->{rbuf} = '';

    } elsif ($path =~ m{^/garbage/(status|header|chunk)$}) {
        push @{$c->{queue}}, {
            status => "HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n",
            header => "HTTP/1.1 200 OK\r\nX-Big: " . ('x' x 40000)
                . "\r\nContent-Length: 0\r\n\r\n",
            chunk => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                . "5\r\nhello\r\nzz\r\n",
        }->{$1};
        $c->{closing} = 1;
        $c->{rbuf} = '';
        _fill($c);

    } elsif ($path eq '/ws') {
        _ws_upgrade($c, $req);

    } elsif ($path eq '/count') {
        _respond($c, $req, 200, [ 'Content-Type: text/plain' ], "$served");

    } else {
        _respond($c, $req, 200, [ 'Content-Type: text/plain' ], "ok $NAME");
    }
}

###############################################################################

# WebSocket

sub _ws_upgrade {
    my ($c, $req) = @_;

    my $h = $req->{h};
    my $key = $h->{'sec-websocket-key'};

    unless (lc($h->{upgrade} // '') =~ /(?:^|[\s,])websocket(?:$|[\s,])/
        && defined $key && length $key && $req->{method} eq 'GET')
    {
        $req->{keep} = 0;
        _respond($c, $req, 400, [ 'Content-Type: text/plain' ],
            'websocket upgrade required');
        return;
    }

    my $accept = MIME::Base64::encode_base64(
        Digest::SHA::sha1($key . WS_GUID), '');

    my $head = "HTTP/1.1 101 Switching Protocols\r\n"
        . "Upgrade: websocket\r\n"
        . "Connection: Upgrade\r\n"
        . "Sec-WebSocket-Accept: $accept\r\n";

    if (defined $h->{'sec-websocket-protocol'}) {
        my ($p) = split /\s*,\s*/, $h->{'sec-websocket-protocol'};
        $head .= "Sec-WebSocket-Protocol: $p\r\n" if length($p // '');
    }

    $head .= "X-Backend: $NAME\r\nX-Backend-Conn: $c->{id}\r\n\r\n";

    push @{$c->{queue}}, $head;
    $c->{ws} = 1;
    _fill($c);
}

sub _ws_frame {
    my ($b0, $payload) = @_;

    my $l = length $payload;
    my $f = chr($b0);

    if ($l < 126) {
        $f .= chr($l);
    } elsif ($l < 65536) {
        $f .= chr(126) . pack('n', $l);
    } else {
        $f .= chr(127) . pack('Q>', $l);
    }

    return $f . $payload;
}

sub _ws_process {
    my ($c) = @_;

    while (length($c->{rbuf}) >= 2 && !$c->{closing}) {
        my ($b0, $b1) = unpack 'CC', $c->{rbuf};
        my $masked = $b1 & 0x80;
        my $len = $b1 & 0x7f;
        my $off = 2;

        if ($len == 126) {
            return if length $c->{rbuf} < 4;
            $len = unpack 'n', substr($c->{rbuf}, 2, 2);
            $off = 4;
        } elsif ($len == 127) {
            return if length $c->{rbuf} < 10;
            $len = unpack 'Q>', substr($c->{rbuf}, 2, 8);
            $off = 10;
        }

        if ($len > MAX_FRAME) {
            push @{$c->{queue}}, _ws_frame(0x88, pack('n', 1009));
            $c->{closing} = 1;
            last;
        }

        my $need = $off + ($masked ? 4 : 0) + $len;
        return if length $c->{rbuf} < $need;

        my $key = $masked ? substr($c->{rbuf}, $off, 4) : undef;
        $off += 4 if $masked;

        my $payload = substr($c->{rbuf}, $off, $len);
        substr($c->{rbuf}, 0, $need, '');

        if ($masked && $len) {
            $payload ^= substr($key x (int($len / 4) + 1), 0, $len);
        }

        my $op = $b0 & 0x0f;

        if ($op == 0x8) {
            push @{$c->{queue}},
                _ws_frame(0x88, length $payload >= 2
                    ? substr($payload, 0, 2) : '');
            $c->{closing} = 1;

        } elsif ($op == 0x9) {
            push @{$c->{queue}}, _ws_frame(0x8a, $payload);

        } elsif ($op == 0xa) {
            # unsolicited pong: nothing

        } else {
            push @{$c->{queue}}, _ws_frame($b0 & 0x8f, $payload);
        }
    }

    $c->{rbuf} = '' if $c->{closing};
    _fill($c);
}

1;

###############################################################################
