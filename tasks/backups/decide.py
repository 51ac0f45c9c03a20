"""What differs between off-site backups as read and as the settings want them."""

from __future__ import annotations

from tasks.backups.facts import OffsiteBackupsState
from tasks.backups.files import CONFIG_DIR, PATHS, TIMERS, WantedFile, host_repository
from tasks.errors import HostRefused
from tasks.host.paths import sha256_text
from tasks.settings import Settings


def check_schedules(settings: Settings, found: OffsiteBackupsState) -> None:
    """Refuse, before anything changes, a schedule the host's systemd cannot parse."""
    for schedule in found.bad_schedules:
        raise HostRefused(
            f"host {settings.host_name}: the backup schedule {schedule!r} is not a calendar "
            "event systemd understands (`systemd-analyze calendar` refused it on the host); "
            "see systemd.time(7), e.g. 'daily' or '*-*-* 03:00:00'"
        )


def _file_differs(found: OffsiteBackupsState, path: str, wanted: WantedFile) -> bool:
    current = found.path(path)
    return not (
        current.is_owned_by_root("file", wanted.mode)
        and current.sha256 == sha256_text(wanted.content.unmask())
    )


def offsite_problems(
    settings: Settings, found: OffsiteBackupsState, wanted: dict[str, WantedFile]
) -> list[str]:
    """What differs from the wanted off-site backups (on: `wanted` path -> file; off: none
    of its files); empty when nothing."""
    if settings.backup_repository is None:
        return [f"{path}: left from off-site backups" for path in PATHS if found.path(path).exists]
    check_schedules(settings, found)
    problems = [] if found.restic_version else ["restic: not installed"]
    if not found.path(CONFIG_DIR).is_owned_by_root("directory", 700):
        problems.append(f"{CONFIG_DIR}: not a 0700 directory of root's")
    problems += [
        f"{path}: differs" for path, file in wanted.items() if _file_differs(found, path, file)
    ]
    problems += [
        f"{path}: left over" for path in PATHS if path not in wanted and found.path(path).exists
    ]
    problems += [
        f"{timer}: not enabled and running" for timer in TIMERS if not found.timer_running(timer)
    ]
    if found.initialised_repository != host_repository(settings):
        problems.append(f"{host_repository(settings)}: not initialised from this host yet")
    return problems
