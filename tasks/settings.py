"""
Every setting of this project in one place: name, default, meaning and validation.

Settings are pyinfra host data (inventory, ``group_data/*.py`` or ``--data key=value``).
``load_settings`` validates all of them before any operation is queued, so bad input
stops the run with an error that names the setting and what it expects, before any
host is touched.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from pyinfra.api import HiddenValue

from tasks.errors import HostRefused

OUR_PREFIXES = ("docker_", "prisma_", "nuke_", "backup_", "restore_", "logs_", "status_")


class SettingsError(HostRefused):
    """Bad host data: the message names the setting and what it expects."""


# A value check returns the normalised value or raises ValueError("<what is expected>").
Check = Callable[[Any], Any]


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    meaning: str
    check: Check
    secret: bool = False


# ---------------------------------------------------------------------------
# Value checks
# ---------------------------------------------------------------------------


def integer(low: int, high: int) -> Check:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"an integer from {low} to {high}")
        return value

    return check


port = integer(1, 65535)


def one_of(*choices: str) -> Check:
    def check(value: Any) -> str:
        if value not in choices:
            raise ValueError("one of " + ", ".join(repr(choice) for choice in choices))
        return value

    return check


def matching(pattern: str, expected: str) -> Check:
    compiled = re.compile(pattern)

    def check(value: Any) -> str:
        if not isinstance(value, str) or not compiled.fullmatch(value):
            raise ValueError(expected)
        return value

    return check


def optional(inner: Check) -> Check:
    def check(value: Any) -> Any:
        return None if value is None else inner(value)

    return check


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def port_list(value: Any) -> list[int]:
    if not isinstance(value, list):
        raise ValueError("a list of ports, e.g. [9100]")
    return [port(item) for item in value]


def ip_address(value: Any) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError("an IPv4 or IPv6 address, e.g. '0.0.0.0' or '127.0.0.1'") from None


def secret_text(value: Any) -> HiddenValue:
    raw = value.unmask() if isinstance(value, HiddenValue) else value
    if not isinstance(raw, str) or not raw or "\x00" in raw:
        raise ValueError("a non-empty string without NUL characters")
    return HiddenValue(raw)


def json_object(value: Any) -> dict:
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise ValueError("a mapping with string keys")
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise ValueError("a mapping that can be written as JSON") from None
    return value


def pem_public_key(value: Any) -> HiddenValue:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    text = secret_text(value)
    try:
        load_pem_public_key(text.unmask().encode())
    except ValueError:
        raise ValueError("a PEM public key ('-----BEGIN PUBLIC KEY-----' ...)") from None
    return text


# Docker image reference: [registry[:port]/]path[:tag][@sha256:digest], as Docker parses it.
_IMAGE_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_REFERENCE = (
    rf"(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?{_IMAGE_COMPONENT}(?:/{_IMAGE_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?"
)
image_reference = matching(
    _IMAGE_REFERENCE, "a Docker image reference such as 'mysql:5.7' or 'registry:5000/prisma:1.0'"
)
absolute_path = matching(
    r"/[A-Za-z0-9._/-]*[A-Za-z0-9._-]", "an absolute path such as '/opt/prisma'"
)
compose_project = matching(
    r"[a-z0-9][a-z0-9_-]*", "a Compose project name: lowercase letters, digits, '_' and '-'"
)
java_memory = matching(r"[1-9][0-9]*[kKmMgG]?", "a Java heap size such as '1G' or '512m'")
log_size = matching(r"[1-9][0-9]*[kmg]", "a size such as '10m', '500k' or '1g'")
docker_version = matching(
    r"[0-9A-Za-z.:~+-]+", "a Docker version such as '27.3.1' (or a full apt version string)"
)


SETTINGS: tuple[Setting, ...] = (
    # --- Docker engine -------------------------------------------------------------
    Setting(
        "docker_source",
        "official",
        "Where Docker comes from: 'official' (Docker's apt repository) or 'distro' "
        "(the distribution's docker.io + Compose v2 packages).",
        one_of("official", "distro"),
    ),
    Setting(
        "docker_version",
        None,
        "Pin docker-ce and docker-ce-cli to this version (e.g. '27.3.1'; official source "
        "only). None installs the newest.",
        optional(docker_version),
    ),
    Setting(
        "docker_log_max_size",
        "10m",
        "json-file log rotation: size of one container log file before it rotates.",
        log_size,
    ),
    Setting(
        "docker_log_max_file",
        3,
        "json-file log rotation: rotated files kept per container.",
        integer(1, 100),
    ),
    Setting(
        "docker_daemon_options",
        {},
        "Extra keys merged over the generated /etc/docker/daemon.json.",
        json_object,
    ),
    Setting(
        "docker_apt_lock_timeout",
        600,
        "Seconds to wait for apt/dpkg locks held by another process (unattended-upgrades "
        "on a fresh droplet) before failing with who holds them.",
        integer(0, 3 * 3600),
    ),
    Setting(
        "docker_apt_cache_seconds",
        3600,
        "An apt index younger than this is not refreshed.",
        integer(0, 31 * 86400),
    ),
    # --- The Prisma stack ----------------------------------------------------------
    Setting(
        "prisma_stack_dir",
        "/opt/prisma",
        "Directory on the host holding docker-compose.yml and .env (mode 0700).",
        absolute_path,
    ),
    Setting(
        "prisma_project_name",
        "prisma",
        "Compose project name (prefix of the network and the data volume).",
        compose_project,
    ),
    Setting(
        "prisma_image",
        "prismagraphql/prisma:1.0",
        "Image of the Prisma server.",
        image_reference,
    ),
    Setting(
        "prisma_db_image",
        "mysql:5.7",
        "Image of the MySQL database.",
        image_reference,
    ),
    Setting(
        "prisma_port",
        4466,
        "Port the Prisma server listens on and is published on (PORT).",
        port,
    ),
    Setting(
        "prisma_bind_address",
        "0.0.0.0",
        "Host address the Prisma port is published on.",
        ip_address,
    ),
    Setting(
        "prisma_java_heap",
        "1G",
        "Maximum Java heap of the Prisma server (JAVA_OPTS=-Xmx...).",
        java_memory,
    ),
    Setting(
        "prisma_sql_client_connection_limit",
        10,
        "SQL_CLIENT_CONNECTION_LIMIT: connections of the Prisma server to the client database.",
        integer(1, 1000),
    ),
    Setting(
        "prisma_sql_internal_connection_limit",
        10,
        "SQL_INTERNAL_CONNECTION_LIMIT: connections to Prisma's internal database.",
        integer(1, 1000),
    ),
    Setting(
        "prisma_db_max_connections",
        1000,
        "mysqld --max-connections.",
        integer(10, 100000),
    ),
    Setting(
        "prisma_db_name",
        "graphcool",
        "SQL_INTERNAL_DATABASE / MYSQL_DATABASE: Prisma's internal database.",
        matching(r"[A-Za-z0-9_]{1,64}", "a database name of letters, digits and '_'"),
    ),
    Setting(
        "prisma_db_debug_port",
        None,
        "Opt-in debug mapping of MySQL to 127.0.0.1:<port> on the host (the seed used 3366). "
        "None publishes no database port.",
        optional(port),
    ),
    Setting(
        "prisma_health_timeout",
        180,
        "Seconds to wait for GET /status to answer OK after a change.",
        integer(1, 3600),
    ),
    Setting(
        "prisma_firewall",
        False,
        "Firewall: only SSH, the Prisma port and prisma_firewall_extra_ports reachable from "
        "outside, enforced where Docker honours it (DOCKER-USER); needs systemd. On by "
        "default in inventories/do.py.",
        boolean,
    ),
    Setting(
        "prisma_firewall_extra_ports",
        [],
        "Firewall: more TCP ports to let in (e.g. a monitoring agent).",
        port_list,
    ),
    Setting(
        "prisma_lock_break",
        False,
        "Break a deploy lock held by another run (only when that run is known to be gone).",
        boolean,
    ),
    # --- Lifecycle files -----------------------------------------------------------
    Setting(
        "logs_service",
        "all",
        "logs.py: which service's logs: 'all', 'prisma-db' or 'prisma-database'.",
        one_of("all", "prisma-db", "prisma-database"),
    ),
    Setting("logs_lines", 100, "logs.py: last N lines of each service.", integer(1, 100000)),
    Setting(
        "logs_since",
        None,
        "logs.py: only lines since this time: a duration ('10m', '2h') or a timestamp "
        "('2026-11-28T10:00:00').",
        optional(
            matching(
                r"[0-9]+[smhd]|[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]+(Z|[+-][0-9:]+)?)?",
                "a duration such as '10m' or a timestamp such as '2026-11-28T10:00:00'",
            )
        ),
    ),
    Setting("logs_follow", False, "logs.py: keep following new lines (Ctrl-C ends).", boolean),
    Setting(
        "status_format",
        "table",
        "status.py: 'table' for people, 'json' for scripts (one JSON object per host).",
        one_of("table", "json"),
    ),
    Setting(
        "nuke_confirm",
        None,
        "nuke.py: consent to wipe a host's database; must equal the host's name.",
        optional(matching(r".+", "the host's name")),
    ),
    Setting(
        "nuke_backup",
        True,
        "nuke.py: take a database backup before wiping (false skips it).",
        boolean,
    ),
    Setting(
        "backup_keep",
        7,
        "backup.py: backups kept on the host (older ones are deleted; local copies stay).",
        integer(1, 1000),
    ),
    Setting(
        "restore_file",
        None,
        "restore.py: the local dump to load (a .sql.gz made by backup.py, with its .sha256).",
        optional(matching(r".+\.sql\.gz", "a path to a .sql.gz file made by backup.py")),
    ),
    Setting(
        "restore_confirm",
        None,
        "restore.py: consent to overwrite the databases in the dump; must equal the host's name.",
        optional(matching(r".+", "the host's name")),
    ),
    # --- Secrets: None means generated once and kept in the local secret store ------
    Setting(
        "prisma_db_password",
        None,
        "MySQL root password (SQL_CLIENT_PASSWORD, SQL_INTERNAL_PASSWORD). "
        "Environment: PRISMA_DB_PASSWORD.",
        optional(secret_text),
        secret=True,
    ),
    Setting(
        "prisma_schema_manager_secret",
        None,
        "SCHEMA_MANAGER_SECRET of the server. Environment: PRISMA_SCHEMA_MANAGER_SECRET.",
        optional(secret_text),
        secret=True,
    ),
    Setting(
        "prisma_cluster_public_key",
        None,
        "CLUSTER_PUBLIC_KEY (PEM). None generates an RSA key pair and keeps the private half "
        "locally. Environment: PRISMA_CLUSTER_PUBLIC_KEY.",
        optional(pem_public_key),
        secret=True,
    ),
)

# Values from the Prisma 1.1 Docker document and its examples: public, never secret.
KNOWN_DEFAULT_SECRETS = frozenset(
    {"MUCHSECRET", "SECRET_1", "SECRET_2", "graphcool", "PUBLIC_KEY", "secret", "password"}
)

SETTINGS_BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}
DEFAULTS: dict[str, Any] = {setting.name: setting.default for setting in SETTINGS}


@dataclass(frozen=True)
class Settings:
    """Validated settings of one host; attribute names are the setting names."""

    host_name: str
    docker_source: str
    docker_version: str | None
    docker_log_max_size: str
    docker_log_max_file: int
    docker_daemon_options: dict
    docker_apt_lock_timeout: int
    docker_apt_cache_seconds: int
    prisma_stack_dir: str
    prisma_project_name: str
    prisma_image: str
    prisma_db_image: str
    prisma_port: int
    prisma_bind_address: str
    prisma_java_heap: str
    prisma_sql_client_connection_limit: int
    prisma_sql_internal_connection_limit: int
    prisma_db_max_connections: int
    prisma_db_name: str
    prisma_db_debug_port: int | None
    prisma_health_timeout: int
    prisma_firewall: bool
    prisma_firewall_extra_ports: list
    prisma_lock_break: bool
    logs_service: str
    logs_lines: int
    logs_since: str | None
    logs_follow: bool
    status_format: str
    nuke_confirm: str | None
    nuke_backup: bool
    backup_keep: int
    restore_file: str | None
    restore_confirm: str | None
    prisma_db_password: HiddenValue | None
    prisma_schema_manager_secret: HiddenValue | None
    prisma_cluster_public_key: HiddenValue | None

    @property
    def health_url(self) -> str:
        """URL of GET /status as seen from the host itself."""
        address = self.prisma_bind_address
        if address in ("0.0.0.0", "::"):
            address = "127.0.0.1"
        elif ":" in address:
            address = f"[{address}]"
        return f"http://{address}:{self.prisma_port}/status"


def _describe(value: Any, secret: bool) -> str:
    if secret:
        return f"a {type(value).__name__} (value not shown)"
    return f"{value!r} ({type(value).__name__})"


def _unknown_key_error(host_name: str, key: str) -> str | None:
    """A did-you-mean message for keys that look like ours but are not."""
    close = difflib.get_close_matches(key, SETTINGS_BY_NAME, n=1, cutoff=0.8)
    if close:
        return f"host {host_name}: unknown setting '{key}'; did you mean '{close[0]}'?"
    if key.startswith(OUR_PREFIXES):
        return (
            f"host {host_name}: unknown setting '{key}'; "
            "see the settings table in README.md for the known ones"
        )
    return None


def check_known_keys(host_name: str, data: Mapping[str, Any], known: set[str]) -> None:
    """Raise for host data keys that look like settings of ours but are unknown."""
    for key in sorted(data):
        if key in known:
            continue
        message = _unknown_key_error(host_name, key)
        if message:
            raise SettingsError(message)


def validate(host_name: str, data: Mapping[str, Any]) -> dict:
    """Return every setting's validated value; raise SettingsError naming the first bad one."""
    check_known_keys(host_name, data, set(SETTINGS_BY_NAME))

    values: dict[str, Any] = {}
    for name, spec in SETTINGS_BY_NAME.items():
        raw = data.get(name, spec.default)
        try:
            values[name] = spec.check(raw)
        except ValueError as expected:
            raise SettingsError(
                f"host {host_name}: setting '{name}' must be {expected}, "
                f"got {_describe(raw, spec.secret)}"
            ) from None

    ssh_ports = {22, data.get("ssh_port") or 22}
    if values["prisma_port"] in ssh_ports:
        raise SettingsError(
            f"host {host_name}: setting 'prisma_port' must not be an SSH port "
            f"({', '.join(map(str, sorted(ssh_ports)))}), got {values['prisma_port']}"
        )
    for name in ("prisma_db_password", "prisma_schema_manager_secret"):
        secret = values[name]
        if secret is not None and secret.unmask() in KNOWN_DEFAULT_SECRETS:
            raise SettingsError(
                f"host {host_name}: setting '{name}' is a published example value; "
                "leave it unset to generate one, or give a secret of your own"
            )
    manager = values["prisma_schema_manager_secret"]
    if manager is not None and len(manager.unmask()) < 16:
        raise SettingsError(
            f"host {host_name}: setting 'prisma_schema_manager_secret' must be at least "
            "16 characters: it guards the management API"
        )
    debug_port = values["prisma_db_debug_port"]
    if debug_port is not None and debug_port == values["prisma_port"]:
        raise SettingsError(
            f"host {host_name}: settings 'prisma_db_debug_port' and 'prisma_port' must differ, "
            f"both are {debug_port}"
        )
    return values


