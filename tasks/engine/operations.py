"""Custom operations of the engine part."""

from __future__ import annotations

from pyinfra import host, state
from pyinfra.api import operation

from tasks.engine.commands import (
    make_swap_file,
    remove_swap_file,
    wait_for_apt_locks,
    write_root_file,
)
from tasks.engine.config_files import DAEMON_JSON
from tasks.engine.decide import swap_problems
from tasks.engine.facts import Swap
from tasks.host.paths import PathState
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


@operation()
def swap_file(size: str | None):
    """
    The swap file prisma_swap_size asks for: made (0600, in use, in /etc/fstab) or made
    again at another size; removed when no size is given.

    + size: '1G', '512M', or None for no swap file
    """
    problems = swap_problems(host.get_fact(Swap), size)
    if not problems:
        host.noop(f"the swap file is as wanted ({size or 'none'})")
        return
    yield make_swap_file(size) if size else remove_swap_file()


@operation()
def daemon_json(content: str, current: PathState):
    """
    Write /etc/docker/daemon.json (root's, 0644) in one command when it differs from
    content: files.put would first read four facts, each a round trip.

    + content: the file as it should be
    + current: the file as the host read found it
    """
    if current.is_owned_by_root("file", 644) and current.has_content(content):
        host.noop(f"{DAEMON_JSON} is up to date")
        return
    yield write_root_file(DAEMON_JSON, content, 644)
