"""
Pure command builders of the deploy lock.

The lock is a directory (`mkdir` is atomic) under a root-only directory, holding who
holds it. Every change to it (take, break, release) runs under flock(1) on a guard file,
so breaking a stale lock is a compare-and-swap: it is removed only while it still holds
the holder line the breaking run saw, never a lock another run took meanwhile.
"""

from __future__ import annotations

import shlex

LOCK_ROOT = "/run/prisma-deploy"  # tmpfs: a reboot clears it; 0700, root's
GUARD = f"{LOCK_ROOT}/.guard"
GUARD_WAIT_SECONDS = 30


def lock_path(project: str) -> str:
    return f"{LOCK_ROOT}/{project}"


def _guarded(script: str, *arguments: str) -> str:
    """Run a sh script under the guard's flock, with arguments as $1, $2, ..."""
    quoted = " ".join(shlex.quote(argument) for argument in arguments)
    return (
        f"install -d -m 700 {LOCK_ROOT} && flock -w {GUARD_WAIT_SECONDS} {GUARD} "
        f"sh -c {shlex.quote(script)} lock {quoted}"
    )


def take_command(path: str, holder: str) -> str:
    """Prints `taken`, or `held` and the current holder line."""
    return _guarded(
        'if mkdir "$1" 2>/dev/null; then printf "%s\\n" "$2" > "$1/holder"; echo taken; '
        'else echo held; cat "$1/holder" 2>/dev/null; fi',
        path,
        holder,
    )


def break_command(path: str, seen_holder: str) -> str:
    """Remove the lock only if it still holds the holder line that was seen; prints
    `broken` when it did."""
    return _guarded(
        'if [ "$(cat "$1/holder" 2>/dev/null)" = "$2" ]; then rm -rf "$1"; echo broken; fi',
        path,
        seen_holder,
    )


def release_command(path: str, run_id: str) -> str:
    """Remove the lock only if the run `run_id` holds it."""
    return _guarded('if grep -qs "run=$2 " "$1/holder"; then rm -rf "$1"; fi; true', path, run_id)
