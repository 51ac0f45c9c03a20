"""
upgrade.py and rollback.py: newer images for the configured tags, with the images that
ran before recorded on the host so a failed upgrade rolls itself back.

The record, `<stack dir>/.previous-images`, has one line per service:
`<service> <image id> <image reference> <repository@digest or ->`.
"""

from __future__ import annotations

import shlex

from pyinfra import host, logger, state
from pyinfra.api import FunctionCommand, deploy, operation
from pyinfra.facts.files import FileContents

from tasks import commands
from tasks.commands import StackPaths
from tasks.facts import ComposeStack, StackState
from tasks.lifecycle import deployed_stack
from tasks.operations import connector_arguments, failure, run_quietly, wait_until_ok
from tasks.redaction import redact
from tasks.settings import Settings
from tasks.stack import service_images

RECORD_NAME = ".previous-images"


def record_path(paths: StackPaths) -> str:
    return f"{paths.directory}/{RECORD_NAME}"


def running_images(stack: StackState) -> dict[str, str]:
    """Image ID per service, of the containers that exist now."""
    return {container.service: container.image_id for container in stack.containers}


def changed_services(stack: StackState, service_images: dict[str, str]) -> list[str]:
    """Services whose container runs another image than its reference now points at."""
    running = running_images(stack)
    return sorted(
        service
        for service, reference in service_images.items()
        if stack.image_id(reference) and running.get(service) != stack.image_id(reference)
    )


def record_lines(stack: StackState, service_images: dict[str, str]) -> list[str]:
    running = running_images(stack)
    return [
        f"{service} {running[service]} {reference} "
        f"{stack.digest_reference(running[service]) or '-'}"
        for service, reference in sorted(service_images.items())
        if service in running
    ]


def parse_record(lines: list[str]) -> dict[str, tuple[str, str, str]]:
    """service -> (image id, reference, digest reference or '')."""
    recorded = {}
    for line in lines:
        parts = line.split()
        if len(parts) == 4:
            service, image_id, reference, digest = parts
            recorded[service] = (image_id, reference, "" if digest == "-" else digest)
    return recorded


def retag_commands(recorded: dict[str, tuple[str, str, str]], services: list[str]) -> list[str]:
    """Point each service's reference back at its recorded image (pulled by digest if gone)."""
    result = []
    for service in services:
        image_id, reference, digest = recorded[service]
        fetch = f"docker image inspect {image_id} >/dev/null 2>&1"
        if digest:
            fetch += f" || docker pull --quiet {shlex.quote(digest)} >/dev/null"
        result.append(f"{fetch} && docker tag {image_id} {shlex.quote(reference)}")
    return result


def _wait_or_roll_back(state, host, paths, url, timeout, rollback, arguments) -> bool:
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
            host.log_styled(
                f"rollback failed: {redact(output.stderr)}", fg="red", log_func=logger.error
            )
            return False
    recovered = wait_until_ok(state, host, url, timeout, paths, arguments)
    outcome = "the server answers again" if recovered else "but the server still does not answer"
    host.log_styled(
        f"the upgrade failed and was rolled back to the previous images; {outcome}",
        fg="red",
        log_func=logger.error,
    )
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
        pulled, output = run_quietly(
            host, commands.compose(paths, "pull --quiet"), connector_arguments()
        )
        if not pulled:
            yield failure(f"docker compose pull failed: {redact(output.stderr)}")
            return
    stack = host.get_fact(ComposeStack, paths=paths)
    changed = changed_services(stack, service_images)
    if not changed:
        host.noop("every service already runs the newest image of its tag")
        return
    recorded = parse_record(record_lines(stack, service_images))
    lines = " ".join(shlex.quote(line) for line in record_lines(stack, service_images))
    yield f"printf '%s\\n' {lines} > {shlex.quote(record_path(paths))}"
    yield commands.compose_up(paths)
    yield FunctionCommand(
        _wait_or_roll_back,
        (paths, url, timeout, retag_commands(recorded, changed), connector_arguments()),
        {},
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
    running = running_images(host.get_fact(ComposeStack, paths=paths))
    services = sorted(s for s, (image_id, _, _) in recorded.items() if running.get(s) != image_id)
    if not services:
        host.noop("the services already run the recorded images")
        return
    yield from retag_commands(recorded, services)
    yield commands.compose_up(paths)
    yield FunctionCommand(wait_until_ok, (url, timeout, paths, connector_arguments()), {})


@deploy("Upgrade the Prisma stack")
def upgrade_stack(settings: Settings) -> None:
    stack_upgraded(
        name="Pull the tags; recreate what changed; roll back if Prisma does not answer",
        paths=deployed_stack(settings),
        service_images=service_images(settings),
        url=settings.health_url,
        timeout=settings.prisma_health_timeout,
    )


@deploy("Roll the Prisma stack back")
def roll_back_stack(settings: Settings) -> None:
    stack_rolled_back(
        name="Return to the images recorded before the last upgrade",
        paths=deployed_stack(settings),
        url=settings.health_url,
        timeout=settings.prisma_health_timeout,
    )
