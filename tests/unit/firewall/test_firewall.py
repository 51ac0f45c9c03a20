"""Command generation of the firewall deploy against mocked readings of the host."""

from __future__ import annotations

import hashlib

import pytest

from tasks.errors import HostRefused
from tasks.firewall.decide import firewall_problems
from tasks.firewall.deploy import configure_firewall
from tasks.firewall.facts import FirewallState, parse_firewall
from tasks.firewall.files import (
    CONFIG,
    DOCKER_DROP_IN,
    SCRIPT,
    UNIT,
    firewall_config,
    wanted_files,
)
from tasks.host.paths import PathState
from tasks.settings import load_settings
from tasks.work import Work
from tests.unit.fake_host import FakeFacts, path_lines, plan

ON = load_settings("h", {"prisma_firewall": True, "prisma_firewall_extra_ports": [9100]})
OFF = load_settings("h", {})

NOT_INSTALLED = FirewallState(systemd=True)


def applied(settings) -> FirewallState:
    paths = {
        path: PathState("file", 644, "root", "root", hashlib.sha256(text.encode()).hexdigest())
        for path, text in wanted_files(settings).items()
    }
    return FirewallState(paths, systemd=True, enabled=True, active=True, rules_in_force=True)


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
    lines = firewall_config(ON).splitlines()
    assert [line for line in lines if not line.startswith("#")] == [
        'PRISMA_PORTS="4466"',
        'PRISMA_EXTRA_PORTS="9100"',
        'PRISMA_SSH_PORTS="22"',
    ]
    other_ssh = load_settings("h", {"prisma_firewall": True, "ssh_port": 2222})
    assert 'PRISMA_SSH_PORTS="2222"' in firewall_config(other_ssh)


def test_with_a_domain_the_proxy_ports_are_let_in_and_not_the_prisma_port():
    https = load_settings("h", {"prisma_firewall": True, "prisma_domain": "p.example.com"})
    assert 'PRISMA_PORTS="80 443"' in firewall_config(https).splitlines()
    assert "4466" not in firewall_config(https)


def test_applied_firewall_is_one_operation_without_change():
    assert problems(ON, applied(ON)) == []
    assert names(ON, applied(ON)) == ["The firewall is on as set"]
    assert names(OFF, NOT_INSTALLED) == ["The firewall is off as set"]


def test_a_fresh_host_gets_the_files_and_the_unit():
    assert names(ON, NOT_INSTALLED) == [
        f"Write {SCRIPT}",
        f"Write {UNIT}",
        f"Write {CONFIG}",
        f"Write {DOCKER_DROP_IN}",
        "Apply the firewall now and at every boot",
        "Re-apply the firewall rules",
    ]


def test_rules_changed_by_hand_are_noticed():
    changed = FirewallState(applied(ON).paths, systemd=True, enabled=True, active=True)
    assert problems(ON, changed) == [
        "prisma-firewall: not enabled, not applied, or its rules were changed"
    ]


def test_turning_it_off_lets_docker_go_first_then_removes_everything():
    assert names(OFF, applied(ON))[:3] == [
        f"Remove {DOCKER_DROP_IN}",
        "Let Docker start without the firewall",
        "Take the firewall out (prisma_firewall is false)",
    ]


def test_no_systemd_is_refused():
    with pytest.raises(HostRefused, match="prisma_firewall needs systemd"):
        names(ON, FirewallState(systemd=False))


def test_firewall_fact_output_is_parsed():
    found = parse_firewall(
        [
            *path_lines(SCRIPT, "file", 755, "abc"),
            *path_lines(UNIT),
            "systemd",
            "Id=prisma-firewall.service",
            "ActiveState=active",
            "UnitFileState=disabled",
        ]
    )
    assert parse_firewall(["rules-in-force"]).rules_in_force
    assert found.path(SCRIPT) == PathState("file", 755, "root", "root", "abc")
    assert not found.path(UNIT).exists
    assert (found.systemd, found.enabled, found.active, found.rules_in_force) == (
        True,
        False,
        True,
        False,
    )


def test_the_fact_asks_the_script_whether_the_whole_rule_set_is_in_force():
    from tasks.firewall.facts import firewall_probe

    assert f"{SCRIPT} check 2>/dev/null && echo rules-in-force" in firewall_probe()
