"""
Docker Engine and Compose v2 on Debian and Ubuntu: from Docker's own apt repository
(``docker_source = "official"``) or from the distribution (``"distro"``), with a
generated daemon.json and the service enabled under systemd or SysV init.
"""

from __future__ import annotations

import json
from io import StringIO

from pyinfra import host, logger
from pyinfra.api import deploy
from pyinfra.facts.deb import DebPackages
from pyinfra.operations import apt, files, server, systemd, sysvinit

from tasks.errors import HostRefused
from tasks.facts import EngineState, Platform
from tasks.operations import already_converged, apt_is_free
from tasks.settings import Settings

DAEMON_JSON = "/etc/docker/daemon.json"
KEYRING = "/etc/apt/keyrings/docker.asc"
SOURCES_FILE = "/etc/apt/sources.list.d/docker.sources"
OFFICIAL_REPOSITORY = "https://download.docker.com/linux"

OFFICIAL_PACKAGES = (
    "docker-ce",
    "docker-ce-cli",
    "containerd.io",
    "docker-buildx-plugin",
    "docker-compose-plugin",
)
# Docker's install guide removes these before installing docker-ce: they ship their
# own dockerd, containerd or runc and conflict with Docker's packages.
DISTRO_CONFLICTS = (
    "docker.io",
    "docker-compose",
    "docker-compose-v2",
    "docker-doc",
    "podman-docker",
    "containerd",
    "runc",
)

OFFICIAL_RELEASES = {
    ("debian", "12"),
    ("debian", "13"),
    ("ubuntu", "22.04"),
    ("ubuntu", "24.04"),
}
# The distribution's own Docker with a Compose v2 package, where one exists.
DISTRO_PACKAGES = {
    ("debian", "13"): ("docker.io", "docker-compose"),
    ("ubuntu", "22.04"): ("docker.io", "docker-compose-v2"),
    ("ubuntu", "24.04"): ("docker.io", "docker-compose-v2"),
}
PREREQUISITES = ("ca-certificates", "curl")


class UnsupportedPlatformError(HostRefused):
    """The host's OS or Docker source cannot be handled; nothing was changed."""


def check_supported(platform: Platform, source: str, host_name: str) -> None:
    """Raise before anything changes if this platform/source pair cannot be installed."""
    supported = ", ".join(f"{d} {v}" for d, v in sorted(OFFICIAL_RELEASES))
    if platform.release not in OFFICIAL_RELEASES:
        raise UnsupportedPlatformError(
            f"host {host_name}: {platform.describe()} is not supported; "
            f"supported systems: {supported}"
        )
    if source == "distro" and platform.release not in DISTRO_PACKAGES:
        raise UnsupportedPlatformError(
            f"host {host_name}: {platform.describe()} has no Compose v2 package of its own "
            "(only Compose v1); set docker_source = 'official' to install Docker's packages"
        )


def apt_version(version: str, platform: Platform) -> str:
    """Docker's apt version string, e.g. '5:27.3.1-1~debian.12~bookworm', for a short pin."""
    if ":" in version or "~" in version:
        return version
    return f"5:{version}-1~{platform.distro}.{platform.version}~{platform.codename}"


def official_packages(version: str | None, platform: Platform) -> list[str]:
    pinned = ("docker-ce", "docker-ce-cli")
    if version is None:
        return list(OFFICIAL_PACKAGES)
    exact = apt_version(version, platform)
    return [f"{name}={exact}" if name in pinned else name for name in OFFICIAL_PACKAGES]


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


def wanted_packages(settings: Settings, platform: Platform) -> list[str]:
    """Every package the host needs, pinned as `name=version` where a pin is set."""
    if settings.docker_source == "official":
        docker = official_packages(settings.docker_version, platform)
    else:
        docker = list(DISTRO_PACKAGES[platform.release])
    return [*PREREQUISITES, *docker]


def missing_packages(wanted: list[str], installed: dict[str, list[str]]) -> list[str]:
    """The wanted packages (name or name=version) the DebPackages fact does not show."""
    missing = []
    for package in wanted:
        name, _, version = package.partition("=")
        versions = installed.get(name, [])
        if not versions or (version and version not in versions):
            missing.append(package)
    return missing


CANDIDATE_PACKAGES = sorted({*PREREQUISITES, *OFFICIAL_PACKAGES, *DISTRO_CONFLICTS})
ENGINE_PATHS = [DAEMON_JSON, KEYRING, SOURCES_FILE]


