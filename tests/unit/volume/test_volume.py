"""The data volume: read, decided, and never reformatted."""

from __future__ import annotations

import pytest

from tasks.errors import HostRefused
from tasks.settings import load_settings
from tasks.stack.compose_file import compose_document
from tasks.volume.commands import format_if_empty, fstab_line
from tasks.volume.decide import volume_problems
from tasks.volume.facts import DataVolumeState, parse_data_volume

DEVICE = "/dev/disk/by-id/scsi-0DO_Volume_prisma-01-data"
ON_VOLUME = load_settings("h", {"prisma_data_device": DEVICE})


def test_a_ready_volume_needs_nothing_and_none_configured_reads_nothing():
    ready = parse_data_volume(
        ["configured", "device", "fstype ext4", "mounted", "fstab", "datadir"]
    )
    assert volume_problems(ON_VOLUME, ready) == []
    assert volume_problems(load_settings("h", {}), DataVolumeState()) == []


def test_an_empty_device_is_formatted_mounted_and_given_the_database_directory():
    fresh = parse_data_volume(["configured", "device", "fstype "])
    problems = volume_problems(ON_VOLUME, fresh)
    assert len(problems) == 4 and "format it ext4" in problems[0]


@pytest.mark.parametrize(
    "lines,message",
    [(["configured"], "is not a block device"), (["device", "fstype xfs"], "never reformats")],
)
def test_a_missing_device_or_another_file_system_is_refused(lines, message):
    with pytest.raises(HostRefused, match=message):
        volume_problems(ON_VOLUME, parse_data_volume(lines))


def test_formatting_happens_only_when_blkid_finds_no_signature():
    command = format_if_empty(DEVICE)
    assert command.startswith(f"blkid -p {DEVICE} >/dev/null 2>&1; found=$?;")
    assert "if [ $found -eq 2 ]; then mkfs.ext4" in command
    assert fstab_line(DEVICE, "/mnt/prisma-data").endswith(
        "ext4 defaults,nofail,discard,noatime 0 2"
    )


def test_the_database_volume_is_bound_to_the_mounted_directory():
    volume = compose_document(ON_VOLUME)["volumes"]["db-persistence"]
    assert volume == {
        "driver": "local",
        "driver_opts": {"type": "none", "o": "bind", "device": "/mnt/prisma-data/mysql"},
    }
    assert compose_document(load_settings("h", {}))["volumes"]["db-persistence"] is None
