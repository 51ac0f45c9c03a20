"""Command generation of the firewall deploy against mocked host snapshots."""

from __future__ import annotations

import hashlib

import pytest

from tasks.commands import FIREWALL_CONFIG, FIREWALL_SCRIPT, FIREWALL_UNIT
from tasks.errors import HostRefused
from tasks.facts import EngineState, FirewallState, HostSnapshot, PathState, Platform
from tasks.firewall import _wanted_files, configure_firewall, firewall_config, firewall_problems
from tasks.settings import load_settings
from tests.unit.fake_host import FakeFacts, plan

ON = load_settings("h", {"prisma_firewall": True, "prisma_firewall_extra_ports": [9100]})
OFF = load_settings("h", {})


NOT_INSTALLED = FirewallState()


def snapshot(paths=None, firewall=NOT_INSTALLED, systemd=True) -> HostSnapshot:
    engine = EngineState(Platform("debian", "13", "trixie"), "amd64", {}, paths or {}, systemd)
    return HostSnapshot(engine=engine, firewall=firewall)


def applied(settings) -> HostSnapshot:
    paths = {
        path: PathState("file", 644, "root", "root", hashlib.sha256(text.encode()).hexdigest())
        for path, text in _wanted_files(settings).items()
    }
    return snapshot(paths, FirewallState(True, True, True))


def names(settings, state) -> list[str]:
    return [
        op.name.removeprefix("Configure the firewall | ")
        for op in plan(
            configure_firewall, FakeFacts({}), settings, state, firewall_problems(settings, state)
        )
    ]


def test_config_names_the_ports():
    assert firewall_config(ON).splitlines()[1:] == ["PRISMA_PORT=4466", 'PRISMA_EXTRA_PORTS="9100"']


def test_applied_firewall_is_one_operation_without_change():
    assert firewall_problems(ON, applied(ON)) == []
    assert names(ON, applied(ON)) == ["The firewall is on as set"]
    assert names(OFF, snapshot()) == ["The firewall is off as set"]


def test_a_fresh_host_gets_the_files_and_the_unit():
    assert names(ON, snapshot()) == [
        f"Write {FIREWALL_SCRIPT}",
        f"Write {FIREWALL_UNIT}",
        f"Write {FIREWALL_CONFIG}",
        "Apply the firewall now and at every boot",
        "Re-apply the firewall rules",
    ]


def test_rules_flushed_by_hand_are_noticed():
    flushed = HostSnapshot(engine=applied(ON).engine, firewall=FirewallState(True, True, False))
    assert firewall_problems(ON, flushed)


def test_turning_it_off_removes_everything():
    assert names(OFF, applied(ON))[0] == "Take the firewall out (prisma_firewall is false)"


def test_no_systemd_is_refused():
    with pytest.raises(HostRefused, match="prisma_firewall needs systemd"):
        names(ON, snapshot(systemd=False))