def engine_problems(engine: EngineState, settings: Settings) -> list[str]:
    """What differs from an installed, configured, running Docker; empty when nothing."""
    platform = engine.platform
    problems = [
        f"{name}: not installed"
        for name in missing_packages(wanted_packages(settings, platform), engine.packages)
    ]
    conflicts = DISTRO_CONFLICTS if settings.docker_source == "official" else OFFICIAL_PACKAGES
    problems += [f"{name}: conflicts, installed" for name in conflicts if name in engine.packages]
    if not engine.of(DAEMON_JSON).holds(daemon_config(settings)):
        problems.append(f"{DAEMON_JSON}: differs")
    if settings.docker_source == "official":
        if not engine.of(KEYRING).exists:
            problems.append(f"{KEYRING}: missing")
        if not engine.of(SOURCES_FILE).holds(docker_sources(platform, engine.architecture)):
            problems.append(f"{SOURCES_FILE}: differs")
    if not engine.enabled:
        problems.append("docker service: not enabled")
    if not engine.active:
        problems.append("docker service: not running")
    if engine.dpkg_interrupted:
        problems.append("dpkg: an earlier run was interrupted")
    return problems


@deploy("Install Docker")
def install_docker(settings: Settings, engine: EngineState, problems: list[str]) -> None:
    """Docker as the settings say, on a supported host read by read_host() as `engine`.

    `problems` (engine_problems) empty: one no-change operation instead of a dozen fact
    look-ups; otherwise the operations below, which check for themselves when they run.
    """
    platform = engine.platform
    if not problems:
        already_converged(
            name="Docker is installed, configured and running",
            summary="Docker matches the settings",
        )
        return
    logger.debug(f"{host.print_prefix}Docker needs work: {'; '.join(problems)}")

    wanted = wanted_packages(settings, platform)
    apt_is_free(
        name="Wait until no other process holds apt (e.g. unattended-upgrades)",
        timeout=settings.docker_apt_lock_timeout,
    )
    if engine.dpkg_interrupted:
        server.shell(
            name="Finish the package installation an earlier run left interrupted",
            commands=["DEBIAN_FRONTEND=noninteractive dpkg --configure -a"],
        )
    # Refreshing the index only matters when something is to be installed; doing it on
    # a complete host would make every later run report a change.
    apt.update(
        name="Refresh the apt index (when stale and packages are missing)",
        cache_time=settings.docker_apt_cache_seconds,
        _if=lambda: bool(missing_packages(wanted, host.get_fact(DebPackages))),
    )
    apt.packages(
        name="Install ca-certificates and curl",
        packages=list(PREREQUISITES),
        extra_install_args=apt_lock_wait(settings),
    )
    daemon_json = files.put(
        name="Write /etc/docker/daemon.json",
        src=StringIO(daemon_config(settings)),
        dest=DAEMON_JSON,
        mode="644",
        create_remote_dir=True,
    )
    if settings.docker_source == "official":
        _install_official_packages(settings, platform, engine.architecture)
    else:
        _install_distribution_packages(settings, platform)
    _run_docker_service(engine.systemd, restart=daemon_json.did_change)


def apt_lock_wait(settings: Settings) -> str:
    # Covers a lock taken between apt_is_free and the install (apt waits, then says who).
    return f"-o DPkg::Lock::Timeout={settings.docker_apt_lock_timeout}"


def _install_official_packages(settings: Settings, platform: Platform, architecture: str) -> None:
    apt.packages(
        name="Remove distribution packages that conflict with Docker's",
        packages=list(DISTRO_CONFLICTS),
        present=False,
        extra_uninstall_args=apt_lock_wait(settings),
    )
    files.directory(name="Create /etc/apt/keyrings", path="/etc/apt/keyrings", mode="755")
    key = files.download(
        name="Download Docker's apt signing key",
        src=f"{OFFICIAL_REPOSITORY}/{platform.distro}/gpg",
        dest=KEYRING,
        mode="644",
    )
    sources = files.put(
        name="Add Docker's apt repository",
        src=StringIO(docker_sources(platform, architecture)),
        dest=SOURCES_FILE,
        mode="644",
    )
    apt.update(
        name="Refresh the apt index for Docker's repository",
        _if=lambda: key.did_change() or sources.did_change(),
    )
    apt.packages(
        name="Install Docker Engine and Compose from Docker's repository",
        packages=official_packages(settings.docker_version, platform),
        extra_install_args=apt_lock_wait(settings),
    )


def _install_distribution_packages(settings: Settings, platform: Platform) -> None:
    apt.packages(
        name="Remove Docker's own packages, which conflict with the distribution's",
        packages=list(OFFICIAL_PACKAGES),
        present=False,
        extra_uninstall_args=apt_lock_wait(settings),
    )
    apt.packages(
        name="Install Docker and Compose v2 from the distribution",
        packages=list(DISTRO_PACKAGES[platform.release]),
        extra_install_args=apt_lock_wait(settings),
    )


def _run_docker_service(systemd_is_init: bool, restart) -> None:
    # systemd counts only when it is PID 1 (the sd_booted() test the fact runs); a
    # container or an old host can have systemctl installed without it.
    service = systemd.service if systemd_is_init else sysvinit.service
    service(name="Enable and start Docker", service="docker", enabled=True)
    service(
        name="Restart Docker for the new daemon.json",
        service="docker",
        restarted=True,
        _if=restart,
    )
