"""
The stack's ``.env``: the seed's environment contract, rendered so that every value
reaches the containers exactly as given.

Compose reads ``.env`` with its own dotenv dialect and then interpolates the values into
docker-compose.yml. In a double-quoted value it unescapes ``\\\\``, ``\\"``, ``\\n``,
``\\r`` and turns ``\\$`` into a literal ``$``; nothing else is special there. So each
value is written double-quoted with exactly those characters escaped, which keeps ``$``,
quotes, ``#``, ``=``, spaces and newlines (a PEM key) intact.
"""

from __future__ import annotations

from tasks.secrets.resolve import StackSecrets
from tasks.settings import Settings
from tasks.stack.layout import (
    DB_PORT_IN_NETWORK,
    DB_ROOT_USER,
    DB_SERVICE,
    INTERNAL_DATABASE,
    PRISMA_SERVICE,
)

_ESCAPES = {"\\": "\\\\", '"': '\\"', "$": "\\$", "\n": "\\n", "\r": "\\r"}
# str.translate does the escaping in C: the cluster's PEM key alone is some 800
# characters, escaped on every host.
_ESCAPE_TABLE = str.maketrans(_ESCAPES)

HEADER = (
    "# Managed by prisma-deploy (pyinfra): rewritten on every deploy, edits are undone.\n"
    "# Secrets: keep this file 0600. The local copies live in .secrets/<host>/.\n"
)

# Every variable .env defines; compose runs with these removed from its environment
# so that a PORT (say) exported in the operator's shell cannot override .env.
ENV_KEYS: tuple[str, ...] = (
    "PORT",
    "SCHEMA_MANAGER_SECRET",
    "SCHEMA_MANAGER_ENDPOINT",
    "SQL_CLIENT_HOST",
    "SQL_CLIENT_PORT",
    "SQL_CLIENT_USER",
    "SQL_CLIENT_PASSWORD",
    "SQL_CLIENT_CONNECTION_LIMIT",
    "SQL_INTERNAL_HOST",
    "SQL_INTERNAL_PORT",
    "SQL_INTERNAL_USER",
    "SQL_INTERNAL_PASSWORD",
    "SQL_INTERNAL_DATABASE",
    "SQL_INTERNAL_CONNECTION_LIMIT",
    "CLUSTER_ADDRESS",
    "CLUSTER_PUBLIC_KEY",
)


def quote_env_value(value: str) -> str:
    """Quote one value for Compose's .env so that it is read back unchanged."""
    if "\x00" in value:
        raise ValueError("a .env value cannot contain a NUL character")
    return '"' + value.translate(_ESCAPE_TABLE) + '"'


def env_values(settings: Settings, secrets: StackSecrets) -> dict[str, str]:
    """The variables of .env, in the seed's order (the 'Digital Ocean' example)."""
    port = str(settings.prisma_port)
    cluster_address = f"http://{PRISMA_SERVICE}:{port}"
    db_password = secrets.db_password.unmask()
    return {
        "PORT": port,
        "SCHEMA_MANAGER_SECRET": secrets.schema_manager_secret.unmask(),
        "SCHEMA_MANAGER_ENDPOINT": f"{cluster_address}/cluster/schema",
        "SQL_CLIENT_HOST": DB_SERVICE,
        "SQL_CLIENT_PORT": str(DB_PORT_IN_NETWORK),
        "SQL_CLIENT_USER": DB_ROOT_USER,
        "SQL_CLIENT_PASSWORD": db_password,
        "SQL_CLIENT_CONNECTION_LIMIT": str(settings.prisma_sql_client_connection_limit),
        "SQL_INTERNAL_HOST": DB_SERVICE,
        "SQL_INTERNAL_PORT": str(DB_PORT_IN_NETWORK),
        "SQL_INTERNAL_USER": DB_ROOT_USER,
        "SQL_INTERNAL_PASSWORD": db_password,
        "SQL_INTERNAL_DATABASE": INTERNAL_DATABASE,
        "SQL_INTERNAL_CONNECTION_LIMIT": str(settings.prisma_sql_internal_connection_limit),
        "CLUSTER_ADDRESS": cluster_address,
        "CLUSTER_PUBLIC_KEY": secrets.cluster_public_key.unmask(),
    }


def render_env(values: dict[str, str]) -> str:
    lines = [f"{key}={quote_env_value(value)}" for key, value in values.items()]
    return HEADER + "\n".join(lines) + "\n"
