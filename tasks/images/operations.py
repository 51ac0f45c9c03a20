"""Custom operations of upgrade.py and rollback.py."""

from __future__ import annotations

from pyinfra import host, logger, state
from pyinfra.api import FunctionCommand, operation
from pyinfra.api.host import Host
from pyinfra.facts.files import FileContents

from tasks.images.commands import retag_commands, write_record_command
from tasks.images.decide import changed_services, services_off_record
from tasks.images.record import parse_record, record_lines, record_path
from tasks.pyinfra_helpers import connector_arguments, failure, log_error, run_quietly
from tasks.redaction import redact
from tasks.stack import commands
from tasks.stack.facts import ComposeProject
from tasks.stack.layout import StackPaths
from tasks.stack.operations import wait_until_ok


def _wait_or_roll_back(state, host: Host, paths, url, timeout, rollback, arguments) -> bool:
    if wait_until_ok(state, host, url, timeout, paths, arguments):
        return True
    host.log_styled(
        "rolling back to the images recorded before the upgrade",
        fg="yellow",
        log_func=logger.warning,
    )
    for command in [*rollback, commands.compose_up(paths)]:
        done, output = run_quietly(host, command, arguments)
        if not done:
            log_error(host, f"rollback failed: {redact(output.stderr)}")
            return False
    recovered = wait_until_ok(state, host, url, timeout, paths, arguments)
    outcome = "the server answers again" if recovered else "but the server still does not answer"
    log_error(host, f"the upgrade failed and was rolled back to the previous images; {outcome}")
    return False


@operation()
def stack_upgraded(paths: StackPaths, service_images: dict[str, str], url: str, timeout: int):
    """
    Pull the configured tags; recreate only the services whose image changed, after
    recording the images they ran; roll back to those if the server does not answer.

    + paths: the stack
    + service_images: image reference per service
    + url: the status URL as seen from the host
    + timeout: seconds the upgraded server has to answer OK

    Nothing newer in the registry: no change (pulling alone changes no container).
    The database volume is never touched.
    """
    if state.is_executing:
        # Pulling is how we learn whether the registry has something newer.
        pull = commands.compose(paths, "pull --quiet")
        pulled, output = run_quietly(host, pull, connector_arguments())
        if not pulled:
            yield failure(f"docker compose pull failed: {redact(output.stderr)}")
            return
    project = host.get_fact(ComposeProject, paths=paths)
    changed = changed_services(project, service_images)
    if not changed:
        host.noop("every service already runs the newest image of its tag")
        return
    lines = record_lines(project, service_images)
    yield write_record_command(paths, lines)
    yield commands.compose_up(paths)
    rollback = retag_commands(parse_record(lines), changed)
    yield FunctionCommand(
        _wait_or_roll_back, (paths, url, timeout, rollback, connector_arguments()), {}
    )


@operation()
def stack_rolled_back(paths: StackPaths, url: str, timeout: int):
    """
    Return every service to the image recorded before the last upgrade.

    + paths: the stack
    + url: the status URL as seen from the host
    + timeout: seconds the server has to answer OK afterwards

    Already on the recorded images: no change.
    """
    recorded = parse_record(host.get_fact(FileContents, path=record_path(paths)) or [])
    if not recorded:
        yield failure(
            f"no upgrade was recorded on this host ({record_path(paths)}); nothing to roll back to"
        )
        return
    services = services_off_record(recorded, host.get_fact(ComposeProject, paths=paths))
    if not services:
        host.noop("the services already run the recorded images")
        return
    yield from retag_commands(recorded, services)
    yield commands.compose_up(paths)
    yield FunctionCommand(wait_until_ok, (url, timeout, paths, connector_arguments()), {})
