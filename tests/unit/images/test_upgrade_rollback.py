"""upgrade.py's automatic rollback: when it happens, what it runs, what it reports."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tasks.images import operations
from tasks.stack import commands
from tasks.stack.layout import StackPaths

PATHS = StackPaths("/opt/prisma", "prisma")
ROLLBACK = ["docker tag sha256:old prisma:1.0"]


class Recorder:
    def __init__(self, waits: list[bool], failing: str | None = None):
        self.waits = list(waits)
        self.failing = failing
        self.commands: list[str] = []
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def wait(self, state, host, url, timeout, paths, arguments) -> bool:
        assert (url, timeout, paths) == ("http://127.0.0.1:4466/status", 30, PATHS)
        return self.waits.pop(0)

    def run(self, host, command, arguments):
        self.commands.append(command)
        failed = self.failing is not None and self.failing in command
        return (not failed, SimpleNamespace(stderr="no such image" if failed else ""))


@pytest.fixture
def recorder(monkeypatch):
    def make(waits, failing=None):
        recorded = Recorder(waits, failing)
        monkeypatch.setattr(operations, "wait_until_ok", recorded.wait)
        monkeypatch.setattr(operations, "run_quietly", recorded.run)
        monkeypatch.setattr(
            operations, "log_error", lambda host, message: recorded.errors.append(message)
        )
        return recorded

    return make


def decide(host=None):
    host = host or SimpleNamespace(
        log_styled=lambda message, **kwargs: None,
    )
    return operations._wait_or_roll_back(
        None, host, PATHS, "http://127.0.0.1:4466/status", 30, ROLLBACK, {}
    )


def test_an_upgrade_that_answers_is_kept(recorder):
    recorded = recorder([True])
    assert decide() is True
    assert recorded.commands == [] and recorded.errors == []


def test_an_upgrade_that_never_answers_is_rolled_back_and_fails(recorder):
    recorded = recorder([False, True])
    assert decide() is False
    assert recorded.commands[0] == ROLLBACK[0]
    assert recorded.commands[1] == commands.compose_up(PATHS)
    assert len(recorded.commands) == 2
    assert recorded.errors == [
        "the upgrade failed and was rolled back to the previous images; the server answers again"
    ]
    assert recorded.waits == []


def test_a_rollback_that_does_not_help_says_so(recorder):
    recorded = recorder([False, False])
    assert decide() is False
    assert recorded.errors == [
        "the upgrade failed and was rolled back to the previous images; "
        "but the server still does not answer"
    ]


def test_a_failing_rollback_step_stops_there(recorder):
    recorded = recorder([False, True], failing="docker tag")
    assert decide() is False
    assert recorded.commands == ROLLBACK  # compose up never ran
    assert recorded.errors == ["rollback failed: no such image"]
    assert recorded.waits == [True]  # no second wait


def test_the_rollback_is_announced_as_a_warning(recorder):
    recorder([False, True])
    said = []
    host = SimpleNamespace(log_styled=lambda message, **kwargs: said.append((message, kwargs)))
    decide(host)
    ((message, style),) = said
    assert message == "rolling back to the images recorded before the upgrade"
    assert style["fg"] == "yellow"
