"""
The old `prisma local start|stop|nuke` and `prisma cluster logs`, as operations on a
deployed stack. Each works on the files deploy.py put on the host.
"""

from __future__ import annotations

import datetime
import json
import shlex
from dataclasses import asdict, dataclass

import click
from pyinfra import host, state
from pyinfra.api import StringCommand, deploy, operation

from tasks import commands
from tasks.backup import database_backed_up, database_restored, local_backup_dir, verified_dump
from tasks.commands import SERVICES, StackPaths
from tasks.errors import HostRefused
from tasks.facts import ComposeStack, StackFiles, normalize_reference
from tasks.operations import connector_arguments, failure, server_answers
from tasks.redaction import redact, register_secrets
from tasks.secrets import known_secret_values
from tasks.settings import Settings
from tasks.stack import converge_and_wait


class NoStackError(HostRefused):
    """The host has no deployed stack to act on."""


class ConsentError(HostRefused):
    """A destructive action was asked for without the consent that names the host."""


def deployed_stack(settings: Settings) -> StackPaths:
    """The stack's paths; stops the run before any change if deploy.py never ran here.

    Also masks every secret this machine knows for the host in all output, since the
    lifecycle files print logs and errors of the services.
    """
    register_secrets(known_secret_values(settings))
    paths = StackPaths.of(settings)
    files = host.get_fact(StackFiles, paths=paths)
    if not (files.of(paths.compose_file).exists and files.of(paths.env_file).exists):
        raise NoStackError(
            f"host {settings.host_name}: no Prisma stack in {paths.directory}; run deploy.py first"
        )
    return paths


def require_consent(settings: Settings, setting: str, action: str) -> None:
    """Stop the run unless host data `setting` names this host exactly."""
    given = getattr(settings, setting)
    if given != settings.host_name:
        got = "was not given" if given is None else f"names {given!r}"
        raise ConsentError(
            f"host {settings.host_name}: refusing to {action} without consent ({setting} "
            f"{got}). To go ahead, run again with --data {setting}={settings.host_name}"
        )


# ---------------------------------------------------------------------------
# stop / start
# ---------------------------------------------------------------------------


@operation()
def stack_stopped(paths: StackPaths):
    """
    Stop the stack's containers, keeping them, their volume and the data.

    + paths: the stack

    Nothing running: no change.
    """
    running = [
        c for c in host.get_fact(ComposeStack, paths=paths).containers if c.status == "running"
    ]
    if not running:
        host.noop("the stack is already stopped")
        return
    yield commands.compose(paths, "stop")


# ---------------------------------------------------------------------------
# logs
# ---------------------------------------------------------------------------


def logs_command(paths: StackPaths, settings: Settings) -> str:
    arguments = ["logs", "--no-color", "--timestamps", f"--tail {settings.logs_lines}"]
    if settings.logs_since:
        arguments.append(f"--since {shlex.quote(settings.logs_since)}")
    if settings.logs_follow:
        arguments.append("--follow")
    services = SERVICES if settings.logs_service == "all" else (settings.logs_service,)
    return commands.compose(paths, *arguments, *services)


@operation()
def logs_shown(command: str):
    """
    Print the services' logs, each line prefixed with the host it came from.

    + command: the `compose logs` command to run

    Reading logs changes nothing, so this reports no change; lines go to stderr like
    the rest of pyinfra's output, secrets masked.
    """
    if state.is_executing:
        status, _ = host.run_shell_command(
            StringCommand(command), print_output=True, print_input=False, **connector_arguments()
        )
        if not status:
            yield failure("docker compose logs failed (see above)")
            return
    host.noop("logs shown")


# ---------------------------------------------------------------------------
# status
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceStatus:
    service: str
    state: str
    health: str
    image: str
    image_id: str
    digest: str
    started_at: str
    uptime_seconds: int | None


def _uptime(started_at: str, now: datetime.datetime) -> int:
    # Docker writes UTC with nanoseconds ("2026-11-28T06:13:26.123456789Z"); seconds do.
    started = datetime.datetime.fromisoformat(started_at.split(".")[0].rstrip("Z") + "+00:00")
    return max(0, int((now - started).total_seconds()))


def service_statuses(lines: list[str], now: datetime.datetime) -> tuple[list[ServiceStatus], str]:
    """Parse commands.status_report output into per-service rows and the /status body."""
    images: dict[str, dict] = {}
    containers: list[dict] = []
    body = ""
    for line in lines:
        tag, _, rest = line.partition(" ")
        if tag == "inspect" and rest.strip():
            containers.append(json.loads(rest))
        elif tag == "images" and rest.strip():
            images = {image["Id"]: image for image in json.loads(rest)}
        elif tag == "status":
            body = rest.strip()
    rows = []
    for container in containers:
        image = images.get(container["image_id"], {})
        repository = normalize_reference(container["image"]).rsplit(":", 1)[0].split("@")[0]
        digest = next(
            (
                d.split("@", 1)[1]
                for d in image.get("RepoDigests") or []
                if d.startswith(repository + "@")
            ),
            "",
        )
        running = container["state"] == "running" and bool(container["started_at"])
        rows.append(
            ServiceStatus(
                service=container["service"],
                state=container["state"],
                health=container["health"] or "-",
                image=container["image"],
                image_id=container["image_id"],
                digest=digest,
                started_at=container["started_at"] if running else "",
                uptime_seconds=_uptime(container["started_at"], now) if running else None,
            )
        )
    return sorted(rows, key=lambda row: row.service), body


