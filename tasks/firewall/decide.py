"""What differs between the firewall as read and as `prisma_firewall` wants it."""

from __future__ import annotations

from tasks.errors import HostRefused
from tasks.firewall.facts import FirewallState
from tasks.firewall.files import PATHS
from tasks.settings import Settings


def firewall_problems(
    settings: Settings, found: FirewallState, wanted: dict[str, str]
) -> list[str]:
    """What differs from the wanted firewall (on: `wanted` path -> content; off: none of
    its files); empty when nothing. Refuses a firewall on a host without systemd, which
    could not apply it at every boot."""
    if not settings.prisma_firewall:
        return [
            f"{path}: left from an enabled firewall" for path in PATHS if found.path(path).exists
        ]
    if not found.systemd:
        raise HostRefused(
            f"host {settings.host_name}: prisma_firewall needs systemd to apply its rules at "
            "every boot, and this host does not run it; set prisma_firewall=false"
        )
    problems = [
        f"{path}: differs"
        for path, content in wanted.items()
        if not found.path(path).has_content(content)
    ]
    if not (found.enabled and found.active and found.rules_in_force):
        problems.append("prisma-firewall: not enabled, not applied, or its rules were changed")
    return problems
