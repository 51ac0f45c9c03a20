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


def daemon_config(settings: Settings) -> str:
    """daemon.json: bounded json-file logs so containers cannot fill the disk."""
    config: dict = {
        "log-driver": "json-file",
        "log-opts": {
            "max-size": settings.docker_log_max_size,
            "max-file": str(settings.docker_log_max_file),
        },
    }
    config.update(settings.docker_daemon_options)
    return json.dumps(config, indent=2, sort_keys=True) + "\n"
