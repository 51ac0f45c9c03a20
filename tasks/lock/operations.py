"""
Taking and giving back the deploy lock, as operations queued around a file's work.

pyinfra drops a host whose operation fails, so the release queued at the end never runs
for it: the lock is then given back by a state callback on the operation's failure,
while the host's connection is still open.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pyinfra import host, logger, state
from pyinfra.api import operation
from pyinfra.api.host import Host
from pyinfra.api.state import BaseStateCallback, State

from tasks.lock.commands import break_command, lock_path, release_command, take_command
from tasks.lock.holder import RUN_ID, holder_is_dead_here, holder_line
from tasks.pyinfra_helpers import connector_arguments, failure, run_quietly
from tasks.settings import Settings


class _ReleaseOnFailure(BaseStateCallback):
    """Gives back the locks this run holds on hosts whose operation failed."""

    held: dict[str, tuple[str, dict]] = {}  # host name -> (lock path, connector arguments)

    @staticmethod
    def operation_host_error(state: State, host: Host, op_hash, retry_count=0, max_retries=0):
        if retry_count < max_retries or host.name not in _ReleaseOnFailure.held:
            return
        path, arguments = _ReleaseOnFailure.held.pop(host.name)
        released, _ = run_quietly(host, release_command(path, RUN_ID), arguments)
        if released:
            host.log("deploy lock released after the failure", logger.warning)


_release_on_failure = _ReleaseOnFailure()


def _run(command: str) -> tuple[bool, list[str]]:
    status, output = run_quietly(host, command, connector_arguments())
    return status, output.stdout_lines


def _take(path: str, holder: str, break_any: bool) -> str | None:
    """Take the lock; None when taken, else who holds it."""
    current = "an unknown run"
    for _attempt in range(2):
        ok, lines = _run(take_command(path, holder))
        if ok and lines[:1] == ["taken"]:
            return None
        current = " ".join(lines[1:]).strip() or "an unknown run"
        if not (break_any or holder_is_dead_here(current)):
            break
        why = "as asked (prisma_lock_break)" if break_any else "its run is gone"
        host.log(f"breaking the deploy lock held by {current}: {why}", logger.warning)
        _run(break_command(path, current))
    return current


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
    current = _take(path, holder, break_any)
    if current is None:
        _ReleaseOnFailure.held[host.name] = (path, connector_arguments())
        if _release_on_failure not in state.callback_handlers:
            state.add_callback_handler(_release_on_failure)
        host.noop(f"deploy lock taken ({path})")
        return
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
        _ReleaseOnFailure.held.pop(host.name, None)
        _run(release_command(path, RUN_ID))
    host.noop("deploy lock released")
    yield from ()


@contextmanager
def host_lock(settings: Settings, deploy_file: str, needed: bool = True) -> Iterator[None]:
    """Queue taking the deploy lock before the body's operations and giving it back after.

    A run that will change nothing (needed=False) takes none: it cannot interleave with
    anything, and a no-op run stays as cheap as reading the host.
    """
    path = lock_path(settings.prisma_project_name)
    if needed:
        host_locked(
            name="Take the deploy lock",
            path=path,
            holder=holder_line(deploy_file),
            break_any=settings.prisma_lock_break,
        )
    yield
    if needed:
        host_unlocked(name="Release the deploy lock", path=path)
