"""bench/fleet.py's turns: each side goes first every other time, and each time is
counted for the side that took it; the fresh hosts' sides start together."""

from __future__ import annotations

import importlib
import sys
import threading
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def fleet(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))  # the benches import their `common` module
    module = importlib.import_module("fleet")
    yield module
    sys.modules.pop("fleet", None)
    sys.modules.pop("common", None)


def side(calls: list[str], name: str, seconds: float):
    """An action that records its name and returns its own number of seconds (timed()
    is replaced by a call that returns what the action returns)."""
    return lambda: calls.append(name) or seconds


def test_each_side_goes_first_every_other_turn(fleet, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(fleet, "timed", lambda action: action())

    project, floor = fleet.interleaved(4, side(calls, "project", 1.0), side(calls, "floor", 2.0))

    assert calls == ["project", "floor", "floor", "project"] * 2
    assert project == [1.0] * 4
    assert floor == [2.0] * 4


def test_one_turn_keeps_the_times_in_the_sides_order(fleet, monkeypatch):
    monkeypatch.setattr(fleet, "timed", lambda action: action())
    calls: list[str] = []
    assert fleet.turn(1, side(calls, "a", 1.0), side(calls, "b", 2.0)) == [1.0, 2.0]
    assert calls == ["b", "a"]


def test_fresh_sides_start_together_and_each_keeps_its_own_time(fleet, monkeypatch):
    """The fresh case runs both sides at once: neither finds what the other fetched.
    Each side waits at a barrier for the other: run one after the other, the first
    would wait alone and the barrier break."""
    monkeypatch.setattr(fleet, "timed", lambda action: action())
    both_running = threading.Barrier(2, timeout=5)

    def side_at_barrier(seconds: float):
        return lambda: both_running.wait() is not None and seconds

    assert fleet.at_once(side_at_barrier(1.0), side_at_barrier(2.0)) == [1.0, 2.0]


def test_the_machine_is_quiet_once_under_the_bar_and_no_longer_settling(fleet, monkeypatch):
    common = sys.modules["common"]
    shares = iter([0.40, 0.19, 0.15, 0.14, 0.13])
    monkeypatch.setattr(common, "_busy_share", lambda window: next(shares))
    # 0.19 is under the bar but 0.21 below the window before; 0.15 still 0.04 below.
    assert common.wait_until_quiet(busy_below=0.25, settled=0.02) == 0.14
    assert next(shares) == 0.13  # and it stopped there


def test_converged_stacks_settle_before_the_quiet_wait(fleet, monkeypatch):
    """The converged cases start SETTLE_AFTER_START seconds after the converge, then
    once the machine is quiet."""
    events: list[tuple[str, float]] = []
    monkeypatch.setattr(fleet, "must", lambda run: events.append(("deployed", 0)) or run)
    monkeypatch.setattr(fleet.time, "sleep", lambda seconds: events.append(("slept", seconds)))
    monkeypatch.setattr(fleet, "wait_until_quiet", lambda: events.append(("quiet", 0)) or 0.1)
    monkeypatch.setattr(fleet, "progress", lambda rows, note="": None)

    class Deployer:
        def run(self, hosts, deploy_file, data):
            return deploy_file

    fleet.converge(Deployer(), [], {})
    assert events == [("deployed", 0), ("slept", 120.0), ("quiet", 0)]
