"""
docker-compose.yml of a host: the base in files/docker-compose.yml (the seed's stack)
loaded as data, the settings applied to it as data, written with yaml.safe_dump.

Whatever characters a value holds, it stays one scalar: no setting can add a key or a
service. Compose interpolates `$` in the file, so `$` in a value is written `$$` and
reaches the container as the one character given.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from tasks.project import FILES_DIR
from tasks.settings import Settings
from tasks.stack.layout import (
    DB_CONTAINER,
    DB_PORT_IN_NETWORK,
    DB_SERVICE,
    DB_VOLUME_NAME,
    PRISMA_SERVICE,
    PROXY_CONFIG_NAME,
    PROXY_CONFIG_VOLUME_NAME,
    PROXY_DATA_VOLUME_NAME,
    PROXY_DIR_IN_CONTAINER,
    PROXY_SERVICE,
    StackPaths,
)
from tasks.stack.memory import DATABASE_MEMORY, compose_size, server_memory_limit
from tasks.yaml_text import dump_yaml, load_yaml

BASE_FILE = FILES_DIR / "docker-compose.yml"
HEADER = (
    "# Managed by prisma-deploy (pyinfra), made from files/docker-compose.yml: rewritten on\n"
    "# every deploy, edits are undone. Secrets are not in this file: Compose interpolates\n"
    "# them from .env (mode 0600) beside it.\n"
)
_MAX_CONNECTIONS = "--max-connections="


def _literal(value: object) -> str:
    """A value as Compose reads it back unchanged (no interpolation)."""
    return str(value).replace("$", "$$")


def _published(address: str, port: int) -> str:
    host_address = f"[{address}]" if ":" in address else address
    return _literal(f"{host_address}:{port}:{port}")


@functools.cache
def _base_document() -> dict[str, Any]:
    """The base file parsed once per run: it does not change during one, and parsing it
    was most of the time a host's compose file took (once per host, sometimes twice)."""
    return load_yaml(BASE_FILE.read_text())


def compose_document(settings: Settings) -> dict[str, Any]:
    """The base stack with this host's settings applied."""
    # A deep copy: the settings are applied in place, and the parsed base serves every
    # host. A tenth of the cost of parsing it again, and it keeps any shared nodes shared.
    document = copy.deepcopy(_base_document())
    database = document["services"][DB_SERVICE]
    database["image"] = _literal(settings.prisma_db_image)
    database["container_name"] = DB_CONTAINER
    database["mem_limit"] = compose_size(DATABASE_MEMORY)
    database["command"] = [
        _MAX_CONNECTIONS + str(settings.prisma_db_max_connections)
        if argument.startswith(_MAX_CONNECTIONS)
        else argument
        for argument in database["command"]
    ]
    if settings.prisma_db_debug_port is not None:
        # Opt-in debug mapping of the seed's "3366:3306", bound to loopback only.
        database["ports"] = [f"127.0.0.1:{settings.prisma_db_debug_port}:{DB_PORT_IN_NETWORK}"]
    data_dir = StackPaths.of(settings).data_dir
    if data_dir:
        # The named volume stays (nuke.py, backups and checks know it), bound to the
        # mounted data volume's directory instead of Docker's own storage.
        document["volumes"][DB_VOLUME_NAME] = {
            "driver": "local",
            "driver_opts": {"type": "none", "o": "bind", "device": _literal(data_dir)},
        }
    server = document["services"][PRISMA_SERVICE]
    server["image"] = _literal(settings.prisma_image)
    server["ports"] = [_published(settings.prisma_bind_address, settings.prisma_port)]
    server["environment"]["JAVA_OPTS"] = _literal(f"-Xmx{settings.prisma_java_heap}")
    server["mem_limit"] = compose_size(server_memory_limit(settings))
    if settings.prisma_domain:
        _add_proxy(document, settings)
    return document


def _add_proxy(document: dict[str, Any], settings: Settings) -> None:
    """The HTTPS proxy publishes 80 and 443; Prisma's port stays on loopback, for the
    host's own checks. The proxy reads its configuration from a mounted directory (a
    replaced file is seen there, so a reload applies it without recreating anything)."""
    document["services"][PRISMA_SERVICE]["ports"] = [_published("127.0.0.1", settings.prisma_port)]
    document["services"][PROXY_SERVICE] = {
        "image": _literal(settings.prisma_proxy_image),
        "restart": "always",
        "command": ["caddy", "run", "--config", f"{PROXY_DIR_IN_CONTAINER}/{PROXY_CONFIG_NAME}"],
        "ports": ["80:80", "443:443"],
        "networks": ["prisma"],
        "volumes": [
            f"{PROXY_DATA_VOLUME_NAME}:/data",
            f"{PROXY_CONFIG_VOLUME_NAME}:/config",
            f"{_literal(StackPaths.of(settings).proxy_dir)}:{PROXY_DIR_IN_CONTAINER}:ro",
        ],
    }
    document["volumes"][PROXY_DATA_VOLUME_NAME] = None
    document["volumes"][PROXY_CONFIG_VOLUME_NAME] = None


def render_compose_file(settings: Settings) -> str:
    body = dump_yaml(compose_document(settings), width=4096)
    return HEADER + body