def load_settings(host_name: str, data: Mapping[str, Any]) -> Settings:
    """Validate the host data of one host and return its Settings."""
    values = validate(host_name, data)
    names = {field.name for field in fields(Settings)}
    return Settings(host_name=host_name, **{k: v for k, v in values.items() if k in names})


def prepare_host() -> Settings:
    """The validated settings of the host pyinfra is preparing, after checking that this
    run can act on it as root (directly, or through passwordless sudo)."""
    from pyinfra import host

    from tasks.facts import PasswordlessSudo

    data = host.data.dict()
    settings = load_settings(host.name, data)
    if data.get("_sudo") and not host.get_fact(PasswordlessSudo, _sudo=False):
        user = data.get("ssh_user") or "this user"
        raise SettingsError(
            f"host {host.name}: {user} cannot run sudo without a password, and this deploy "
            f"needs root; allow it (a line '{user} ALL=(ALL) NOPASSWD:ALL' in "
            f"/etc/sudoers.d/{user}) or connect as root (PRISMA_SSH_USER=root)"
        )
    return settings


def settings_table() -> str:
    """The README's table of settings, generated from SETTINGS so the two cannot drift."""

    def shown(value: Any) -> str:
        return "None" if value is None else f"`{json.dumps(value)}`"

    rows = ["| setting | default | meaning |", "|---|---|---|"]
    rows += [f"| `{s.name}` | {shown(s.default)} | {s.meaning} |" for s in SETTINGS]
    return "\n".join(rows)
