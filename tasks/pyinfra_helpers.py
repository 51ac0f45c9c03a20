"""Small helpers over pyinfra's API that every part of the project uses the same way.

A function run by a FunctionCommand takes `(state, host, ...)`: pyinfra passes state and
host only when the parameters have exactly these names."""

from __future__ import annotations

import functools
import shlex
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, ParamSpec

from pyinfra import host, logger
from pyinfra.api import FunctionCommand, StringCommand, deploy, operation
from pyinfra.api.arguments import CONNECTOR_ARGUMENT_KEYS
from pyinfra.api.host import Host
from pyinfra.connectors.util import CommandOutput

from tasks.work import Work

# The first reason each host failed for, as this project said it (for the run's summary).
FAILURES: dict[str, str] = {}


def record_failure(host_name: str, reason: str) -> None:
    FAILURES.setdefault(host_name, reason)


def log_error(on_host: Host, message: str) -> None:
    """An error line in red, prefixed with the host like pyinfra's own; the first one of
    each host is its reason in the run's summary."""
    on_host.log_styled(message, fg="red", log_func=logger.error)
    record_failure(on_host.name, message)


def failure(message: str) -> FunctionCommand:
    """A command that fails this host's operation with a message (never raises: an
    exception in an operation would stop every host, not just this one)."""

    def report(state, host: Host) -> bool:
        log_error(host, message)
        return False

    return FunctionCommand(report, (), {})


def connector_arguments() -> dict:
    """The running operation's connection arguments (sudo etc.), for FunctionCommands."""
    arguments = host.current_op_global_arguments or {}
    return {key: arguments[key] for key in CONNECTOR_ARGUMENT_KEYS if key in arguments}


def run_quietly(on_host: Host, command: str, arguments: dict) -> tuple[bool, CommandOutput]:
    """Run a command whose output this project prints itself (masked), or not at all."""
    return on_host.run_shell_command(
        StringCommand(command), print_output=False, print_input=False, **arguments
    )


def _as_ssh_user(arguments: dict) -> dict:
    return {**arguments, "_sudo": False}


@contextmanager
def private_transfer_dir(on_host: Host, arguments: dict) -> Iterator[str | None]:
    """A directory only the SSH user can enter, for the temp copies pyinfra makes when it
    moves a file through sudo (world-readable copies in /tmp otherwise); None without sudo,
    where files move directly. Removed afterwards."""
    if not arguments.get("_sudo"):
        yield None
        return
    made, output = run_quietly(
        on_host, "mktemp -d /tmp/prisma-transfer.XXXXXXXX", _as_ssh_user(arguments)
    )
    if not made or not output.stdout.strip():
        raise OSError(f"could not make a private transfer directory: {output.stderr.strip()}")
    directory = output.stdout.strip()
    try:
        yield directory
    finally:
        run_quietly(on_host, f"rm -rf {shlex.quote(directory)}", _as_ssh_user(arguments))


def put_private_file(on_host: Host, source: str | IO[str], path: str, arguments: dict) -> bool:
    """Upload source (a local file name, or a text stream) to path on the host, 0600 and
    root's from the first byte on: never readable by others, not even for the moment of
    the transfer."""
    quoted = shlex.quote(path)
    created, _ = run_quietly(on_host, f"install -m 600 /dev/null {quoted}", arguments)
    if not created:
        return False
    with private_transfer_dir(on_host, arguments) as directory:
        temp = f"{directory}/upload" if directory else None
        if temp:
            # pyinfra copies the temp file over the 0600 file with cp, which keeps its mode.
            run_quietly(on_host, f"install -m 600 /dev/null {temp}", _as_ssh_user(arguments))
        return on_host.put_file(source, path, remote_temp_filename=temp, **arguments)


@operation()
def already_converged(summary: str):
    """
    Report a part of the host that its one-round-trip reading found already as wanted.

    + summary: what was checked
    """
    host.noop(summary)
    yield from ()


# Per host, while no_operation_when_converged() gathers them: the names of the parts found
# as wanted.
_CONVERGED_PARTS: dict[str, list[str]] = {}


def converged_already(work: Work, part: str, name: str, summary: str) -> bool:
    """True, after queueing one no-change operation (or, while no_operation_when_converged()
    gathers, adding the part's name to the host's one line), when the plan found
    nothing for this part to do; False, after saying in the debug log what it must do,
    otherwise."""
    if not work.needed:
        gathered = _CONVERGED_PARTS.get(host.name)
        if gathered is None:
            already_converged(name=name, summary=summary)
        else:
            gathered.append(name)
        return True
    logger.debug(f"{host.print_prefix}{part} needs work: {'; '.join(work.problems)}")
    return False


P = ParamSpec("P")


def part_deploy(name: str) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """pyinfra's @deploy(name) for one part of deploy.py, left out on a host whose plan
    changes nothing (while no_operation_when_converged() gathers): there the part only
    adds its name to the host's one line, and pyinfra's wrapper, which reads
    every global argument again on each call, costs about 0.25 ms of this machine's CPU,
    some 2 ms for the parts of every converged host. A part that queued an operation
    there would be a bug in the plan: it raises."""

    def decorator(func: Callable[P, None]) -> Callable[P, None]:
        wrapped = deploy(name)(func)

        @functools.wraps(func)
        def call(*args: P.args, **kwargs: P.kwargs) -> None:
            if host.name not in _CONVERGED_PARTS:
                wrapped(*args, **kwargs)
                return
            queued = len(host.op_hash_order)
            func(*args, **kwargs)
            if len(host.op_hash_order) != queued:
                raise RuntimeError(f"{name}: an operation queued on a host found converged")

        return call

    return decorator


@contextmanager
def no_operation_when_converged(changes_anything: bool) -> Iterator[None]:
    """When the plan changes nothing on this host, its parts queue no operation: the run
    says `Nothing to change: <each part's name>` for the host instead, at pyinfra's
    default verbosity. pyinfra walks the Python stack (inspect.stack()) for every
    operation it queues, and its first walk in a run resolves the real path of every
    module loaded: about 35 ms of CPU, then about 2 ms a host, most of what a converged
    fleet's no-op cost pyinfra's process beyond the read."""
    if changes_anything:
        yield
        return
    _CONVERGED_PARTS[host.name] = []
    try:
        yield
        parts = _CONVERGED_PARTS[host.name]
    finally:
        del _CONVERGED_PARTS[host.name]
    logger.info(f"{host.print_prefix}Nothing to change: {'; '.join(parts)}")


def send_small_packets_at_once(on_host: Host) -> None:
    """TCP_NODELAY on the host's SSH socket, when it is one (not under @local, nor behind
    a proxy command).

    Paramiko leaves Nagle's algorithm on, so a small packet it sends right after another
    (the end of a command's input after the request to run it) waits until the first is
    acknowledged, which the server delays by up to 40 ms: measured here, a command that
    prints a line took about 50 ms where it takes 4 ms with this set.
    """
    client = getattr(on_host.connector, "client", None)
    transport = client.get_transport() if client is not None else None
    sock = getattr(transport, "sock", None)
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
