"""
Every setting of this project, declared once: its name and type (a field of Settings),
its default, its meaning and its check. The catalogue SETTINGS is read off these fields,
so a setting cannot exist in one place and be missing in the other.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from pyinfra.api import HiddenValue

from tasks.settings import checks as check
from tasks.settings import checks_backups as backup_check
from tasks.settings import checks_network as network
from tasks.settings.droplets import DropletSettings
from tasks.settings.offsite import OffsiteBackupSettings
from tasks.settings.spec import SETTING_KEY, Setting, setting


@dataclass(frozen=True)
class Settings(DropletSettings, OffsiteBackupSettings):
    """Validated settings of one host; attribute names are the setting names (the
    DigitalOcean and off-site backup ones are declared in droplets.py and offsite.py,
    inherited from there)."""

    host_name: str

    # --- Docker engine -------------------------------------------------------------
    docker_source: str = setting(
        "official",
        "Where Docker comes from: 'official' (Docker's apt repository) or 'distro' "
        "(the distribution's docker.io + Compose v2 packages).",
        check.one_of("official", "distro"),
    )
    docker_version: str | None = setting(
        None,
        "Pin docker-ce and docker-ce-cli to this version (e.g. '27.3.1'; official source "
        "only). None installs the newest.",
        check.optional(check.docker_version),
    )
    docker_log_max_size: str = setting(
        "10m",
        "json-file log rotation: size of one container log file before it rotates.",
        check.log_size,
    )
    docker_log_max_file: int = setting(
        3, "json-file log rotation: rotated files kept per container.", check.integer(1, 100)
    )
    docker_daemon_options: dict = setting(
        {},
        "Extra keys merged over the generated /etc/docker/daemon.json (keys that would expose "
        "the Docker API or bypass the firewall, such as hosts or iptables, are refused).",
        check.daemon_options,
    )
    docker_apt_lock_timeout: int = setting(
        600,
        "Seconds to wait for apt/dpkg locks held by another process (unattended-upgrades "
        "on a fresh droplet) before failing with who holds them.",
        check.integer(0, 3 * 3600),
    )
    docker_apt_cache_seconds: int = setting(
        3600, "An apt index younger than this is not refreshed.", check.integer(0, 31 * 86400)
    )

    # --- The Prisma stack ----------------------------------------------------------
    prisma_stack_dir: str = setting(
        "/opt/prisma",
        "Directory on the host holding docker-compose.yml and .env (mode 0700): a directory "
        "of its own, not a system directory; one that holds files of others is refused.",
        check.stack_directory,
    )
    prisma_project_name: str = setting(
        "prisma",
        "Compose project name (prefix of the network and the data volume).",
        check.compose_project,
    )
    prisma_image: str = setting(
        "prismagraphql/prisma:1.0",
        "Image of the Prisma server (1.0 exists for amd64 only: elsewhere give an image built "
        "for the host).",
        check.image_reference,
    )
    prisma_db_image: str = setting(
        "mysql:5.7",
        "Image of the MySQL database (5.7 exists for amd64 only: elsewhere give an image "
        "built for the host).",
        check.image_reference,
    )
    prisma_port: int = setting(
        4466, "Port the Prisma server listens on and is published on (PORT).", check.port
    )
    prisma_bind_address: str = setting(
        "0.0.0.0", "Host address the Prisma port is published on.", check.ip_address
    )
    prisma_java_heap: str = setting(
        "1G",
        "Maximum Java heap of the Prisma server (JAVA_OPTS=-Xmx...); the server's container "
        "may use 256 MiB more, the database's 512 MiB.",
        check.java_memory,
    )
    prisma_sql_client_connection_limit: int = setting(
        10,
        "SQL_CLIENT_CONNECTION_LIMIT: connections of the Prisma server to the client database.",
        check.integer(1, 1000),
    )
    prisma_sql_internal_connection_limit: int = setting(
        10,
        "SQL_INTERNAL_CONNECTION_LIMIT: connections to Prisma's internal database.",
        check.integer(1, 1000),
    )
    prisma_db_max_connections: int = setting(
        1000, "mysqld --max-connections.", check.integer(10, 100000)
    )
    prisma_db_debug_port: int | None = setting(
        None,
        "Opt-in debug mapping of MySQL to 127.0.0.1:<port> on the host (the seed used 3366). "
        "None publishes no database port.",
        check.optional(check.port),
    )
    prisma_swap_size: str | None = setting(
        None,
        "Size of a swap file (/prisma-deploy.swap: 0600, in /etc/fstab) for hosts whose memory "
        "is below what the Java heap and MySQL need (e.g. '1G' on a 1 GB droplet). None "
        "creates none (and removes the one an earlier run made).",
        check.optional(check.swap_size),
    )
    prisma_health_timeout: int = setting(
        180,
        "Seconds to wait for GET /status to answer OK after a change.",
        check.integer(1, 3600),
    )
    prisma_firewall: bool = setting(
        False,
        "Firewall: only SSH, the Prisma port and prisma_firewall_extra_ports reachable from "
        "outside, enforced where Docker honours it (DOCKER-USER); needs systemd. On by "
        "default in inventories/do.py.",
        check.boolean,
    )
    prisma_firewall_extra_ports: list = setting(
        [], "Firewall: more TCP ports to let in (e.g. a monitoring agent).", check.port_list
    )
    # --- HTTPS in front of Prisma -----------------------------------------------------
    prisma_domain: str | None = setting(
        None,
        "Serve Prisma as https://<domain> only, through a proxy (Caddy) with certificates from "
        "prisma_acme_ca; the Prisma port is then published on 127.0.0.1 only. None: plain HTTP "
        "on the Prisma port (a warning on remote hosts). provision.py adds an A record at the "
        "reserved IP in the DigitalOcean-managed domain it ends with (several droplets: "
        "<droplet>.<domain>).",
        check.optional(network.dns_name),
    )
    prisma_acme_email: str | None = setting(
        None,
        "Contact address of the ACME account (expiry notices).",
        check.optional(network.email_address),
    )
    prisma_proxy_image: str = setting(
        "caddy:2", "Image of the HTTPS proxy (Caddy 2).", check.image_reference
    )
    prisma_acme_ca: str = setting(
        "https://acme-v02.api.letsencrypt.org/directory",
        "ACME directory certificates are ordered from (default: Let's Encrypt's production).",
        network.https_url,
    )
    prisma_acme_ca_root: str | None = setting(
        None,
        "Local file of PEM CA certificates to trust for a private ACME server (e.g. step-ca): "
        "its HTTPS, and the certificates it issues. None: the system's trust store.",
        check.optional(network.pem_certificates_file),
    )
    prisma_admin_sources: list = setting(
        [],
        "Addresses or CIDR ranges allowed to reach Prisma's management paths (/cluster, and the "
        "private, import and export paths of a service) through the proxy; everyone else gets "
        "403. Empty: nobody from outside (use an SSH tunnel).",
        network.cidr_list,
    )
    prisma_lock_break: bool = setting(
        False,
        "Break a deploy lock held by another run (only when that run is known to be gone).",
        check.boolean,
    )

    # --- Lifecycle files -----------------------------------------------------------
    logs_service: str = setting(
        "all",
        "logs.py: which service's logs: 'all', 'prisma-db', 'prisma-database' or "
        "'prisma-proxy' (with prisma_domain).",
        check.one_of("all", "prisma-db", "prisma-database", "prisma-proxy"),
    )
    logs_lines: int = setting(
        100, "logs.py: last N lines of each service.", check.integer(1, 100000)
    )
    logs_since: str | None = setting(
        None,
        "logs.py: only lines since this time: a duration ('10m', '2h') or a timestamp "
        "('2026-11-28T10:00:00').",
        check.optional(check.log_start),
    )
    logs_follow: bool = setting(
        False, "logs.py: keep following new lines (Ctrl-C ends).", check.boolean
    )
    status_format: str = setting(
        "table",
        "status.py: 'table' for people, 'json' for scripts (one JSON object per host).",
        check.one_of("table", "json"),
    )
    nuke_confirm: str | None = setting(
        None,
        "nuke.py: consent to wipe a host's database; must equal the host's name.",
        check.optional(check.host_name),
    )
    nuke_backup: bool = setting(
        True, "nuke.py: take a database backup before wiping (false skips it).", check.boolean
    )
    backup_keep: int = setting(
        7,
        "backup.py: backups kept on the host (older ones are deleted; local copies stay).",
        check.integer(1, 1000),
    )
    restore_file: str | None = setting(
        None,
        "restore.py: the local dump to load (a .sql.gz made by backup.py, with its .sha256).",
        check.optional(check.dump_file),
    )
    restore_snapshot: str | None = setting(
        None,
        "restore.py: the snapshot of the off-site repository to load instead: 'latest' or its "
        "ID (needs backup_repository).",
        check.optional(backup_check.snapshot),
    )
    restore_confirm: str | None = setting(
        None,
        "restore.py: consent to overwrite the databases in the dump; must equal the host's name.",
        check.optional(check.host_name),
    )

    # --- Secrets: None means generated once and kept in the local secret store ------
    prisma_db_password: HiddenValue | None = setting(
        None,
        "MySQL root password (SQL_CLIENT_PASSWORD, SQL_INTERNAL_PASSWORD), without ' \" \\ "
        "or control characters (mysql:5.7's entrypoint cannot take them). "
        "Environment: PRISMA_DB_PASSWORD.",
        check.optional(check.db_password),
        secret=True,
    )
    prisma_schema_manager_secret: HiddenValue | None = setting(
        None,
        "SCHEMA_MANAGER_SECRET of the server (16 characters or more). Environment: "
        "PRISMA_SCHEMA_MANAGER_SECRET.",
        check.optional(check.long_secret(16)),
        secret=True,
    )
    prisma_cluster_public_key: HiddenValue | None = setting(
        None,
        "CLUSTER_PUBLIC_KEY (PEM). None generates an RSA key pair and keeps the private half "
        "locally. Environment: PRISMA_CLUSTER_PUBLIC_KEY.",
        check.optional(check.pem_public_key),
        secret=True,
    )

    # Not a setting: the SSH port pyinfra connects to (the firewall lets it in).
    ssh_port: int = 22
    # Not a setting: the address pyinfra connects to (one of the host's own, for the
    # check that prisma_domain points at the host).
    ssh_hostname: str = ""

    @property
    def health_url(self) -> str:
        """URL of GET /status as seen from the host itself."""
        address = self.prisma_bind_address
        if self.prisma_domain or address in ("0.0.0.0", "::"):
            address = "127.0.0.1"
        elif ":" in address:
            address = f"[{address}]"
        return f"http://{address}:{self.prisma_port}/status"


_INHERITED = tuple(
    {f.name for f in fields(base)} for base in (DropletSettings, OffsiteBackupSettings)
)


def _catalogue() -> tuple[Setting, ...]:
    """This file's settings, then the DigitalOcean ones, then off-site backups' (base
    classes' fields come first in a dataclass); secrets last."""

    def place(spec) -> tuple[bool, int]:
        group = next((i + 1 for i, names in enumerate(_INHERITED) if spec.name in names), 0)
        return (spec.metadata[SETTING_KEY].secret, group)

    specs = [spec for spec in fields(Settings) if SETTING_KEY in spec.metadata]
    return tuple(replace(s.metadata[SETTING_KEY], name=s.name) for s in sorted(specs, key=place))


SETTINGS: tuple[Setting, ...] = _catalogue()
SETTINGS_BY_NAME: dict[str, Setting] = {spec.name: spec for spec in SETTINGS}
DEFAULTS: dict[str, Any] = {spec.name: spec.default for spec in SETTINGS}
