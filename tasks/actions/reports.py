"""logs.py and status.py: they read the stack and change nothing."""

from __future__ import annotations

from pyinfra.api import deploy

from tasks.actions.preflight import reported_stack
from tasks.backups.commands import offsite_status_probe
from tasks.backups.status import backup_table_lines, read_backup_status
from tasks.reports.commands import logs_command
from tasks.reports.operations import logs_shown, status_reported
from tasks.reports.status import StatusSection
from tasks.settings import Settings


@deploy("Show the Prisma stack's logs")
def show_logs(settings: Settings) -> None:
    paths = reported_stack(settings)
    logs_shown(
        name="Show the logs",
        paths=paths,
        command=logs_command(paths, settings),
        host_name=settings.host_name,
    )


def _backup_section() -> StatusSection:
    """Off-site backups in the report: the last backup, a failure since, the last
    verification, the next run."""
    return StatusSection("backups", offsite_status_probe(), read_backup_status, backup_table_lines)


@deploy("Report the Prisma stack's status")
def report_status(settings: Settings) -> None:
    status_reported(
        name="Report the status",
        paths=reported_stack(settings),
        url=settings.health_url,
        output_format=settings.status_format,
        host_name=settings.host_name,
        domain=settings.prisma_domain or "",
        sections=(_backup_section(),) if settings.backup_repository else (),
    )
