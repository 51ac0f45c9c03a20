"""What the firewall part compares: its files, its service, whether its chains are
hooked in, and whether systemd runs (the rules are applied at boot by a unit)."""

from __future__ import annotations

import msgspec
from pyinfra.api import FactBase
from typing_extensions import override

from tasks.firewall.files import PATHS, SCRIPT, SERVICE, UNIT
from tasks.host.paths import MISSING, PathState, paths_in, with_paths
from tasks.host.probes import UnitState, parse_unit_states, tagged, unit_states_probe

SERVICE_UNIT = f"{SERVICE}.service"


class FirewallState(msgspec.Struct, frozen=True):
    paths: dict[str, PathState] = msgspec.field(default_factory=dict)
    systemd: bool = False
    enabled: bool = False
    active: bool = False
    rules_in_force: bool = False  # exactly the rules `prisma-firewall apply` makes now

    def path(self, path: str) -> PathState:
        return self.paths.get(path, MISSING)


def firewall_state_probe() -> str:
    """Tagged lines: `systemd`, `enabled`, `active`, and `rules-in-force` when the whole
    rule set in force, IPv4 and IPv6, is the one the script would apply now
    (`prisma-firewall check`); the firewall's paths are probed beside (PATHS)."""
    return (
        "[ -d /run/systemd/system ] && echo systemd; "
        # systemctl only when the unit is there: spared on a host with the firewall off.
        f"[ -e {UNIT} ] && {unit_states_probe([SERVICE_UNIT])}; "
        f"[ -x {SCRIPT} ] && {SCRIPT} check 2>/dev/null && echo rules-in-force; true"
    )


def firewall_probe() -> str:
    """The firewall part read on its own: its paths, then firewall_state_probe()."""
    return with_paths(PATHS, firewall_state_probe())


def parse_firewall(lines: list[str]) -> FirewallState:
    flags = {tag for tag, _, _ in tagged(lines)}
    unit = parse_unit_states(lines).get(SERVICE_UNIT, UnitState())
    return FirewallState(
        paths_in(lines),
        systemd="systemd" in flags,
        enabled=unit.enabled,
        active=unit.active,
        rules_in_force="rules-in-force" in flags,
    )


class Firewall(FactBase[FirewallState]):
    """The firewall's files, service and rules."""

    @override
    def command(self) -> str:
        return firewall_probe()

    @override
    @staticmethod
    def default() -> FirewallState:
        return FirewallState()

    @override
    def process(self, output) -> FirewallState:
        return parse_firewall(output)
