"""Small helpers over pyinfra's API that every part of the project uses the same way."""

from __future__ import annotations

from pyinfra import host, logger
from pyinfra.api import FunctionCommand, StringCommand, operation
from pyinfra.api.arguments import CONNECTOR_ARGUMENT_KEYS
from pyinfra.api.host import Host
from pyinfra.connectors.util import CommandOutput

from tasks.work import Work


def log_error(on_host: Host, message: str) -> None:
    """An error line in red, prefixed with the host like pyinfra's own."""
    on_host.log_styled(message, fg="red", log_func=logger.error)


def failure(message: str) -> FunctionCommand:
    """A command that fails this host's operation with a message (never raises: an
    exception in an operation would stop every host, not just this one)."""

    def report(state, on_host: Host) -> bool:
        log_error(on_host, message)
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


@operation()
def already_converged(summary: str):
    """
    Report a part of the host that its one-round-trip reading found already as wanted.

    + summary: what was checked
    """
    host.noop(summary)
    yield from ()


def converged_already(work: Work, part: str, name: str, summary: str) -> bool:
    """True, after queueing one no-change operation, when the plan found nothing for this
    part to do; False, after saying in the debug log what it must do, otherwise."""
    if not work.needed:
        already_converged(name=name, summary=summary)
        return True
    logger.debug(f"{host.print_prefix}{part} needs work: {'; '.join(work.problems)}")
    return False
