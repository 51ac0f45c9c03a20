"""DataVolume -> DataVolumeState: the device, its file system, where it is mounted and
whether /etc/fstab mounts it."""

from __future__ import annotations

import shlex

import msgspec
from pyinfra.api import FactBase
from typing_extensions import override

from tasks.host.probes import tagged


class DataVolumeState(msgspec.Struct, frozen=True):
    configured: bool = False  # a device was given to read
    device: bool = False  # it is a block device on the host
    fs_type: str = ""  # "" : no file system signature
    mounted: bool = False  # the device is mounted at the mount point
    in_fstab: bool = False
    data_dir: bool = False  # <mount>/mysql exists


def data_volume_probe(device: str, mount: str, data_dir: str) -> str:
    if not device:
        return "true"
    d, m = shlex.quote(device), shlex.quote(mount)
    return (
        f"echo configured; [ -b {d} ] && echo device; "
        f'echo "fstype $(blkid -p -o value -s TYPE {d} 2>/dev/null)"; '
        f"mountpoint -q {m} 2>/dev/null && "
        f'[ "$(mountpoint -d {m})" = "$(mountpoint -x {d} 2>/dev/null)" ] && echo mounted; '
        f"grep -qsE '^{device}[[:space:]]+{mount}[[:space:]]' /etc/fstab && echo fstab; "
        f"[ -d {shlex.quote(data_dir)} ] && echo datadir; true"
    )


def parse_data_volume(lines: list[str]) -> DataVolumeState:
    tags = {tag: rest.strip() for tag, rest, _ in tagged(lines)}
    return DataVolumeState(
        configured="configured" in tags,
        device="device" in tags,
        fs_type=tags.get("fstype", ""),
        mounted="mounted" in tags,
        in_fstab="fstab" in tags,
        data_dir="datadir" in tags,
    )


class DataVolume(FactBase[DataVolumeState]):
    """The data volume's device, file system, mount and fstab line."""

    @override
    def command(self, device: str, mount: str, data_dir: str) -> str:
        return data_volume_probe(device, mount, data_dir)

    @override
    @staticmethod
    def default() -> DataVolumeState:
        return DataVolumeState()

    @override
    def process(self, output) -> DataVolumeState:
        return parse_data_volume(list(output))
