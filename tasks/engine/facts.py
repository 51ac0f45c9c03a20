"""What the engine part compares: OS release, architecture, Docker's packages, its
config files, its service, and whether dpkg was left interrupted."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyinfra.api import FactBase
from typing_extensions import override

from tasks.engine.config_files import ENGINE_PATHS
from tasks.engine.packages import CANDIDATE_PACKAGES, UNKNOWN_PLATFORM, Platform
from tasks.host.paths import MISSING, PathState, path_probe, paths_in
from tasks.host.probes import tagged


@dataclass(frozen=True)
class DockerEngineState:
    platform: Platform = UNKNOWN_PLATFORM
    architecture: str = ""
    packages: dict[str, list[str]] = field(default_factory=dict)  # installed only
    paths: dict[str, PathState] = field(default_factory=dict)
    systemd: bool = False
    enabled: bool = False
    active: bool = False
    dpkg_interrupted: bool = False
    memory_bytes: int = 0  # MemTotal; 0 when unknown

    def path(self, path: str) -> PathState:
        return self.paths.get(path, MISSING)


def engine_probe() -> str:
    """Tagged lines: `os`, `arch`, `pkg`, `path`, `init` and the service's flags."""
    package_format = "pkg ${Package} ${Version} ${db:Status-Abbrev}\\n"
    return (
        '( . /etc/os-release 2>/dev/null; echo "os ${ID:--} ${VERSION_ID:--} '
        '${VERSION_CODENAME:--}" ); '
        'echo "arch $(dpkg --print-architecture 2>/dev/null || echo -)"; '
        # kB as the kernel says it: awk would print bytes in exponent notation.
        'awk \'$1 == "MemTotal:" { print "mem-kb", $2 }\' /proc/meminfo 2>/dev/null; '
        f"dpkg-query -W -f='{package_format}' {' '.join(CANDIDATE_PACKAGES)} 2>/dev/null; "
        f"{path_probe(ENGINE_PATHS)}; "
        # dpkg leaves work in updates/ when it was interrupted (a killed run, a reboot).
        '[ -n "$(ls -A /var/lib/dpkg/updates 2>/dev/null)" ] && echo dpkg-interrupted; '
        "if [ -d /run/systemd/system ]; then echo init systemd; "
        "systemctl is-enabled --quiet docker 2>/dev/null && echo enabled; "
        "systemctl is-active --quiet docker 2>/dev/null && echo active; "
        "else echo init sysv; "
        "ls /etc/rc2.d/S*docker >/dev/null 2>&1 && echo enabled; "
        "service docker status >/dev/null 2>&1 && echo active; "
        "fi; true"
    )


def parse_engine(lines: list[str]) -> DockerEngineState:
    platform, architecture, memory = UNKNOWN_PLATFORM, "", 0
    packages: dict[str, list[str]] = {}
    flags: set[str] = set()
    for tag, _, words in tagged(lines):
        if tag == "os" and len(words) == 3:
            platform = Platform(words[0].lower(), words[1], "" if words[2] == "-" else words[2])
        elif tag == "arch" and words:
            architecture = words[0]
        elif tag == "mem-kb" and words and words[0].isdigit():
            memory = int(words[0]) * 1024
        elif tag == "pkg" and len(words) >= 3 and words[2].startswith("ii"):
            packages.setdefault(words[0], []).append(words[1])
        elif tag == "init" and words:
            flags.add(words[0])
        elif tag != "path":
            flags.add(tag)
    return DockerEngineState(
        platform,
        architecture,
        packages,
        paths_in(lines),
        systemd="systemd" in flags,
        enabled="enabled" in flags,
        active="active" in flags,
        dpkg_interrupted="dpkg-interrupted" in flags,
        memory_bytes=memory,
    )


class DockerEngine(FactBase[DockerEngineState]):
    """The host's OS, Docker's packages, config files and service."""

    @override
    def command(self) -> str:
        return engine_probe()

    @override
    @staticmethod
    def default() -> DockerEngineState:
        return DockerEngineState()

    @override
    def process(self, output) -> DockerEngineState:
        return parse_engine(output)
