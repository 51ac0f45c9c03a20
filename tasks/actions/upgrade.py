"""upgrade.py and rollback.py: newer images for the configured tags, and back again."""

from __future__ import annotations

from pyinfra.api import deploy

from tasks.actions.backup import back_up_offsite
from tasks.actions.preflight import deployed_stack
from tasks.images.operations import stack_rolled_back, stack_upgraded
from tasks.settings import Settings
from tasks.stack.layout import service_images


@deploy("Upgrade the Prisma stack")
def upgrade_stack(settings: Settings) -> None:
    """A snapshot in the off-site repository first (when configured: a failed backup stops
    the upgrade), then the upgrade."""
    paths = deployed_stack(settings)
    back_up_offsite(settings, reason="upgrade.py")
    stack_upgraded(
        name="Pull the tags; recreate what changed; roll back if Prisma does not answer",
        paths=paths,
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
