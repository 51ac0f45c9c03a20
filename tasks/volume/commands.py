"""Commands of the data volume (pure builders)."""

from __future__ import annotations

import shlex

LABEL = "prisma-data"
# DigitalOcean's own fstab options for volumes; nofail: a missing volume does not stop
# the boot (the database then cannot start: its bind mount's directory is missing).
FSTAB_OPTIONS = "defaults,nofail,discard,noatime"


def format_if_empty(device: str) -> str:
    """mkfs.ext4 only when blkid finds no signature at all (exit code 2), checked in the
    same command: whatever the device holds is never formatted over."""
    d = shlex.quote(device)
    return (
        f"blkid -p {d} >/dev/null 2>&1; found=$?; "
        f"if [ $found -eq 2 ]; then mkfs.ext4 -q -L {LABEL} {d}; "
        f'elif [ $found -ne 0 ]; then echo "blkid cannot read {device}" >&2; exit 1; fi'
    )


def fstab_line(device: str, mount: str) -> str:
    return f"{device} {mount} ext4 {FSTAB_OPTIONS} 0 2"


def mounted(mount: str) -> str:
    m = shlex.quote(mount)
    return f"install -d -m 755 {m} && {{ mountpoint -q {m} || mount {m}; }}"


def data_dir(path: str) -> str:
    return f"install -d -m 755 {shlex.quote(path)}"
