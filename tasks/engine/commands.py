"""Pure command builders of the engine part: who holds apt's locks, and waiting for them."""

from __future__ import annotations

import shlex

APT_LOCKS = (
    "/var/lib/dpkg/lock-frontend",
    "/var/lib/dpkg/lock",
    "/var/lib/apt/lists/lock",
    "/var/cache/apt/archives/lock",
)
# perl-base is essential on Debian and Ubuntu; F_GETLK asks the kernel who holds the
# same fcntl locks apt and dpkg take, without taking them. struct flock as on LP64.
_LOCK_PROBE = r"""use Fcntl;
for my $file (@ARGV) {
    open(my $handle, ">>", $file) or next;
    my $lock = pack("s s x4 q q i x4", F_WRLCK, 0, 0, 0, 0);
    fcntl($handle, F_GETLK, $lock) or next;
    my ($type, $whence, $start, $length, $pid) = unpack("s s x4 q q i x4", $lock);
    next if $type == F_UNLCK;
    my $name = "?";
    if (open(my $comm, "<", "/proc/$pid/comm")) { $name = <$comm>; chomp $name; }
    print "apt-lock $file $pid $name\n";
}"""


def apt_lock_holders() -> str:
    """`apt-lock <file> <pid> <process name>` for each apt/dpkg lock another process holds."""
    return f"perl -e {shlex.quote(_LOCK_PROBE)} {' '.join(APT_LOCKS)}"


def wait_for_apt_locks(timeout_seconds: int) -> str:
    """Wait until no apt/dpkg lock is held; print the holders and exit 1 after the timeout."""
    return (
        f"deadline=$(( $(date +%s) + {int(timeout_seconds)} )); "
        f'while held=$({apt_lock_holders()}); [ -n "$held" ]; do '
        f'if [ "$(date +%s)" -ge "$deadline" ]; then echo "$held"; exit 1; fi; sleep 2; done'
    )


def apt_lock_wait_option(timeout_seconds: int) -> str:
    """apt's own wait for its lock: covers a lock taken between apt_is_free and apt."""
    return f"-o DPkg::Lock::Timeout={int(timeout_seconds)}"
