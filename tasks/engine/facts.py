"""What the engine part compares: OS release, architecture, Docker's packages, its
config files, its service, and whether dpkg was left interrupted."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

from pyinfra.api import FactBase
from typing_extensions import override

from tasks.engine.commands import SWAP_FILE
from tasks.engine.config_files import DAEMON_JSON, ENGINE_PATHS
from tasks.engine.packages import CANDIDATE_PACKAGES, UNKNOWN_PLATFORM, Platform
from tasks.host.paths import MISSING, PathState, path_probe, paths_in
from tasks.host.probes import UnitState, parse_unit_states, tagged, unit_states_probe

DOCKER_UNIT = "docker.service"


@dataclass(frozen=True)
class SwapState:
    """The host's swap, and the swap file this deploy makes (SWAP_FILE)."""

    total_bytes: int = 0  # SwapTotal: every swap area in use
    file_bytes: int = 0  # the swap file's usable size while it is in use, else 0
    file_exists: bool = False
    in_fstab: bool = False

    @property
    def others_bytes(self) -> int:
        """Swap in use that is not this deploy's file."""
        return max(self.total_bytes - self.file_bytes, 0)


def swap_probe() -> str:
    """Tagged lines: `mem-kb` (MemTotal), `swap-kb`, `swap-file-kb` (in use),
    `swap-file`, `swap-fstab`; one awk for the three files (kB as the kernel says it:
    awk would print bytes in exponent notation). /etc/fstab comes last: mawk stops at a
    file it cannot open."""
    return (
        "awk '"
        'FILENAME == "/proc/meminfo" && $1 == "MemTotal:" { print "mem-kb", $2 } '
        'FILENAME == "/proc/meminfo" && $1 == "SwapTotal:" { print "swap-kb", $2 } '
        f'FILENAME == "/proc/swaps" && $1 == "{SWAP_FILE}" {{ print "swap-file-kb", $3 }} '
        f'FILENAME == "/etc/fstab" && $1 == "{SWAP_FILE}" {{ print "swap-fstab" }}'
        "' /proc/meminfo /proc/swaps /etc/fstab 2>/dev/null; "
        f"[ -e {SWAP_FILE} ] && echo swap-file; true"
    )


def parse_swap(lines: list[str]) -> SwapState:
    kilobytes: dict[str, int] = {}
    flags: set[str] = set()
    for tag, _, words in tagged(lines):
        if tag in ("swap-kb", "swap-file-kb") and words and words[0].isdigit():
            kilobytes[tag] = int(words[0])
        elif tag in ("swap-file", "swap-fstab"):
            flags.add(tag)
    return SwapState(
        total_bytes=kilobytes.get("swap-kb", 0) * 1024,
        file_bytes=kilobytes.get("swap-file-kb", 0) * 1024,
        file_exists="swap-file" in flags,
        in_fstab="swap-fstab" in flags,
    )


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
    daemon_json: dict | None = None  # the daemon.json in force (None: none, or unreadable)
    swap: SwapState = field(default_factory=SwapState)

    def path(self, path: str) -> PathState:
        return self.paths.get(path, MISSING)


def engine_probe() -> str:
    """Tagged lines: `os`, `arch`, `pkg`, `path`, `init`, the service's state, swap
    (with `mem-kb`). Shell built-ins wherever they do: each process costs the host a few
    milliseconds of CPU on every run."""
    package_format = "pkg ${Package} ${Version} ${db:Status-Abbrev}\\n"
    return (
        # A subshell: a missing os-release must not end the probe (`.` is fatal in sh).
        '( . /etc/os-release 2>/dev/null; echo "os ${ID:--} ${VERSION_ID:--} '
        '${VERSION_CODENAME:--}" ); '
        'echo "arch $(dpkg --print-architecture 2>/dev/null || echo -)"; '
        f"dpkg-query -W -f='{package_format}' {' '.join(CANDIDATE_PACKAGES)} 2>/dev/null; "
        f"{path_probe(ENGINE_PATHS)}; "
        f"[ -f {DAEMON_JSON} ] && {{ printf 'daemon-json '; base64 -w0 {DAEMON_JSON}; echo; }}; "
        # dpkg leaves work in updates/ when it was interrupted (a killed run, a reboot).
        'for f in /var/lib/dpkg/updates/*; do [ -e "$f" ] && echo dpkg-interrupted; break; done; '
        "if [ -d /run/systemd/system ]; then echo init systemd; "
        f"{unit_states_probe([DOCKER_UNIT])}; "
        "else echo init sysv; "
        "ls /etc/rc2.d/S*docker >/dev/null 2>&1 && echo enabled; "
        "service docker status >/dev/null 2>&1 && echo active; "
        "fi; "
        f"{swap_probe()}"
    )


def parse_engine(lines: list[str]) -> DockerEngineState:
    platform, architecture, memory = UNKNOWN_PLATFORM, "", 0
    daemon_json: dict | None = None
    packages: dict[str, list[str]] = {}
    flags: set[str] = set()
    for tag, _, words in tagged(lines):
        if tag == "os" and len(words) == 3:
            platform = Platform(words[0].lower(), words[1], "" if words[2] == "-" else words[2])
        elif tag == "arch" and words:
            architecture = words[0]
        elif tag == "mem-kb" and words and words[0].isdigit():
            memory = int(words[0]) * 1024
        elif tag == "daemon-json" and words:
            daemon_json = _json_object(words[0])
        elif tag == "pkg" and len(words) >= 3 and words[2].startswith("ii"):
            packages.setdefault(words[0], []).append(words[1])
        elif tag == "init" and words:
            flags.add(words[0])
        elif tag in ("enabled", "active", "dpkg-interrupted"):
            flags.add(tag)
    unit = parse_unit_states(lines).get(DOCKER_UNIT, UnitState())
    return DockerEngineState(
        platform,
        architecture,
        packages,
        paths_in(lines),
        systemd="systemd" in flags,
        enabled=unit.enabled or "enabled" in flags,
        active=unit.active or "active" in flags,
        dpkg_interrupted="dpkg-interrupted" in flags,
        memory_bytes=memory,
        daemon_json=daemon_json,
        swap=parse_swap(lines),
    )


def _json_object(encoded: str) -> dict | None:
    try:
        value = json.loads(base64.b64decode(encoded))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


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


class Swap(FactBase[SwapState]):
    """The host's swap and the swap file this deploy makes."""

    @override
    def command(self) -> str:
        return swap_probe()

    @override
    @staticmethod
    def default() -> SwapState:
        return SwapState()

    @override
    def process(self, output) -> SwapState:
        return parse_swap(output)
