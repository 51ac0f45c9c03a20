"""The files the engine part writes: daemon.json and Docker's apt repository."""

from __future__ import annotations

import json

from tasks.engine.packages import Platform
from tasks.settings import Settings

DAEMON_JSON = "/etc/docker/daemon.json"
KEYRING = "/etc/apt/keyrings/docker.asc"
SOURCES_FILE = "/etc/apt/sources.list.d/docker.sources"
OFFICIAL_REPOSITORY = "https://download.docker.com/linux"
ENGINE_PATHS = [DAEMON_JSON, KEYRING, SOURCES_FILE]


def docker_sources(platform: Platform, architecture: str) -> str:
    """Docker's repository as a deb822 sources file, bound to its key."""
    return (
        "Types: deb\n"
        f"URIs: {OFFICIAL_REPOSITORY}/{platform.distro}\n"
        f"Suites: {platform.codename}\n"
        "Components: stable\n"
        f"Architectures: {architecture}\n"
        f"Signed-By: {KEYRING}\n"
    )


# daemon.json keys dockerd applies on SIGHUP (`systemctl reload docker`), per Docker's
# documentation of the configuration reload; any other change needs a restart.
RELOADABLE_OPTIONS = frozenset(
    {
        "debug",
        "labels",
        "live-restore",
        "max-concurrent-downloads",
        "max-concurrent-uploads",
        "max-download-attempts",
        "default-runtime",
        "runtimes",
        "authorization-plugins",
        "insecure-registries",
        "registry-mirrors",
        "shutdown-timeout",
        "features",
    }
)


def daemon_settings(settings: Settings) -> dict:
    """daemon.json as data: bounded json-file logs so containers cannot fill the disk, and
    live-restore, so restarting the daemon does not stop the containers."""
    config: dict = {
        "live-restore": True,
        "log-driver": "json-file",
        "log-opts": {
            "max-size": settings.docker_log_max_size,
            "max-file": str(settings.docker_log_max_file),
        },
    }
    config.update(settings.docker_daemon_options)
    return config


def daemon_config(settings: Settings) -> str:
    return json.dumps(daemon_settings(settings), indent=2, sort_keys=True) + "\n"


def needs_restart(current: dict | None, wanted: dict) -> bool:
    """Whether going from the daemon.json in force to the wanted one needs a restart of
    dockerd (a reload does for the keys it can re-read)."""
    if current is None:
        return True
    changed = {key for key in current.keys() | wanted.keys() if current.get(key) != wanted.get(key)}
    return not changed <= RELOADABLE_OPTIONS
