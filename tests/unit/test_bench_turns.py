"""bench/fleet.py's turns: each side goes first every other time, and each time is
counted for the side that took it; the fresh hosts' sides start together."""

from __future__ import annotations

import importlib
import sys
import time
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


def test_fresh_sides_start_together_and_each_keeps_its_own_time(fleet):
    """The fresh case runs both sides at once: neither finds what the other fetched."""
    events: list[tuple[str, str, float]] = []

    def sleeper(name: str, seconds: float):
        def action():
            events.append((name, "start", time.monotonic()))
            time.sleep(seconds)
            events.append((name, "end", time.monotonic()))

        return action

    started = time.monotonic()
    project, builtins = fleet.at_once(sleeper("project", 0.4), sleeper("builtins", 0.2))
    elapsed = time.monotonic() - started

    assert [kind for _, kind, _ in events[:2]] == ["start", "start"]  # both before any end
    assert 0.4 <= project < 0.6 and 0.2 <= builtins < 0.35  # each its own, in order
    assert elapsed < 0.55  # together: one after the other would take 0.6


def test_the_machine_is_quiet_once_under_the_bar_and_no_longer_settling(fleet, monkeypatch):
    common = sys.modules["common"]
    shares = iter([0.40, 0.19, 0.15, 0.14, 0.13])
    monkeypatch.setattr(common, "_busy_share", lambda window: next(shares))
    # 0.19 is under the bar but 0.21 below the window before; 0.15 still 0.04 below.
    assert common.wait_until_quiet(busy_below=0.25, settled=0.02) == 0.14
    assert next(shares) == 0.13  # and it stopped there
