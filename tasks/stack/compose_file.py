"""
docker-compose.yml of a host: the base in files/docker-compose.yml (the seed's stack)
loaded as data, the settings applied to it as data, written with yaml.safe_dump.

Whatever characters a value holds, it stays one scalar: no setting can add a key or a
service. Compose interpolates `$` in the file, so `$` in a value is written `$$` and
reaches the container as the one character given.
"""

from __future__ import annotations

from typing import Any

import yaml

from tasks.project import FILES_DIR
from tasks.settings import Settings
from tasks.stack.layout import DB_CONTAINER, DB_PORT_IN_NETWORK, DB_SERVICE, PRISMA_SERVICE
from tasks.stack.memory import DATABASE_MEMORY, compose_size, server_memory_limit

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


def compose_document(settings: Settings) -> dict[str, Any]:
    """The base stack with this host's settings applied."""
    document = yaml.safe_load(BASE_FILE.read_text())
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
    server = document["services"][PRISMA_SERVICE]
    server["image"] = _literal(settings.prisma_image)
    server["ports"] = [_published(settings.prisma_bind_address, settings.prisma_port)]
    server["environment"]["JAVA_OPTS"] = _literal(f"-Xmx{settings.prisma_java_heap}")
    server["mem_limit"] = compose_size(server_memory_limit(settings))
    return document


def render_compose_file(settings: Settings) -> str:
    body = yaml.safe_dump(
        compose_document(settings), sort_keys=False, default_flow_style=False, width=4096
    )
    return HEADER + body
