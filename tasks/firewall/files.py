"""The firewall's files on the host and what each should hold."""

from __future__ import annotations

from tasks.project import project_file_text
from tasks.settings import Settings

SERVICE = "prisma-firewall"
SCRIPT = "/usr/local/sbin/prisma-firewall"
UNIT = "/etc/systemd/system/prisma-firewall.service"
CONFIG = "/etc/default/prisma-firewall"
# Docker applies the rules itself before it starts: never a Docker without them.
DOCKER_DROP_IN = "/etc/systemd/system/docker.service.d/prisma-firewall.conf"
PATHS = [SCRIPT, UNIT, CONFIG, DOCKER_DROP_IN]


# With prisma_domain the HTTPS proxy publishes these; the Prisma port is on loopback only.
PROXY_PORTS = (80, 443)


def public_ports(settings: Settings) -> tuple[int, ...]:
    """The stack's ports reachable from outside."""
    return PROXY_PORTS if settings.prisma_domain else (settings.prisma_port,)


def firewall_config(settings: Settings) -> str:
    extra = " ".join(str(port) for port in settings.prisma_firewall_extra_ports)
    ports = " ".join(str(port) for port in public_ports(settings))
    return (
        "# Managed by prisma-deploy (pyinfra): the ports prisma-firewall lets in.\n"
        f'PRISMA_PORTS="{ports}"\n'
        f'PRISMA_EXTRA_PORTS="{extra}"\n'
        "# The SSH port the deploy connects to (sshd's own ports are asked at apply).\n"
        f'PRISMA_SSH_PORTS="{settings.ssh_port}"\n'
    )


def wanted_files(settings: Settings) -> dict[str, str]:
    """Path -> content of every file of an enabled firewall."""
    return {
        SCRIPT: project_file_text("prisma-firewall"),
        UNIT: project_file_text("prisma-firewall.service"),
        CONFIG: firewall_config(settings),
        DOCKER_DROP_IN: project_file_text("docker-prisma-firewall.conf"),
    }
