"""Apply the firewall and enable it at boot, or take it out, as `prisma_firewall` says."""

from __future__ import annotations

from io import StringIO

from pyinfra.operations import files, systemd

from tasks.firewall.facts import FirewallState
from tasks.firewall.files import DOCKER_DROP_IN, PATHS, SCRIPT, SERVICE
from tasks.pyinfra_helpers import converged_already, part_deploy
from tasks.settings import Settings
from tasks.work import Work


@part_deploy("Configure the firewall")
def configure_firewall(settings: Settings, work: Work[FirewallState, dict[str, str]]) -> None:
    """`work.wanted`: path -> content of the firewall's files (empty: firewall off)."""
    state = "on" if settings.prisma_firewall else "off"
    if converged_already(work, "firewall", f"The firewall is {state} as set", f"firewall {state}"):
        return
    if settings.prisma_firewall:
        _enable(work.wanted, rules_in_force=work.found.rules_in_force)
    else:
        _remove()


def _enable(wanted_files: dict[str, str], rules_in_force: bool) -> None:
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
        # apply again, atomically; a restart would stop the unit and take the rules out
        reloaded=True,
        # When a rule file changed, or the rules in force were changed by hand.
        _if=lambda: not rules_in_force or any(upload.did_change() for upload in uploads),
    )


def _remove() -> None:
    # Docker first stops requiring the rules, then the rules go.
    files.file(name=f"Remove {DOCKER_DROP_IN}", path=DOCKER_DROP_IN, present=False)
    systemd.daemon_reload(name="Let Docker start without the firewall")
    systemd.service(
        name="Take the firewall out (prisma_firewall is false)",
        service=SERVICE,
        running=False,
        enabled=False,
    )
    for path in PATHS:
        if path != DOCKER_DROP_IN:
            files.file(name=f"Remove {path}", path=path, present=False)
    systemd.daemon_reload(name="Forget the firewall unit")
