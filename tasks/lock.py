"""
A deploy lock on each host, so two runs cannot interleave.

Every deploy file takes it first and gives it back last. Taking it is atomic (`mkdir`)
and records who holds it and since when; a second run fails fast naming the holder.
A lock left by a run that died is broken automatically when the dead run was on this
machine (its process is gone); any other lock only with `prisma_lock_break = true`.
Holding a lock is not a change to the host, so these operations report no change.
"""

from __future__ import annotations

import datetime
import getpass
import os
import re
import shlex
import socket
import uuid
from contextlib import contextmanager

from pyinfra import host, logger, state
from pyinfra.api import StringCommand, operation

from tasks.operations import connector_arguments, failure
from tasks.settings import Settings

RUN_ID = uuid.uuid4().hex[:12]
LOCK_ROOT = "/run/lock"


def lock_path(settings: Settings) -> str:
    return f"{LOCK_ROOT}/prisma-deploy-{settings.prisma_project_name}"


def holder_line(deploy_file: str) -> str:
    """Who this run is: user@machine, process, run id, start time and file."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"{getpass.getuser()}@{socket.gethostname()} pid={os.getpid()} run={RUN_ID} "
        f"since={now} file={deploy_file}"
    )


def take_command(path: str, holder: str) -> str:
    quoted = shlex.quote(path)
    return (
        f"mkdir -p {LOCK_ROOT} && if mkdir {quoted} 2>/dev/null; "
        f"then printf '%s\\n' {shlex.quote(holder)} > {quoted}/holder && echo taken; "
        f"else echo held; cat {quoted}/holder 2>/dev/null; fi"
    )


def release_command(path: str) -> str:
    """Remove the lock only if this run holds it."""
    quoted = shlex.quote(path)
    return f"if grep -qs 'run={RUN_ID} ' {quoted}/holder; then rm -rf {quoted}; fi"


def break_command(path: str) -> str:
    return f"rm -rf {shlex.quote(path)}"


def holder_is_dead_here(holder: str) -> bool:
    """True when the holder was a run on this machine whose process no longer exists."""
    match = re.match(r"\S+@(?P<machine>\S+) pid=(?P<pid>\d+) ", holder)
    if not match or match["machine"] != socket.gethostname():
        return False
    try:
        os.kill(int(match["pid"]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _run(command: str) -> tuple[bool, list[str]]:
    status, output = host.run_shell_command(
        StringCommand(command), print_output=False, print_input=False, **connector_arguments()
    )
    return status, output.stdout_lines


@operation()
def host_locked(path: str, holder: str, break_any: bool):
    """
    Take the deploy lock at the start of the run (never while only planning).

    + path: the lock directory on the host
    + holder: who this run is, recorded in the lock
    + break_any: break a lock held by another run (prisma_lock_break)
    """
    if not state.is_executing:
        host.noop("the deploy lock is taken when the run starts")
        return
    for _attempt in range(2):
        ok, lines = _run(take_command(path, holder))
        if ok and lines[:1] == ["taken"]:
            host.noop(f"deploy lock taken ({path})")
            return
        current = " ".join(lines[1:]).strip() or "an unknown run"
        if break_any or holder_is_dead_here(current):
            why = "as asked (prisma_lock_break)" if break_any else "its run is gone"
            host.log(f"breaking the deploy lock held by {current}: {why}", logger.warning)
            _run(break_command(path))
            continue
        break
    yield failure(
        f"the host is locked by another run: {current}. Wait for it to finish, or if that run "
        "is gone, run again with --data prisma_lock_break=true"
    )


@operation()
def host_unlocked(path: str):
    """
    Give the deploy lock back at the end of the run (only if this run holds it).

    + path: the lock directory on the host
    """
    if state.is_executing:
        _run(release_command(path))
    host.noop("deploy lock released")
    yield from ()


@contextmanager
def host_lock(settings: Settings, deploy_file: str, needed: bool = True):
    """Queue taking the deploy lock before the body's operations and giving it back after.

    A run that will change nothing (needed=False) takes none: it cannot interleave with
    anything, and a no-op run stays as cheap as reading the host.
    """
    if needed:
        lock_host(settings, deploy_file)
    yield
    if needed:
        unlock_host(settings)


def lock_host(settings: Settings, deploy_file: str) -> None:
    host_locked(
        name="Take the deploy lock",
        path=lock_path(settings),
        holder=holder_line(deploy_file),
        break_any=settings.prisma_lock_break,
    )


def unlock_host(settings: Settings) -> None:
    host_unlocked(name="Release the deploy lock", path=lock_path(settings))
