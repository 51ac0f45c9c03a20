"""logs.py and status.py: they read the stack and change nothing."""

from __future__ import annotations

from pyinfra.api import deploy

from tasks.actions.preflight import deployed_stack
from tasks.backups.status import backup_status_section
from tasks.settings import Settings
from tasks.stack.commands import logs_command
from tasks.stack.operations import logs_shown, status_reported


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
        sections=(backup_status_section(),) if settings.backup_repository else (),
    )
