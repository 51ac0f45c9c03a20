"""Off-site backups configured as the settings say, or taken out when they are off."""

from __future__ import annotations

from pyinfra import host
from pyinfra.facts.deb import DebPackages
from pyinfra.operations import apt, files, systemd

from tasks.backups.facts import OffsiteBackupsState
from tasks.backups.files import (
    CONFIG_DIR,
    PATHS,
    REPOSITORY_MARKER,
    TIMERS,
    WantedFile,
    host_repository,
)
from tasks.engine.commands import apt_lock_wait_option
from tasks.engine.operations import apt_is_free
from tasks.pyinfra_helpers import converged_already, part_deploy
from tasks.settings import Settings
from tasks.work import Work


@part_deploy("Configure off-site backups")
def configure_offsite_backups(
    settings: Settings, work: Work[OffsiteBackupsState, dict[str, WantedFile]]
) -> None:
    """`work.wanted`: path -> file of configured off-site backups (empty: they are off)."""
    on = settings.backup_repository is not None
    if not on and not work.needed:
        return  # off, and nothing of them on the host: not even a no-change operation
    summary = f"{host_repository(settings)}, timers on" if on else "not configured"
    if converged_already(
        work, "off-site backups", f"Off-site backups are as set ({summary})", summary
    ):
        return
    if on:
        _configure(settings, work.wanted)
    else:
        _remove()


def _configure(settings: Settings, wanted: dict[str, WantedFile]) -> None:
    # Imported here: a host whose backups are as set never needs these operations, and
    # they bring the local backups' helpers (restore.py's) into every deploy's start.
    from tasks.backups.operations import offsite_files, repository_initialised

    lock_wait = apt_lock_wait_option(settings.docker_apt_lock_timeout)
    apt_is_free(
        name="Wait until no other process holds apt (e.g. unattended-upgrades)",
        timeout=settings.docker_apt_lock_timeout,
    )
    apt.update(
        name="Refresh the apt index (when stale and restic is missing)",
        cache_time=settings.docker_apt_cache_seconds,
        _if=lambda: "restic" not in host.get_fact(DebPackages),
    )
    apt.packages(
        name="Install restic (the distribution's)",
        packages=["restic"],
        extra_install_args=lock_wait,
    )
    written = offsite_files(
        name=f"Write {CONFIG_DIR} (settings and secrets, 0600), the script and the units",
        wanted=wanted,
    )
    for path in PATHS:
        if path not in wanted:
            files.file(name=f"Remove {path}", path=path, present=False)
    repository_initialised(
        name="Open the backup repository (create it when there is none)",
        repository=host_repository(settings),
    )
    for timer in TIMERS:
        systemd.service(
            name=f"Enable and start {timer}",
            service=timer,
            running=True,
            enabled=True,
            daemon_reload=True,
        )
        systemd.service(
            name=f"Restart {timer} for its new schedule",
            service=timer,
            restarted=True,
            _if=written.did_change,
        )


def _remove() -> None:
    for timer in TIMERS:
        systemd.service(
            name=f"Stop and disable {timer} (backup_repository is unset)",
            service=timer,
            running=False,
            enabled=False,
        )
    for path in PATHS:
        files.file(name=f"Remove {path}", path=path, present=False)
    files.directory(name=f"Remove {CONFIG_DIR}", path=CONFIG_DIR, present=False)
    # Turned on again, the repository is opened anew (it may have gone meanwhile).
    files.file(
        name="Forget which repository was initialised", path=REPOSITORY_MARKER, present=False
    )
    systemd.daemon_reload(name="Forget the backup units")
