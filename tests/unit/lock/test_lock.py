"""The deploy lock's commands and holder lines."""

from __future__ import annotations

from tasks.lock import commands, holder


def test_lock_is_taken_atomically_and_released_only_by_its_holder():
    take = commands.take_command("/run/lock/prisma-deploy-prisma", "me@box pid=1 run=abc since=x")
    assert "if mkdir /run/lock/prisma-deploy-prisma 2>/dev/null; then" in take
    assert "echo held; cat /run/lock/prisma-deploy-prisma/holder" in take
    release = commands.release_command("/run/lock/prisma-deploy-prisma", holder.RUN_ID)
    assert release.startswith(f"if grep -qs 'run={holder.RUN_ID} ' ")


def test_a_holder_is_dead_only_when_its_process_is_gone_on_this_machine():
    import os
    import socket

    here = socket.gethostname()
    assert holder.holder_is_dead_here(f"u@{here} pid=999999 run=x since=y file=z")
    assert not holder.holder_is_dead_here(f"u@{here} pid={os.getpid()} run=x since=y file=z")
    assert not holder.holder_is_dead_here("u@elsewhere pid=999999 run=x since=y file=z")
    assert not holder.holder_is_dead_here("garbage")


def test_holder_line_says_who_and_when():
    line = holder.holder_line("deploy.py")
    assert f"run={holder.RUN_ID} since=" in line and line.endswith("file=deploy.py")
