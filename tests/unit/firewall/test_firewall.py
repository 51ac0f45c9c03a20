"""Command generation of the firewall deploy against mocked readings of the host."""

from __future__ import annotations

import hashlib

import pytest

from tasks.errors import HostRefused
from tasks.firewall.decide import firewall_problems
from tasks.firewall.deploy import configure_firewall
from tasks.firewall.facts import FirewallState, parse_firewall
from tasks.firewall.files import CONFIG, SCRIPT, UNIT, firewall_config, wanted_files
from tasks.host.paths import PathState
from tasks.settings import load_settings
from tasks.work import Work
from tests.unit.fake_host import FakeFacts, plan

ON = load_settings("h", {"prisma_firewall": True, "prisma_firewall_extra_ports": [9100]})
OFF = load_settings("h", {})

NOT_INSTALLED = FirewallState(systemd=True)


def applied(settings) -> FirewallState:
    paths = {
        path: PathState("file", 644, "root", "root", hashlib.sha256(text.encode()).hexdigest())
        for path, text in wanted_files(settings).items()
    }
    return FirewallState(paths, systemd=True, enabled=True, active=True, rules_hooked=True)


def wanted(settings) -> dict[str, str]:
    return wanted_files(settings) if settings.prisma_firewall else {}


def problems(settings, found: FirewallState) -> list[str]:
    return firewall_problems(settings, found, wanted(settings))


def names(settings, found: FirewallState) -> list[str]:
    work = Work(found, wanted(settings), tuple(problems(settings, found)))
    return [
        op.name.removeprefix("Configure the firewall | ")
        for op in plan(configure_firewall, FakeFacts({}), settings, work)
    ]


def test_config_names_the_ports():
    assert firewall_config(ON).splitlines()[1:] == ["PRISMA_PORT=4466", 'PRISMA_EXTRA_PORTS="9100"']


def test_applied_firewall_is_one_operation_without_change():
    assert problems(ON, applied(ON)) == []
    assert names(ON, applied(ON)) == ["The firewall is on as set"]
    assert names(OFF, NOT_INSTALLED) == ["The firewall is off as set"]


def test_a_fresh_host_gets_the_files_and_the_unit():
    assert names(ON, NOT_INSTALLED) == [
        f"Write {SCRIPT}",
        f"Write {UNIT}",
        f"Write {CONFIG}",
        "Apply the firewall now and at every boot",
        "Re-apply the firewall rules",
    ]


def test_rules_flushed_by_hand_are_noticed():
    flushed = FirewallState(applied(ON).paths, systemd=True, enabled=True, active=True)
    assert problems(ON, flushed)


def test_turning_it_off_removes_everything():
    assert names(OFF, applied(ON))[0] == "Take the firewall out (prisma_firewall is false)"


def test_no_systemd_is_refused():
    with pytest.raises(HostRefused, match="prisma_firewall needs systemd"):
        names(ON, FirewallState(systemd=False))


def test_firewall_fact_output_is_parsed():
    found = parse_firewall(
        [f"path {SCRIPT} file 755 root root abc", f"path {UNIT} missing", "systemd", "active"]
    )
    assert found.path(SCRIPT) == PathState("file", 755, "root", "root", "abc")
    assert not found.path(UNIT).exists
    assert (found.systemd, found.enabled, found.active, found.rules_hooked) == (
        True,
        False,
        True,
        False,
    )
