"""bench/fleet.py's turns: each side goes first every other time, and each time is
counted for the side that took it."""

from __future__ import annotations

import importlib
import sys
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


def test_each_side_goes_first_every_other_turn(fleet, monkeypatch):
    calls: list[str] = []
    # timed() returns what the action returns: the side's own number.
    monkeypatch.setattr(fleet, "timed", lambda action: action())

    def side(name: str, seconds: float):
        return lambda: calls.append(name) or seconds

    project, floor = fleet.interleaved(4, side("project", 1.0), side("floor", 2.0))

    assert calls == ["project", "floor", "floor", "project"] * 2
    assert project == [1.0] * 4
    assert floor == [2.0] * 4


def test_one_turn_keeps_the_times_in_the_sides_order(fleet, monkeypatch):
    monkeypatch.setattr(fleet, "timed", lambda action: action())
    calls: list[str] = []
    assert fleet.turn(1, lambda: calls.append("a") or 1.0, lambda: calls.append("b") or 2.0) == [
        1.0,
        2.0,
    ]
    assert calls == ["b", "a"]
