"""Custom operations of the engine part."""

from __future__ import annotations

from pyinfra import host, state
from pyinfra.api import operation

from tasks.engine.commands import wait_for_apt_locks
from tasks.pyinfra_helpers import connector_arguments, failure, run_quietly


def _holders(lines: list[str]) -> str:
    held = [line.split()[1:4] for line in lines if line.startswith("apt-lock ")]
    return "; ".join(f"{lock} held by process {pid} ({name})" for lock, pid, name in held)


@operation()
def apt_is_free(timeout: int):
    """
    Wait, at most `timeout` seconds, until no other process holds apt's or dpkg's locks;
    then fail naming the holders. apt-get update does not wait for them by itself.

    + timeout: seconds to wait

    Waiting changes nothing: no change either way.
    """
    if state.is_executing:
        free, output = run_quietly(host, wait_for_apt_locks(timeout), connector_arguments())
        if not free:
            yield failure(
                f"apt is still busy after {timeout}s (docker_apt_lock_timeout): "
                f"{_holders(output.stdout_lines)}. Let that process finish (a fresh droplet "
                "upgrades itself for a few minutes), then run again"
            )
            return
    host.noop("no other process holds apt")
