"""nuke.py's steps: consent first, a backup unless switched off, then the reset, then the
wait for the server."""

from __future__ import annotations

import pytest

from tasks.actions.preflight import ConsentError, NoStackError
from tasks.actions.start_stop import nuke_stack
from tasks.settings import load_settings
from tasks.stack.facts import StackDeployed
from tests.unit.fake_host import FakeFacts, plan

DEPLOYED = FakeFacts({StackDeployed: True})  # docker-compose.yml and .env are there


def names(settings) -> list[str]:
    return [op.name for op in plan(nuke_stack, DEPLOYED, settings)]


def test_nuke_backs_up_then_resets_then_waits():
    steps = names(load_settings("testhost", {"nuke_confirm": "testhost"}))
    assert steps[-2:] == [
        "Nuke the Prisma stack | Reset the stack: kill, down (volumes, orphans), up",
        "Nuke the Prisma stack | Wait until Prisma answers GET /status",
    ]
    backup = [step for step in steps[:-2] if "back" in step.lower()]
    assert backup, steps


def test_nuke_without_backup_only_resets_and_waits():
    steps = names(load_settings("testhost", {"nuke_confirm": "testhost", "nuke_backup": False}))
    assert steps == [
        "Nuke the Prisma stack | Reset the stack: kill, down (volumes, orphans), up",
        "Nuke the Prisma stack | Wait until Prisma answers GET /status",
    ]


def test_nuke_refuses_without_consent_before_any_step():
    for data in ({}, {"nuke_confirm": "another-host"}):
        with pytest.raises(ConsentError):
            plan(nuke_stack, DEPLOYED, load_settings("testhost", data))


def test_nuke_refuses_a_host_without_a_stack():
    with pytest.raises(NoStackError, match=r"run deploy\.py first"):
        plan(nuke_stack, FakeFacts(), load_settings("testhost", {"nuke_confirm": "testhost"}))