def _human_duration(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {seconds}s"


def status_table(host_name: str, rows: list[ServiceStatus], body: str, url: str) -> str:
    header = ("SERVICE", "STATE", "HEALTH", "UPTIME", "IMAGE", "DIGEST")
    cells = [header] + [
        (
            r.service,
            r.state,
            r.health,
            _human_duration(r.uptime_seconds),
            r.image,
            (r.digest or r.image_id)[:19],
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [f"[{host_name}]"]
    for row in cells:
        padded = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append(("  " + "  ".join(padded)).rstrip())
    answer = "OK" if body == "OK" else f"not OK ({body or 'no answer'})"
    lines.append(f"  GET {url}: {answer}")
    return "\n".join(lines)


def status_document(host_name: str, rows: list[ServiceStatus], body: str, url: str) -> str:
    return json.dumps(
        {
            "host": host_name,
            "services": [asdict(row) for row in rows],
            "status_url": url,
            "status_ok": body == "OK",
            "status_body": body,
        },
        sort_keys=True,
    )


@operation()
def status_reported(paths: StackPaths, url: str, output_format: str, host_name: str):
    """
    Print each service's state, health, image and digest, uptime, and whether GET
    /status answers OK: a table for people or one JSON object per host for scripts.

    + paths: the stack
    + url: the status URL as seen from the host
    + output_format: 'table' or 'json'
    + host_name: how the host is named in the output

    Reading changes nothing, so this reports no change. JSON goes to stdout alone.
    """
    if state.is_executing:
        status, output = host.run_shell_command(
            StringCommand(commands.status_report(paths, url)),
            print_output=False,
            print_input=False,
            **connector_arguments(),
        )
        if not status:
            yield failure(f"could not read the stack's status: {redact(output.stderr)}")
            return
        now = datetime.datetime.now(datetime.timezone.utc)
        rows, body = service_statuses(output.stdout_lines, now)
        if output_format == "json":
            click.echo(status_document(host_name, rows, body, url))
        else:
            click.echo(status_table(host_name, rows, body, url), err=True)
    host.noop("status reported")


# ---------------------------------------------------------------------------
# nuke
# ---------------------------------------------------------------------------


@operation(is_idempotent=False)
def stack_reset(paths: StackPaths):
    """
    Hard-reset the stack to an empty database: kill, down with volumes and orphans, up.

    + paths: the stack

    Always changes the host; deploy files call it only with the host's named consent.
    """
    yield commands.compose(paths, "kill")
    yield commands.compose(paths, "down --volumes --remove-orphans")
    yield commands.compose_up(paths)


# ---------------------------------------------------------------------------
# Deploy functions of the lifecycle files
# ---------------------------------------------------------------------------


@deploy("Start the Prisma stack")
def start_stack(settings: Settings) -> None:
    converge_and_wait(settings, deployed_stack(settings), verb="Start")


@deploy("Stop the Prisma stack")
def stop_stack(settings: Settings) -> None:
    stack_stopped(
        name="Stop the containers (they, the volume and the data are kept)",
        paths=deployed_stack(settings),
    )


@deploy("Show the Prisma stack's logs")
def show_logs(settings: Settings) -> None:
    logs_shown(name="Show the logs", command=logs_command(deployed_stack(settings), settings))


@deploy("Report the Prisma stack's status")
def report_status(settings: Settings) -> None:
    status_reported(
        name="Report the status",
        paths=deployed_stack(settings),
        url=settings.health_url,
        output_format=settings.status_format,
        host_name=settings.host_name,
    )


@deploy("Nuke the Prisma stack")
def nuke_stack(settings: Settings) -> None:
    """prisma local nuke: back up, kill, down with volumes, up, wait: an empty database."""
    require_consent(settings, "nuke_confirm", "delete the database volume")
    paths = deployed_stack(settings)
    if settings.nuke_backup:
        back_up(settings, paths)
    stack_reset(
        name="Reset the stack: kill, down (volumes, orphans), up",
        paths=paths,
    )
    server_answers(
        name="Wait until Prisma answers GET /status",
        url=settings.health_url,
        timeout=settings.prisma_health_timeout,
        paths=paths,
    )


def back_up(settings: Settings, paths: StackPaths) -> None:
    database_backed_up(
        name="Back up the databases (kept on the host and downloaded)",
        paths=paths,
        keep=settings.backup_keep,
        local_dir=str(local_backup_dir(settings.host_name)),
    )


@deploy("Back up the Prisma databases")
def back_up_database(settings: Settings) -> None:
    back_up(settings, deployed_stack(settings))


@deploy("Restore the Prisma databases")
def restore_database(settings: Settings) -> None:
    if settings.restore_file is None:
        raise ConsentError(
            f"host {settings.host_name}: say which dump to load with "
            "--data restore_file=backups/<host>/<file>.sql.gz"
        )
    require_consent(settings, "restore_confirm", "overwrite the databases in the dump")
    dump, sha256 = verified_dump(settings.restore_file)
    database_restored(
        name="Upload the dump, check its checksum and load it",
        paths=deployed_stack(settings),
        local_file=str(dump),
        sha256=sha256,
    )
