# logs.py on the host: the containers of each service listed and their logs read from
# Docker's API on its socket, every line printed as it comes after its container's name
# as `docker compose logs` prints it ("prisma-db  | ..."). One perl for the lists and
# every log: two curls, a grep and a perl cost the host about 33 ms of CPU per run, this
# about 9.
#
# Arguments: Docker's socket, the Compose project, the logs query
# (stdout=1&stderr=1&timestamps=1&tail=N[&since=S][&follow=1]), then for each service
# its name and the URL that lists its containers. With follow=1 each container's log is
# read by a process of its own, side by side, until they all end.
#
# Exits 1 when Docker does not answer a list (its message on stderr), or when a log
# cannot be read (Docker's message shown in its place) or is cut off before its end.
# HTTP/1.1, so that a cut connection is told from the end of a log: Docker sends a log
# in chunks, and the last chunk is empty.
#
# Containers without a TTY have each piece of their log framed by 8 bytes (the stream,
# 3 zero bytes, the size big-endian); the log of one with a TTY comes as it is.
# No `use` at all: `use strict` and `use warnings` cost the host 3 ms on every run.
$| = 1;
$SIG{ALRM} = sub { die "timeout\n" };
my ($socket_path, $project, $query, @pairs) = @ARGV;
my (@services, %list_of);
while (my ($service, $url) = splice(@pairs, 0, 2)) {
    push @services, $service;
    ($list_of{$service}) = $url =~ m{\Ahttp://[^/]+(/.*)\z}s;
}

# A connection to Docker with GET $path sent; then its status, whether its body is
# chunked, its length if said, and what of the body came with the headers.
sub ask {
    my ($path) = @_;
    my $s;
    socket($s, 1, 1, 0) && connect($s, pack('S Z*', 1, $socket_path)) or return;
    my $request = "GET $path HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n";
    syswrite($s, $request) == length $request or return;
    my ($buffer, $end) = ('', -1);
    while (($end = index($buffer, "\r\n\r\n")) < 0) {
        sysread($s, $buffer, 65536, length $buffer) or return;
    }
    my $head = substr($buffer, 0, $end);
    my ($status) = $head =~ m{\AHTTP/\S+ (\d{3})} or return;
    my $chunked = $head =~ /^Transfer-Encoding:[ \t]*chunked/mi ? 1 : 0;
    my ($length) = $head =~ /^Content-Length:[ \t]*(\d+)/mi;
    return ($s, $status, $chunked, $length, substr($buffer, $end + 4));
}

# Gives each piece of the body to $take as it comes; true when the body came whole (its
# last chunk, its length, or without either the end of the connection).
sub read_body {
    my ($s, $chunked, $length, $buffer, $take) = @_;
    if (!$chunked) {
        my $got = 0;
        while (1) {
            if (length $buffer) { $got += length $buffer; $take->($buffer); $buffer = '' }
            return 1 if defined $length && $got >= $length;
            sysread($s, $buffer, 65536) or return !defined $length;
        }
    }
    while (1) {
        my $line_end;
        while (($line_end = index($buffer, "\r\n")) < 0) {
            sysread($s, $buffer, 65536, length $buffer) or return 0;
        }
        my ($hex) = substr($buffer, 0, $line_end) =~ /\A([0-9a-fA-F]+)/ or return 0;
        my $size = hex $hex;
        substr($buffer, 0, $line_end + 2) = '';
        return 1 if $size == 0;
        while (length($buffer) < $size + 2) {
            sysread($s, $buffer, 65536, length $buffer) or return 0;
        }
        $take->(substr($buffer, 0, $size));
        substr($buffer, 0, $size + 2) = '';
    }
}

# A whole answer (for the lists, within 10 s): its status and body, or nothing.
sub answer {
    my ($path) = @_;
    my ($status, $body) = (undef, '');
    eval {
        alarm 10;
        my ($s, $code, $chunked, $length, $start) = ask($path) or die;
        read_body($s, $chunked, $length, $start, sub { $body .= $_[0] }) or die;
        $status = $code;
    };
    alarm 0;
    return ($status, $body);
}

sub docker_message {
    my ($status, $body) = @_;
    my ($message) = $body =~ /"message":\s*"((?:[^"\\]|\\.)*)"/;
    return defined $message ? "Error response from daemon: $message"
        : length $body ? $body : "Docker did not answer (HTTP $status)";
}

# Each service's containers: [name, name shown], in the order of the services.
my @containers;
for my $service (@services) {
    my ($status, $body) = answer($list_of{$service});
    if (!defined $status) {
        print STDERR "Docker did not answer on $socket_path\n";
        exit 1;
    }
    if ($status ne '200') {
        print STDERR docker_message($status, $body), "\n";
        exit 1;
    }
    while ($body =~ /"Names":\s*\[\s*"\/([^"]+)"/g) {
        my $name = $1;
        my $shown = $name;
        # Compose's own names lose the project's prefix; a name the file gives stays.
        for my $each (@services) {
            $shown = substr($name, length($project) + 1), last
                if $name =~ /\A\Q$project-$each-\E[0-9]/;
        }
        push @containers, [$name, $shown];
    }
}
my $width = 0;
for (@containers) { $width = length $_->[1] if length $_->[1] > $width }
$width++;

# One container's log, each line printed as it comes; true when it was read whole.
sub show_log {
    my ($name, $shown) = @_;
    my $show = sub { printf "%-*s | %s\n", $width, $shown, $_[0] };
    my ($s, $status, $chunked, $length, $start) = ask("/containers/$name/logs?$query");
    if (!defined $status) {
        $show->("Docker did not answer on $socket_path");
        return 0;
    }
    if ($status ne '200') {
        my $body = '';
        read_body($s, $chunked, $length, $start, sub { $body .= $_[0] });
        $show->(docker_message($status, $body));
        return 0;
    }
    my ($data, $text, $framed) = ('', '', undef);
    my $whole = read_body($s, $chunked, $length, $start, sub {
        $data .= $_[0];
        $framed = $data =~ /\A[\x00-\x02]/ ? 1 : 0 unless defined $framed;
        if (!$framed) {
            $text .= $data;
            $data = '';
            $show->($1) while $text =~ s/\A([^\n]*?)\r?\n//;
            return;
        }
        while (length($data) >= 8) {
            my $size = unpack('N', substr($data, 4, 4));
            last if length($data) < 8 + $size;
            $text .= substr($data, 8, $size);
            substr($data, 0, 8 + $size) = '';
        }
        $show->($1) while $text =~ s/\A([^\n]*)\n//;
    });
    $show->($text) if length $text;
    $show->("the log was cut off: Docker's answer ended early") unless $whole;
    return $whole;
}

my $failed = 0;
if ($query =~ /(?:\A|&)follow=1(?:&|\z)/) {
    # Following never ends: each container's log is read beside the others.
    my @children;
    for my $container (@containers) {
        my $pid = fork;
        if (!defined $pid) { $failed = 1; next }
        if ($pid == 0) { exit(show_log(@$container) ? 0 : 1) }
        push @children, $pid;
    }
    for my $pid (@children) { waitpid($pid, 0); $failed = 1 if $? }
} else {
    for my $container (@containers) { show_log(@$container) or $failed = 1 }
}
exit $failed;
