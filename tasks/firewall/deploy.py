"""Apply the firewall and enable it at boot, or take it out, as `prisma_firewall` says."""

from __future__ import annotations

from io import StringIO

from pyinfra.api import deploy
from pyinfra.operations import files, systemd

from tasks.firewall.facts import FirewallState
from tasks.firewall.files import PATHS, SCRIPT, SERVICE
from tasks.pyinfra_helpers import converged_already
from tasks.settings import Settings
from tasks.work import Work


@deploy("Configure the firewall")
def configure_firewall(settings: Settings, work: Work[FirewallState, dict[str, str]]) -> None:
    """`work.wanted`: path -> content of the firewall's files (empty: firewall off)."""
    state = "on" if settings.prisma_firewall else "off"
    if converged_already(work, "firewall", f"The firewall is {state} as set", f"firewall {state}"):
        return
    if settings.prisma_firewall:
        _enable(work.wanted, rules_hooked=work.found.rules_hooked)
    else:
        _remove()


def _enable(wanted_files: dict[str, str], rules_hooked: bool) -> None:
    uploads = [
        files.put(
            name=f"Write {path}",
            src=StringIO(content),
            dest=path,
            mode="755" if path == SCRIPT else "644",
        )
        for path, content in wanted_files.items()
    ]
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
        _if=lambda: not rules_hooked or any(upload.did_change() for upload in uploads),
    )


def _remove() -> None:
    systemd.service(
        name="Take the firewall out (prisma_firewall is false)",
        service=SERVICE,
        running=False,
        enabled=False,
    )
    for path in PATHS:
        files.file(name=f"Remove {path}", path=path, present=False)
    systemd.daemon_reload(name="Forget the firewall unit")
