"""
The host firewall (`prisma_firewall`): only SSH, the Prisma port and the extra ports
reachable from outside, including Docker-published ports, which bypass INPUT rules.

The rules live in files/prisma-firewall, applied by a systemd unit that runs before
Docker at every boot; Docker never rewrites the DOCKER-USER chain the rules hook into,
so they survive Docker restarts too.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from pyinfra import host, logger
from pyinfra.api import deploy
from pyinfra.operations import files, systemd

from tasks.commands import FIREWALL_CONFIG, FIREWALL_PATHS, FIREWALL_SCRIPT, FIREWALL_UNIT
from tasks.errors import HostRefused
from tasks.facts import HostSnapshot
from tasks.operations import already_converged
from tasks.settings import Settings

FILES = Path(__file__).resolve().parent.parent / "files"
SERVICE = "prisma-firewall"


def firewall_config(settings: Settings) -> str:
    extra = " ".join(str(port) for port in settings.prisma_firewall_extra_ports)
    return (
        "# Managed by prisma-deploy (pyinfra): the ports prisma-firewall lets in.\n"
        f"PRISMA_PORT={settings.prisma_port}\n"
        f'PRISMA_EXTRA_PORTS="{extra}"\n'
    )


def _wanted_files(settings: Settings) -> dict[str, str]:
    return {
        FIREWALL_SCRIPT: (FILES / "prisma-firewall").read_text(),
        FIREWALL_UNIT: (FILES / "prisma-firewall.service").read_text(),
        FIREWALL_CONFIG: firewall_config(settings),
    }


def firewall_problems(settings: Settings, snapshot: HostSnapshot) -> list[str]:
    """What differs from the wanted firewall (on or off); empty when nothing."""
    if not settings.prisma_firewall:
        present = [path for path in FIREWALL_PATHS if snapshot.engine.of(path).exists]
        return [f"{path}: left from an enabled firewall" for path in present]
    problems = [
        f"{path}: differs"
        for path, content in _wanted_files(settings).items()
        if not snapshot.engine.of(path).holds(content)
    ]
    state = snapshot.firewall
    if not (state.enabled and state.active and state.rules_hooked):
        problems.append("prisma-firewall: not enabled, not applied, or its rules are gone")
    return problems


@deploy("Configure the firewall")
def configure_firewall(settings: Settings, snapshot: HostSnapshot, problems: list[str]) -> None:
    """The firewall as prisma_firewall says: applied and enabled at boot, or removed;
    `problems` (firewall_problems) empty: one no-change operation."""
    if settings.prisma_firewall and not snapshot.engine.systemd:
        raise HostRefused(
            f"host {settings.host_name}: prisma_firewall needs systemd to apply its rules at "
            "every boot, and this host does not run it; set prisma_firewall=false"
        )
    if not problems:
        state = "on" if settings.prisma_firewall else "off"
        already_converged(name=f"The firewall is {state} as set", summary=f"firewall {state}")
        return
    logger.debug(f"{host.print_prefix}firewall needs work: {'; '.join(problems)}")
    if settings.prisma_firewall:
        _enable(settings, rules_hooked=snapshot.firewall.rules_hooked)
    else:
        _remove()


def _enable(settings: Settings, rules_hooked: bool) -> None:
    changed = []
    for path, content in _wanted_files(settings).items():
        changed.append(
            files.put(
                name=f"Write {path}",
                src=StringIO(content),
                dest=path,
                mode="755" if path == FIREWALL_SCRIPT else "644",
            )
        )
    systemd.service(
        name="Apply the firewall now and at every boot",
        service=SERVICE,
        running=True,
        enabled=True,
        daemon_reload=True,
    )
    systemd.service(
        name="Re-apply the firewall rules",
        service=SERVICE,
        restarted=True,
        # When a rule file changed, or someone flushed the rules by hand.
        _if=lambda: not rules_hooked or any(upload.did_change() for upload in changed),
    )


def _remove() -> None:
    systemd.service(
        name="Take the firewall out (prisma_firewall is false)",
        service=SERVICE,
        running=False,
        enabled=False,
    )
    for path in FIREWALL_PATHS:
        files.file(name=f"Remove {path}", path=path, present=False)
    systemd.daemon_reload(name="Forget the firewall unit")
