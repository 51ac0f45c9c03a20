"""Pure command builders of the engine part: who holds apt's locks, waiting for them, and
the swap file, a small root file written in one command."""

from __future__ import annotations

import base64
import posixpath
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


# The swap file prisma_swap_size makes: a name of its own, so a swap file the host
# already has is never touched.
SWAP_FILE = "/prisma-deploy.swap"


def make_swap_file(size: str) -> str:
    """(Re)create SWAP_FILE of `size` ('1G', '512M'): private from its first byte, in use,
    and in /etc/fstab so it is used again after a reboot."""
    megabytes = size_mib(size)
    return (
        f"swapoff {SWAP_FILE} 2>/dev/null; rm -f {SWAP_FILE}; "
        f"(umask 077 && (fallocate -l {megabytes}M {SWAP_FILE} "
        f"|| dd if=/dev/zero of={SWAP_FILE} bs=1M count={megabytes} status=none)) "
        f"&& chmod 600 {SWAP_FILE} && mkswap {SWAP_FILE} >/dev/null && swapon {SWAP_FILE} "
        f"&& (grep -qs '^{SWAP_FILE} ' /etc/fstab "
        f"|| echo '{SWAP_FILE} none swap sw 0 0' >> /etc/fstab)"
    )


def remove_swap_file() -> str:
    return (
        f"swapoff {SWAP_FILE} 2>/dev/null; rm -f {SWAP_FILE}; "
        f"sed -i '\\#^{SWAP_FILE} #d' /etc/fstab"
    )


def size_mib(size: str) -> int:
    """'1G' -> 1024, '512M' -> 512 (the sizes prisma_swap_size takes)."""
    return int(size[:-1]) * (1024 if size.endswith("G") else 1)


def write_root_file(path: str, content: str, mode: int) -> str:
    """One command: content at path, root's with mode (pyinfra's style: 644), replaced
    in one rename, its directory made when missing."""
    encoded = base64.b64encode(content.encode()).decode()
    target, temp = shlex.quote(path), shlex.quote(f"{path}.prisma-deploy-new")
    return (
        f"mkdir -p {shlex.quote(posixpath.dirname(path))} && "
        f"printf %s {encoded} | base64 -d > {temp} && chmod {mode} {temp} && "
        f"chown root:root {temp} && mv -f {temp} {target}"
    )
