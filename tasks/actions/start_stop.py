"""start.py, stop.py and nuke.py: the stack brought up, stopped, or reset to empty."""

from __future__ import annotations

from pyinfra.api import deploy

from tasks.actions.backup import back_up
from tasks.actions.preflight import deployed_stack, require_consent
from tasks.settings import Settings
from tasks.stack.deploy import converge_and_wait, wait_for_server
from tasks.stack.operations import stack_reset, stack_stopped


@deploy("Start the Prisma stack")
def start_stack(settings: Settings) -> None:
    deployed_stack(settings)
    converge_and_wait(settings, verb="Start")


@deploy("Stop the Prisma stack")
def stop_stack(settings: Settings) -> None:
    stack_stopped(
        name="Stop the containers (they, the volume and the data are kept)",
        paths=deployed_stack(settings),
    )


@deploy("Nuke the Prisma stack")
def nuke_stack(settings: Settings) -> None:
    """prisma local nuke: back up, kill, down with volumes, up, wait: an empty database."""
    require_consent(settings, "nuke_confirm", "delete the database volume")
    paths = deployed_stack(settings)
    if settings.nuke_backup:
        back_up(settings, paths, reason="nuke.py")
    stack_reset(name="Reset the stack: kill, down (volumes, orphans), up", paths=paths)
    wait_for_server(settings)
