"""The firewall's files on the host and what each should hold."""

from __future__ import annotations

from tasks.project import FILES_DIR
from tasks.settings import Settings

SERVICE = "prisma-firewall"
SCRIPT = "/usr/local/sbin/prisma-firewall"
UNIT = "/etc/systemd/system/prisma-firewall.service"
CONFIG = "/etc/default/prisma-firewall"
# Docker applies the rules itself before it starts: never a Docker without them.
DOCKER_DROP_IN = "/etc/systemd/system/docker.service.d/prisma-firewall.conf"
PATHS = [SCRIPT, UNIT, CONFIG, DOCKER_DROP_IN]


def firewall_config(settings: Settings) -> str:
    extra = " ".join(str(port) for port in settings.prisma_firewall_extra_ports)
    return (
        "# Managed by prisma-deploy (pyinfra): the ports prisma-firewall lets in.\n"
        f"PRISMA_PORT={settings.prisma_port}\n"
        f'PRISMA_EXTRA_PORTS="{extra}"\n'
        "# The SSH port the deploy connects to (sshd's own ports are asked at apply).\n"
        f'PRISMA_SSH_PORTS="{settings.ssh_port}"\n'
    )


def wanted_files(settings: Settings) -> dict[str, str]:
    """Path -> content of every file of an enabled firewall."""
    return {
        SCRIPT: (FILES_DIR / "prisma-firewall").read_text(),
        UNIT: (FILES_DIR / "prisma-firewall.service").read_text(),
        CONFIG: firewall_config(settings),
        DOCKER_DROP_IN: (FILES_DIR / "docker-prisma-firewall.conf").read_text(),
    }
