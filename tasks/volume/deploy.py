"""The data volume formatted once, mounted through /etc/fstab, holding mysql/."""

from __future__ import annotations

from pyinfra.operations import apt, files, server

from tasks.pyinfra_helpers import converged_already, part_deploy
from tasks.settings import Settings
from tasks.volume import commands
from tasks.volume.facts import DataVolumeState
from tasks.work import Work


@part_deploy("Mount the data volume")
def mount_data_volume(settings: Settings, work: Work[DataVolumeState, None]) -> None:
    """Nothing at all without prisma_data_device; one no-change operation when ready."""
    device, mount = settings.prisma_data_device, settings.prisma_data_mount
    if device is None or converged_already(
        work, "volume", "The data volume is mounted", f"{device} at {mount}"
    ):
        return
    if not work.found.fs_type:
        apt.packages(
            name="Install e2fsprogs (mkfs.ext4)",
            packages=["e2fsprogs"],
            update=True,
            cache_time=3600,
        )
        server.shell(
            name=f"Format {device} ext4 (only when it holds nothing)",
            commands=[commands.format_if_empty(device)],
        )
    files.line(
        name=f"Mount {device} at {mount} at boot (/etc/fstab, nofail)",
        path="/etc/fstab",
        line=f"^{device}\\s",
        replace=commands.fstab_line(device, mount),
    )
    server.shell(name=f"Mount {mount}", commands=[commands.mounted(mount)])
    server.shell(
        name="Make the database directory on the volume",
        commands=[commands.data_dir(settings.database_dir)],
    )
