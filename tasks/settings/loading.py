"""
Host data to Settings: every value checked, then the rules that tie settings together.
Runs while pyinfra prepares the run, so bad input stops before any host is touched,
with an error naming the setting and what it expects.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping
from typing import Any

from tasks.errors import HostRefused
from tasks.settings.catalogue import SETTINGS_BY_NAME, Settings

OUR_PREFIXES = (
    "docker_",
    "prisma_",
    "nuke_",
    "backup_",
    "restore_",
    "logs_",
    "status_",
    "do_",
    "destroy_",
)


class SettingsError(HostRefused):
    """Bad host data: the message names the setting and what it expects."""


def _describe(value: Any, secret: bool) -> str:
    if secret:
        return f"a {type(value).__name__} (value not shown)"
    return f"{value!r} ({type(value).__name__})"


# Settings that existed once, with the reason they are gone.
REMOVED_SETTINGS = {
    "prisma_db_name": (
        "Prisma 1.0 keeps its internal tables in a schema it always names 'graphcool' but "
        "reads them through SQL_INTERNAL_DATABASE, so no other name works; remove the key"
    ),
}


@functools.cache
def _closest_setting(key: str) -> str | None:
    """The setting `key` is most likely a typo of, if any. Cached: every host brings the
    same keys of pyinfra's own (ssh_user, ssh_port, ...), and comparing one with every
    setting name is most of the time a host's settings take to load."""
    close = difflib.get_close_matches(key, SETTINGS_BY_NAME, n=1, cutoff=0.8)
    return close[0] if close else None


def _unknown_key_error(host_name: str, key: str) -> str | None:
    """A did-you-mean message for keys that look like ours but are not."""
    if key in REMOVED_SETTINGS:
        return f"host {host_name}: setting '{key}' was removed: {REMOVED_SETTINGS[key]}"
    close = _closest_setting(key)
    if close:
        return f"host {host_name}: unknown setting '{key}'; did you mean '{close}'?"
    if key.startswith(OUR_PREFIXES):
        return (
            f"host {host_name}: unknown setting '{key}'; "
            "see the settings table in README.md for the known ones"
        )
    return None


def check_known_keys(host_name: str, data: Mapping[str, Any]) -> None:
    """Raise for host data keys that look like settings of ours but are unknown."""
    for key in sorted(data):
        message = None if key in SETTINGS_BY_NAME else _unknown_key_error(host_name, key)
        if message:
            raise SettingsError(message)


def checked_values(host_name: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting's value, checked and normalised; the first bad one raises."""
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
    return values


def _check_ports(host_name: str, values: Mapping[str, Any], ssh_port: Any) -> None:
    ssh_ports = {22, ssh_port or 22}
    if values["prisma_port"] in ssh_ports:
        raise SettingsError(
            f"host {host_name}: setting 'prisma_port' must not be an SSH port "
            f"({', '.join(map(str, sorted(ssh_ports)))}), got {values['prisma_port']}"
        )
    debug_port = values["prisma_db_debug_port"]
    if debug_port is not None and debug_port == values["prisma_port"]:
        raise SettingsError(
            f"host {host_name}: settings 'prisma_db_debug_port' and 'prisma_port' must differ, "
            f"both are {debug_port}"
        )


# Ports the HTTPS proxy publishes on every address when prisma_domain is set.
PROXY_PORTS = (80, 443)


def _check_proxy(host_name: str, values: Mapping[str, Any]) -> None:
    """Settings that only mean something with a domain, or clash with the proxy."""
    if not values["prisma_domain"]:
        if values["prisma_admin_sources"]:
            raise SettingsError(
                f"host {host_name}: setting 'prisma_admin_sources' needs 'prisma_domain': "
                "without a domain there is no proxy to restrict the management paths"
            )
        return
    for name in ("prisma_port", "prisma_db_debug_port"):
        if values[name] in PROXY_PORTS:
            raise SettingsError(
                f"host {host_name}: setting '{name}' must not be 80 or 443 with "
                f"'prisma_domain' (the HTTPS proxy publishes them), got {values[name]}"
            )
    if values["prisma_bind_address"] not in ("0.0.0.0", "::", "127.0.0.1"):
        raise SettingsError(
            f"host {host_name}: setting 'prisma_bind_address' must be left unset with "
            "'prisma_domain' (the Prisma port is then published on 127.0.0.1 only), got "
            f"{values['prisma_bind_address']!r}"
        )


def _check_backups(host_name: str, values: Mapping[str, Any]) -> None:
    keep = ("backup_keep_daily", "backup_keep_weekly", "backup_keep_monthly")
    if not any(values[name] for name in keep):
        raise SettingsError(
            f"host {host_name}: settings {', '.join(keep)} are all 0, which would keep no "
            "snapshot; keep at least one"
        )
    if values["restore_snapshot"] is not None:
        if values["restore_file"] is not None:
            raise SettingsError(
                f"host {host_name}: give restore_file or restore_snapshot, not both"
            )
        if values["backup_repository"] is None:
            raise SettingsError(
                f"host {host_name}: restore_snapshot needs backup_repository (the off-site "
                "repository to restore from)"
            )


def load_settings(host_name: str, data: Mapping[str, Any]) -> Settings:
    """Validate the host data of one host and return its Settings."""
    check_known_keys(host_name, data)
    values = checked_values(host_name, data)
    ssh_port = data.get("ssh_port") or 22
    _check_ports(host_name, values, ssh_port)
    _check_proxy(host_name, values)
    _check_backups(host_name, values)
    ssh_hostname = str(data.get("ssh_hostname") or host_name)
    return Settings(host_name=host_name, ssh_port=ssh_port, ssh_hostname=ssh_hostname, **values)
