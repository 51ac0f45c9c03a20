"""The swap file prisma_swap_size makes: the fact, what differs, the commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.engine.commands import SWAP_FILE, make_swap_file, remove_swap_file, size_mib
from tasks.engine.decide import engine_problems, swap_after_deploy, swap_file_bytes, swap_problems
from tasks.engine.facts import DockerEngineState, SwapState, parse_engine, parse_swap, swap_probe
from tasks.engine.packages import Platform
from tasks.settings import load_settings

GIB = 1024**3
IN_USE = SwapState(total_bytes=GIB - 4096, file_bytes=GIB - 4096, file_exists=True, in_fstab=True)


def test_the_probe_reads_meminfo_proc_swaps_and_fstab():
    """Run on this machine, under sh and bash: shell built-ins read all three files."""
    import subprocess

    probe = swap_probe()
    assert "awk " not in probe and "grep" not in probe
    lines = subprocess.run(["sh", "-c", probe], capture_output=True, text=True).stdout
    assert subprocess.run(["bash", "-c", probe], capture_output=True, text=True).stdout == lines
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    assert f"mem-kb {meminfo['MemTotal'].split()[0]}" in lines.splitlines()
    assert parse_swap(lines.splitlines()).total_bytes == int(meminfo["SwapTotal"].split()[0]) * 1024


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_the_probe_finds_the_swap_file_in_use_and_in_fstab(tmp_path, shell):
    import subprocess

    meminfo, swaps, fstab = tmp_path / "meminfo", tmp_path / "swaps", tmp_path / "fstab"
    meminfo.write_text("MemTotal:        1000000 kB\nSwapTotal:       1048572 kB\n")
    swaps.write_text(
        "Filename\tType\tSize\tUsed\tPriority\n"
        f"{SWAP_FILE}                     file\t\t1048572\t\t0\t\t-2\n"
    )
    fstab.write_text(f"# comment\n{SWAP_FILE} none swap sw 0 0\n")
    probe = swap_probe(str(meminfo), str(swaps), str(fstab))
    lines = subprocess.run([shell, "-c", probe], capture_output=True, text=True).stdout
    assert parse_swap(lines.splitlines()) == SwapState(
        1048572 * 1024, 1048572 * 1024, Path(SWAP_FILE).exists(), True
    )
    fstab.unlink()
    swaps.write_text("Filename\tType\tSize\tUsed\tPriority\n/dev/vdb partition 5 0 -2\n")
    lines = subprocess.run([shell, "-c", probe], capture_output=True, text=True).stdout
    assert parse_swap(lines.splitlines()).file_bytes == 0
    assert not parse_swap(lines.splitlines()).in_fstab


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_meminfo_is_read_up_to_swap_total_once_mem_total_is_seen(tmp_path, shell):
    import subprocess

    meminfo = tmp_path / "meminfo"
    probe = swap_probe(str(meminfo), str(tmp_path / "none"), str(tmp_path / "none"))

    def read(text: str) -> list[str]:
        meminfo.write_text(text)
        done = subprocess.run([shell, "-c", probe], capture_output=True, text=True)
        return done.stdout.splitlines()

    # What follows SwapTotal is not read (a later MemTotal line would be printed).
    assert read("MemTotal: 1000 kB\nSwapTotal: 4 kB\nMemTotal: 9 kB\n") == [
        "mem-kb 1000",
        "swap-kb 4",
    ]
    # SwapTotal first (never so in Linux): read on until MemTotal.
    assert read("SwapTotal: 4 kB\nMemFree: 5 kB\nMemTotal: 1000 kB\n") == [
        "swap-kb 4",
        "mem-kb 1000",
    ]


def test_the_parser_reads_sizes_in_kilobytes_and_flags():
    assert parse_swap(["swap-kb 2097148", "swap-file-kb 1048572", "swap-file", "swap-fstab"]) == (
        SwapState(2097148 * 1024, 1048572 * 1024, True, True)
    )
    assert parse_swap([]) == SwapState()
    assert parse_swap(["swap-kb x", "swap-file-kb", "other 5"]) == SwapState()
    engine = parse_engine(["mem-kb 1000", "swap-kb 4", "swap-file", "init systemd"])
    assert engine.memory_bytes == 1024000
    assert engine.swap == SwapState(total_bytes=4096, file_exists=True)
    assert engine.systemd and not engine.enabled


def test_others_swap_is_what_is_not_ours():
    assert SwapState(total_bytes=3 * GIB, file_bytes=GIB).others_bytes == 2 * GIB
    assert SwapState(total_bytes=0, file_bytes=GIB).others_bytes == 0


def test_sizes():
    assert size_mib("1G") == 1024
    assert size_mib("512M") == 512
    assert swap_file_bytes("1G") == GIB - 4096
    assert swap_file_bytes(None) == 0


@pytest.mark.parametrize(
    ("swap", "size", "expected"),
    [
        (SwapState(), None, []),
        (IN_USE, "1G", []),
        (SwapState(), "1G", [f"{SWAP_FILE}: not a 1G swap file in use and in /etc/fstab"]),
        (IN_USE, "2G", [f"{SWAP_FILE}: not a 2G swap file in use and in /etc/fstab"]),
        (
            SwapState(GIB - 4096, GIB - 4096, True, in_fstab=False),
            "1G",
            [f"{SWAP_FILE}: not a 1G swap file in use and in /etc/fstab"],
        ),
        (IN_USE, None, [f"{SWAP_FILE}: to be removed (prisma_swap_size is unset)"]),
        (
            SwapState(file_exists=True),
            None,
            [f"{SWAP_FILE}: to be removed (prisma_swap_size is unset)"],
        ),
        (
            SwapState(in_fstab=True),
            None,
            [f"{SWAP_FILE}: to be removed (prisma_swap_size is unset)"],
        ),
        (
            SwapState(file_bytes=4096),
            None,
            [f"{SWAP_FILE}: to be removed (prisma_swap_size is unset)"],
        ),
    ],
)
def test_swap_problems(swap, size, expected):
    assert swap_problems(swap, size) == expected


def test_swap_after_deploy_replaces_our_file_and_keeps_the_others():
    assert swap_after_deploy(SwapState(total_bytes=GIB), "1G") == 2 * GIB - 4096
    assert swap_after_deploy(IN_USE, "2G") == 2 * GIB - 4096
    assert swap_after_deploy(IN_USE, None) == 0


def test_the_engine_has_work_when_the_swap_file_differs():
    settings = load_settings("h", {"docker_source": "distro", "prisma_swap_size": "1G"})
    engine = DockerEngineState(Platform("debian", "13", "trixie"), "amd64")
    assert f"{SWAP_FILE}: not a 1G swap file in use and in /etc/fstab" in engine_problems(
        engine, settings
    )


def test_the_swap_file_commands():
    assert make_swap_file("1G") == (
        f"swapoff {SWAP_FILE} 2>/dev/null; rm -f {SWAP_FILE}; "
        f"(umask 077 && (fallocate -l 1024M {SWAP_FILE} "
        f"|| dd if=/dev/zero of={SWAP_FILE} bs=1M count=1024 status=none)) "
        f"&& chmod 600 {SWAP_FILE} && mkswap {SWAP_FILE} >/dev/null && swapon {SWAP_FILE} "
        f"&& (grep -qs '^{SWAP_FILE} ' /etc/fstab "
        f"|| echo '{SWAP_FILE} none swap sw 0 0' >> /etc/fstab)"
    )
    assert remove_swap_file() == (
        f"swapoff {SWAP_FILE} 2>/dev/null; rm -f {SWAP_FILE}; "
        f"sed -i '\\#^{SWAP_FILE} #d' /etc/fstab"
    )
