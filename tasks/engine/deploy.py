"""Install Docker as the settings say, on a supported host the plan has read."""

from __future__ import annotations

from io import StringIO

from pyinfra import host
from pyinfra.facts.deb import DebPackages
from pyinfra.operations import apt, files, server, systemd, sysvinit

from tasks.engine.commands import apt_lock_wait_option
from tasks.engine.config_files import (
    DAEMON_JSON,
    KEYRING,
    OFFICIAL_REPOSITORY,
    SOURCES_FILE,
    daemon_config,
    daemon_settings,
    docker_sources,
    needs_restart,
)
from tasks.engine.decide import swap_problems
from tasks.engine.facts import DockerEngineState
from tasks.engine.operations import apt_is_free, daemon_json, swap_file
from tasks.engine.packages import (
    DISTRO_CONFLICTS,
    DISTRO_PACKAGES,
    OFFICIAL_PACKAGES,
    PREREQUISITES,
    missing_packages,
    official_packages,
    wanted_packages,
)
from tasks.pyinfra_helpers import converged_already, part_deploy
from tasks.settings import Settings
from tasks.work import Work


@part_deploy("Install Docker")
def install_docker(settings: Settings, work: Work[DockerEngineState, None]) -> None:
    """Docker as the settings say. Nothing to do: one no-change operation instead of a
    dozen fact look-ups; otherwise the operations below, which check for themselves."""
    if converged_already(
        work, "Docker", "Docker is installed, configured and running", "Docker matches the settings"
    ):
        return
    found = work.found
    platform = found.platform
    wanted = wanted_packages(settings.docker_source, settings.docker_version, platform)
    lock_wait = apt_lock_wait_option(settings.docker_apt_lock_timeout)
    if swap_problems(found.swap, settings.prisma_swap_size):
        swap_file(
            name=f"Swap file for the stack's memory ({settings.prisma_swap_size or 'none'})",
            size=settings.prisma_swap_size,
        )
    apt_is_free(
        name="Wait until no other process holds apt (e.g. unattended-upgrades)",
        timeout=settings.docker_apt_lock_timeout,
    )
    if found.dpkg_interrupted:
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
    if settings.docker_source == "official":  # to fetch Docker's key and repository
        apt.packages(
            name="Install ca-certificates and curl",
            packages=list(PREREQUISITES),
            extra_install_args=lock_wait,
        )
    # Written before the packages: their first start of Docker already reads it.
    written = daemon_json(
        name="Write /etc/docker/daemon.json",
        content=daemon_config(settings),
        current=found.path(DAEMON_JSON),
    )
    if settings.docker_source == "official":
        _install_official_packages(settings, found, lock_wait)
    else:
        _install_distribution_packages(found, lock_wait)
    # Only a Docker that was running before the file changed has to take it in; with
    # live-restore its containers keep running either way.
    restart = found.active and needs_restart(found.daemon_json, daemon_settings(settings))
    reload = found.active and not restart
    _run_docker_service(
        found.systemd,
        restart=lambda: restart and written.did_change(),
        reload=lambda: reload and written.did_change(),
    )


def _remove_installed(
    name: str, packages: tuple[str, ...], found: DockerEngineState, lock_wait: str
) -> None:
    """Remove those of packages the host read found installed; no operation when none."""
    installed = [package for package in packages if package in found.packages]
    if installed:
        apt.packages(name=name, packages=installed, present=False, extra_uninstall_args=lock_wait)


def _install_official_packages(
    settings: Settings, found: DockerEngineState, lock_wait: str
) -> None:
    platform = found.platform
    _remove_installed(
        "Remove distribution packages that conflict with Docker's",
        DISTRO_CONFLICTS,
        found,
        lock_wait,
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
        src=StringIO(docker_sources(platform, found.architecture)),
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
        extra_install_args=lock_wait,
    )


def _install_distribution_packages(found: DockerEngineState, lock_wait: str) -> None:
    platform = found.platform
    _remove_installed(
        "Remove Docker's own packages, which conflict with the distribution's",
        OFFICIAL_PACKAGES,
        found,
        lock_wait,
    )
    # One apt-get run for everything: each run costs seconds of its own (the index
    # read, dpkg's triggers) on a fresh host.
    apt.packages(
        name="Install Docker, Compose v2, ca-certificates and curl from the distribution",
        packages=[*PREREQUISITES, *DISTRO_PACKAGES[platform.release]],
        extra_install_args=lock_wait,
    )


def _run_docker_service(systemd_is_init: bool, restart, reload) -> None:
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
    service(
        name="Reload Docker for the new daemon.json (options it re-reads)",
        service="docker",
        reloaded=True,
        _if=reload,
    )
