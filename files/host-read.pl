# What a host's read asks of perl, in one process: deploy.py's read of the host on every
# run, and status.py's report. A perl costs the host about 2 ms of CPU to start, and the
# processes it stands in for cost more each (a process is dearer still when sixteen
# hosts read at once on shared cores).
#
# Arguments: Docker's socket, then any of, printed in this order whatever their order:
#   path=<path>        `path <path> <directory|file|missing>` and, for those that exist,
#                      `path-stat <path> <mode> <user> <group>`, as tasks/host/paths.py's
#                      shell and `stat -c '%n %a %U %G'` print them; then "answered paths"
#   packages=<a>,<b>   see packages() below; then "answered packages"
#   <url>              GET it and print its body, then "\nanswered <url>\n", as curl's
#                      --write-out '\nanswered %{url_effective}\n' does (see
#                      tasks/host/probes.py); http://localhost/... is asked on the socket
#                      (10 s at most)
#   status=<url>       the same over TCP (5 s at most), followed by "answered status"; a
#                      body over 64 KiB is not shown, as curl's --max-filesize 65536
#   inspect=<regex>    after the URLs, GET the inspection of each container listed in an
#                      answer of http://localhost/containers/json and print only what
#                      matches regex, one match a line, then "answered <its url>": what
#                      `grep -oE` of the inspection printed (it holds the environment,
#                      secrets included; the rest stays here)
#   stdin              print what comes on the input first (the rest of the read, from
#                      the shell before this perl in a pipe), all of it in one write: one
#                      SSH packet or so, where a line at a time sent one a line or two
# An answer that did not come whole in time is not shown. curl cost the host about 5 ms
# of CPU more for the same answers: it loads some 35 libraries, this loads none.
#
# No `use` at all: `use Socket` alone costs 6 ms. The numbers are Linux's (AF_UNIX 1,
# AF_INET 2, AF_INET6 10, SOCK_STREAM 1) on every architecture Docker is packaged for;
# only an IPv6 address loads Socket, for inet_pton. HTTP/1.0: no chunked answers.
$SIG{ALRM} = sub { die "timeout\n" };
my $docker_socket = shift @ARGV;
my (@paths, @packages, @urls, $joined, $fields);
for (@ARGV) {
    if (/^path=(.*)$/s) { push @paths, $1 }
    elsif (/^packages=(.*)$/s) { push @packages, split /,/, $1 }
    elsif (/^inspect=(.*)$/s) { $fields = $1 }
    elsif ($_ eq 'stdin') { $joined = 1 }
    else { push @urls, $_ }
}
# Everything printed goes into $printed, written at the end in one piece.
open my $out, '>', \my $printed or die;
select $out;
path_states(@paths) if @paths;
packages(@packages) if @packages;
my @listed;
for my $given (@urls) {
    my ($label, $url) = $given =~ /^status=(.*)$/s ? ('status', $1) : ($given, $given);
    my $answer = answer_of($url, $label ne 'status');
    print $answer, "\nanswered $label\n";
    push @listed, $answer =~ /"Id":"([0-9a-f]{64})"/g
        if defined $fields && $url =~ m{^http://localhost/containers/json};
}
# inspect=: each listed container's inspection, of which only the fields leave the host.
for my $id (@listed) {
    my $url = "http://localhost/containers/$id/json";
    my $answer = answer_of($url, 1);
    print substr($answer, $-[0], $+[0] - $-[0]), "\n" while $answer =~ /$fields/g;
    print "answered $url\n";
}
close $out;
my $first = $joined ? do { local $/; <STDIN> // '' } : '';
syswrite STDOUT, $first . $printed;

# GET url on Docker's socket ($on_socket) or over TCP; its body, '' unless it came whole
# in time (10 s on the socket, 5 s over TCP; over TCP 64 KiB at most).
sub answer_of {
    my ($url, $on_socket) = @_;
    my ($place, $path) = $url =~ m{^http://([^/]+)(/.*)?$}s;
    my ($answer, $whole) = ('', 0);
    eval {
        alarm($on_socket ? 10 : 5);
        if ($on_socket) {
            socket(S, 1, 1, 0) && connect(S, pack('S Z*', 1, $docker_socket)) or die;
        } else {
            my ($address, $port) = $place =~ /^\[?(.*?)\]?(?::(\d+))?$/;
            $port ||= 80;
            if ($address =~ /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/) {
                socket(S, 2, 1, 0)
                    && connect(S, pack('S n C4 x8', 2, $port, $1, $2, $3, $4)) or die;
            } else {
                require Socket;
                my $packed = Socket::inet_pton(10, $address) or die;
                socket(S, 10, 1, 0)
                    && connect(S, pack('S n N a16 N', 10, $port, 0, $packed, 0)) or die;
            }
        }
        my $request = 'GET ' . ($path // '/') . " HTTP/1.0\r\nHost: $place\r\n\r\n";
        syswrite(S, $request) == length $request or die;
        my $length;
        while (1) {
            my $read = sysread(S, $answer, 65536, length $answer);
            die unless defined $read;
            if ($read == 0) { $whole = 1; last }
            # Done when the body is as long as the answer says, if it says.
            my $end = index($answer, "\r\n\r\n");
            next if $end < 0;
            ($length) = substr($answer, 0, $end) =~ /^Content-Length:\s*(\d+)/mi
                unless defined $length;
            if (defined $length && length($answer) - $end - 4 >= $length) { $whole = 1; last }
            last if !$on_socket && length($answer) - $end - 4 > 65536;
        }
    };
    alarm 0;
    close S;
    $answer = '' unless $whole
        && $answer =~ s/\AHTTP\/[^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n//
        && ($on_socket || length $answer <= 65536);
    return $answer;
}

# Each path's kind (following links, as `[ -d ]` and `[ -e ]` do) and, for those that
# exist, its own mode and owners (not following a link, as `stat` without -L):
# tasks/host/paths.py's path_probe() in this process, where `stat` was one of its own.
sub path_states {
    my @found;
    for my $path (@_) {
        if (-d $path) { print "path $path directory\n" }
        elsif (-e _) { print "path $path file\n" }
        else { print "path $path missing\n"; next }
        push @found, $path;
    }
    for my $path (@found) {
        my @status = lstat $path or next;
        my $user = getpwuid $status[4];
        my $group = getgrgid $status[5];
        printf "path-stat %s %o %s %s\n", $path, $status[2] & 07777,
            $user // 'UNKNOWN', $group // 'UNKNOWN';
    }
    print "answered paths\n";
}


# Each named package's line as dpkg-query -W -f='pkg ${Package} ${Version}
# ${db:Status-Abbrev} ${Architecture}\n' prints it, from dpkg's status file, for those
# the file holds (dpkg-query also lists, as "un", names other packages only mention);
# then "answered packages". dpkg-query costs the host about 4.5 ms of CPU (it loads the
# whole database), this about 0.5 ms in a perl that runs anyway. While dpkg has left
# work in updates/ (an interrupted run), the status file is not the whole truth, and
# dpkg-query itself is asked. The database is where dpkg-query looks: DPKG_ADMINDIR,
# else /var/lib/dpkg.
sub packages {
    my %wanted = map { $_ => 1 } @_;
    my $database = $ENV{DPKG_ADMINDIR} || '/var/lib/dpkg';
    my $pending = 0;
    if (opendir my $updates, "$database/updates") {
        $pending = grep { !/^\.\.?$/ } readdir $updates;
    }
    if ($pending) {
        my $query = q{dpkg-query -W -f='pkg ${Package} ${Version} ${db:Status-Abbrev} }
            . q{${Architecture}\n' } . join(' ', sort keys %wanted) . ' 2>/dev/null';
        print scalar qx{$query};
    } elsif (open my $status, '<', "$database/status") {
        my %want = (unknown => 'u', install => 'i', hold => 'h', deinstall => 'r', purge => 'p');
        my %state = ('not-installed' => 'n', 'config-files' => 'c', 'half-installed' => 'H',
            unpacked => 'U', 'half-configured' => 'F', 'triggers-awaited' => 'W',
            'triggers-pending' => 't', installed => 'i');
        local $/ = '';    # a stanza at a time
        while (my $stanza = <$status>) {
            next unless $stanza =~ /^Package: (\S+)$/m && $wanted{$1};
            my $name = $1;
            my %field = $stanza =~ /^(Status|Version|Architecture): (.*)$/mg;
            my ($want, $flag, $state) = split ' ', $field{Status} // '';
            print "pkg $name ", $field{Version} // '', ' ', $want{$want // ''} // '?',
                $state{$state // ''} // '?', ($flag // '') eq 'reinstreq' ? 'R' : ' ',
                ' ', $field{Architecture} // '', "\n";
        }
    }
    print "answered packages\n";
}
