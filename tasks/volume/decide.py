"""What the data volume needs (pure); a device that is missing or holds another file
system is refused before anything changes: it is never reformatted."""

from __future__ import annotations

from tasks.errors import HostRefused
from tasks.settings import Settings
from tasks.volume.facts import DataVolumeState

FS_TYPE = "ext4"


def volume_problems(settings: Settings, found: DataVolumeState) -> list[str]:
    if settings.prisma_data_device is None:
        return []
    device = settings.prisma_data_device
    if not found.device:
        raise HostRefused(
            f"host {settings.host_name}: prisma_data_device {device} is not a block device "
            "on the host (is the volume attached?)"
        )
    if found.fs_type not in ("", FS_TYPE):
        raise HostRefused(
            f"host {settings.host_name}: {device} holds a {found.fs_type} file system; the "
            f"deploy formats only an empty device ({FS_TYPE}) and never reformats one"
        )
    problems = [] if found.fs_type else [f"{device} has no file system: format it {FS_TYPE}"]
    if not found.in_fstab:
        problems.append(f"/etc/fstab does not mount {device}")
    if not found.mounted:
        problems.append(f"{device} is not mounted at {settings.prisma_data_mount}")
    if not found.data_dir:
        problems.append("the database directory on the volume is missing")
    return problems
