"""
What the off-site backup part compares, read from the host: its files, restic, its
timers, the repository it last initialised, and whether the host's systemd accepts the
schedules (`systemd-analyze calendar`).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from pyinfra.api import FactBase
from typing_extensions import override

from tasks.backups.files import CONFIG_DIR, PATHS, REPOSITORY_MARKER, TIMERS, UNIT_DIR
from tasks.host.paths import MISSING, PathState, path_probe, paths_in
from tasks.host.probes import tagged


@dataclass(frozen=True)
class OffsiteBackupsState:
    paths: dict[str, PathState] = field(default_factory=dict)
    restic_version: str = ""
    timers_enabled: tuple[str, ...] = ()
    timers_active: tuple[str, ...] = ()
    initialised_repository: str = ""  # the repository `prisma-backup init` last opened
    bad_schedules: tuple[str, ...] = ()  # schedules systemd-analyze refused

    def path(self, path: str) -> PathState:
        return self.paths.get(path, MISSING)

    def timer_running(self, timer: str) -> bool:
        return timer in self.timers_enabled and timer in self.timers_active


def offsite_backups_probe(schedules: tuple[str, ...] = ()) -> str:
    """Tagged lines: `path` per file, `restic <version>`, `enabled <timer>`, `active
    <timer>`, `repository <url>`, `bad-schedule <schedule>` per schedule refused."""
    calendar = "".join(
        f"systemd-analyze calendar -- {shlex.quote(schedule)} >/dev/null 2>&1 "
        f"|| echo bad-schedule {shlex.quote(schedule)}; "
        for schedule in schedules
    )
    timers = " ".join(TIMERS)
    return (
        f"{path_probe([CONFIG_DIR, *PATHS])}; "
        "dpkg-query -W -f='restic ${Version} ${db:Status-Abbrev}\\n' restic 2>/dev/null; "
        # systemctl only for a timer whose unit file is there: a host without backups
        # (most) spares four systemctl starts on every deploy.
        f"for t in {timers}; do [ -e {UNIT_DIR}/$t ] || continue; "
        "systemctl is-enabled --quiet $t 2>/dev/null && echo enabled $t; "
        "systemctl is-active --quiet $t 2>/dev/null && echo active $t; done; "
        f'[ -f {REPOSITORY_MARKER} ] && echo "repository $(head -n 1 {REPOSITORY_MARKER})"; '
        f"{calendar}true"
    )


def parse_offsite_backups(lines: list[str]) -> OffsiteBackupsState:
    version, repository = "", ""
    enabled: list[str] = []
    active: list[str] = []
    bad: list[str] = []
    for tag, rest, words in tagged(lines):
        if tag == "restic" and len(words) >= 2 and words[1].startswith("ii"):
            version = words[0]
        elif tag == "enabled" and words:
            enabled.append(words[0])
        elif tag == "active" and words:
            active.append(words[0])
        elif tag == "repository":
            repository = rest.strip()
        elif tag == "bad-schedule":
            bad.append(rest.strip())
    return OffsiteBackupsState(
        paths_in(lines), version, tuple(enabled), tuple(active), repository, tuple(bad)
    )


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
