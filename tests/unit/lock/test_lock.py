"""The deploy lock's commands and holder lines."""

from __future__ import annotations

import os
import socket
import subprocess

from tasks.lock import commands, holder

PATH = "/run/prisma-deploy/prisma"


def test_every_change_to_the_lock_is_made_under_the_guard_in_a_root_only_directory():
    for command in (
        commands.take_command(PATH, "me"),
        commands.break_command(PATH, "them"),
        commands.release_command(PATH, "abc"),
    ):
        assert command.startswith(
            "install -d -m 700 /run/prisma-deploy && flock -w 30 /run/prisma-deploy/.guard sh -c "
        )
    assert commands.lock_path("prisma") == PATH


def run(command: str, tmp_path) -> list[str]:
    """A lock command run for real, in a scratch directory instead of /run."""
    local = command.replace("/run/prisma-deploy", str(tmp_path / "locks"))
    return subprocess.run(
        ["sh", "-c", local], capture_output=True, text=True, check=True
    ).stdout.splitlines()


def test_take_then_held_then_released_only_by_its_run(tmp_path):
    assert run(commands.take_command(PATH, "u@a machine=m boot=b pid=1 run=abc x"), tmp_path) == [
        "taken"
    ]
    assert oct((tmp_path / "locks").stat().st_mode & 0o777) == "0o700"
    held = run(commands.take_command(PATH, "someone else"), tmp_path)
    assert held == ["held", "u@a machine=m boot=b pid=1 run=abc x"]
    run(commands.release_command(PATH, "other"), tmp_path)
    assert (tmp_path / "locks" / "prisma").exists()
    run(commands.release_command(PATH, "abc"), tmp_path)
    assert not (tmp_path / "locks" / "prisma").exists()


def test_breaking_is_a_compare_and_swap(tmp_path):
    run(commands.take_command(PATH, "dead holder"), tmp_path)
    # Another run broke the dead lock and took it first: this break must not remove it.
    assert run(commands.break_command(PATH, "what I saw earlier"), tmp_path) == []
    assert (tmp_path / "locks" / "prisma" / "holder").read_text() == "dead holder\n"
    assert run(commands.break_command(PATH, "dead holder"), tmp_path) == ["broken"]
    assert not (tmp_path / "locks" / "prisma").exists()


def line(machine: str, boot: str, pid: int) -> str:
    return f"u@box machine={machine} boot={boot} pid={pid} run=x since=y file=z"


def test_a_holder_is_dead_only_when_it_is_certainly_gone_from_this_machine():
    here, boot = holder.machine_id(), holder.boot_id()
    assert holder.holder_is_dead_here(line(here, boot, 999999))  # process gone
    assert holder.holder_is_dead_here(line(here, "an-earlier-boot", os.getpid()))
    assert not holder.holder_is_dead_here(line(here, boot, os.getpid()))  # alive
    assert not holder.holder_is_dead_here(line("another-machine", boot, 999999))
    # The host name alone says nothing: many machines share one.
    assert not holder.holder_is_dead_here(f"u@{socket.gethostname()} pid=999999 run=x")
    assert not holder.holder_is_dead_here("garbage")


def test_holder_line_says_who_where_and_when():
    text = holder.holder_line("deploy.py")
    assert f"machine={holder.machine_id()} boot={holder.boot_id()} pid={os.getpid()} " in text
    assert f"run={holder.RUN_ID} since=" in text and text.endswith("file=deploy.py")
