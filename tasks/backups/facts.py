"""
What the off-site backup part compares, read from the host: its files, restic, its
timers, the repository it last initialised, and whether the host's systemd accepts the
schedules (`systemd-analyze calendar`).
"""

from __future__ import annotations

import shlex

import msgspec
from pyinfra.api import FactBase
from typing_extensions import override

from tasks.backups.files import CONFIG_DIR, PATHS, REPOSITORY_MARKER, TIMERS, UNIT_DIR
from tasks.host.paths import MISSING, PathState, paths_in, with_paths
from tasks.host.probes import parse_unit_states, tagged, unit_states_probe


class OffsiteBackupsState(msgspec.Struct, frozen=True):
    paths: dict[str, PathState] = msgspec.field(default_factory=dict)
    restic_version: str = ""
    timers_enabled: tuple[str, ...] = ()
    timers_active: tuple[str, ...] = ()
    initialised_repository: str = ""  # the repository `prisma-backup init` last opened
    bad_schedules: tuple[str, ...] = ()  # schedules systemd-analyze refused

    def path(self, path: str) -> PathState:
        return self.paths.get(path, MISSING)

    def timer_running(self, timer: str) -> bool:
        return timer in self.timers_enabled and timer in self.timers_active


RESTIC_PROBE = "dpkg-query -W -f='restic ${Version} ${db:Status-Abbrev}\\n' restic 2>/dev/null; "


BACKUP_PATHS = (CONFIG_DIR, *PATHS)


def offsite_backups_state_probe(schedules: tuple[str, ...] = ()) -> str:
    """Tagged lines: the timers' unit states, `repository <url>`; when on (schedules
    given) also `restic <version>` and `bad-schedule <schedule>` per schedule refused.
    Off, restic is not looked up: nothing is decided on it. The paths are probed
    beside (BACKUP_PATHS)."""
    calendar = "".join(
        f"systemd-analyze calendar -- {shlex.quote(schedule)} >/dev/null 2>&1 "
        f"|| echo bad-schedule {shlex.quote(schedule)}; "
        for schedule in schedules
    )
    timers = " ".join(TIMERS)
    return (
        f"{RESTIC_PROBE if schedules else ''}"
        # systemctl only when a timer's unit file is there: a host without backups (most)
        # spares it on every deploy.
        f"for t in {timers}; do [ -e {UNIT_DIR}/$t ] && {{ {unit_states_probe(list(TIMERS))}; "
        "break; }; done; "
        # Its first line, read with built-ins (`head` is a process).
        f'[ -f {REPOSITORY_MARKER} ] && {{ read -r line || [ -n "$line" ]; }} '
        f'< {REPOSITORY_MARKER} && echo "repository $line"; '
        f"{calendar}true"
    )


def offsite_backups_probe(schedules: tuple[str, ...] = ()) -> str:
    """Off-site backups read on their own: `path` per file, then
    offsite_backups_state_probe()."""
    return with_paths(BACKUP_PATHS, offsite_backups_state_probe(schedules))


def parse_offsite_backups(lines: list[str]) -> OffsiteBackupsState:
    version, repository = "", ""
    bad: list[str] = []
    for tag, rest, words in tagged(lines):
        if tag == "restic" and len(words) >= 2 and words[1].startswith("ii"):
            version = words[0]
        elif tag == "repository":
            repository = rest.strip()
        elif tag == "bad-schedule":
            bad.append(rest.strip())
    units = parse_unit_states(lines)
    enabled = tuple(timer for timer in TIMERS if timer in units and units[timer].enabled)
    active = tuple(timer for timer in TIMERS if timer in units and units[timer].active)
    return OffsiteBackupsState(paths_in(lines), version, enabled, active, repository, tuple(bad))


class OffsiteBackups(FactBase[OffsiteBackupsState]):
    """Off-site backups' files, restic, timers and repository; schedules checked."""

    @override
    def command(self, schedules: tuple[str, ...] = ()) -> str:
        return offsite_backups_probe(schedules)

    @override
    @staticmethod
    def default() -> OffsiteBackupsState:
        return OffsiteBackupsState()

    @override
    def process(self, output) -> OffsiteBackupsState:
        return parse_offsite_backups(output)
