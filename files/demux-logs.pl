# logs.py on the host: Docker's log streams (containers without a TTY frame each chunk
# with 8 bytes: the stream, 3 zero bytes, the size big-endian) read from one curl run,
# each line printed as it comes after its container's name as `docker compose logs`
# prints it. Arguments: the width to pad names to, then the name shown for each URL
# curl reads, in order; curl writes "\nanswered <HTTP status>\n" after each answer.
# Exits 1 when an answer is not 200 (its message is shown) or is missing.
use strict;
use warnings;

$| = 1;
my ($width, @names) = @ARGV;
my ($index, $failed, $pending) = (0, 0, '');

sub take {
    my ($count) = @_;
    my $taken = '';
    while (length($taken) < $count) {
        my $read = read(STDIN, my $chunk, $count - length($taken));
        return undef unless $read;
        $taken .= $chunk;
    }
    return $taken;
}

sub show {
    my ($line) = @_;
    printf "%-*s | %s\n", $width, $names[$index] // '?', $line;
}

while (defined(my $first = take(1))) {
    if ($first =~ /\A[\x00-\x02]\z/) {
        my $header = take(7);
        last unless defined $header;
        my $chunk = take(unpack('N', substr($header, 3, 4)));
        last unless defined $chunk;
        $pending .= $chunk;
        show($1) while $pending =~ s/\A([^\n]*)\n//;
        next;
    }
    # Not a frame: an error's message (or the stream of a container with a TTY, which
    # Docker does not frame), then the end of this answer.
    my $text = $first;
    while ($text !~ /\nanswered (\d{3})\n\z/) {
        my $more = take(1);
        last unless defined $more;
        $text .= $more;
    }
    last unless $text =~ s/\n?answered (\d{3})\n\z//;
    my $status = $1;
    show($pending) if length $pending;
    $pending = '';
    if ($status ne '200') {
        $failed = 1;
        my ($message) = $text =~ /"message":"((?:[^"\\]|\\.)*)"/;
        show(defined $message ? "Error response from daemon: $message"
             : length $text ? $text : "Docker did not answer (HTTP $status)");
    } else {
        show($_) for split /\r?\n/, $text;
    }
    $index++;
}
exit(($failed || $index < @names) ? 1 : 0);
