"""What the engine part compares: OS release, architecture, Docker's packages, its
config files, its service, and whether dpkg was left interrupted."""

from __future__ import annotations

import json
import shlex

import msgspec
from pyinfra.api import FactBase
from typing_extensions import override

from tasks.engine.commands import SWAP_FILE
from tasks.engine.config_files import DAEMON_JSON, ENGINE_PATHS
from tasks.engine.packages import CANDIDATE_PACKAGES, UNKNOWN_PLATFORM, Platform
from tasks.host.paths import MISSING, PathState, paths_in, with_paths
from tasks.host.probes import (
    UnitState,
    file_lines_probe,
    packages_probe,
    parse_unit_states,
    tagged,
    unit_states_probe,
)

DOCKER_UNIT = "docker.service"
OS_RELEASE = "/etc/os-release"
# What `systemctl enable docker` makes (both Docker's and Debian's units are wanted by
# multi-user.target), and where dockerd writes its pid (its default --pidfile).
DOCKER_WANTED = "/etc/systemd/system/multi-user.target.wants/docker.service"
DOCKER_MASKS = ("/etc/systemd/system/docker.service", "/run/systemd/system/docker.service")
DOCKER_PID_FILE = "/run/docker.pid"


class SwapState(msgspec.Struct, frozen=True):
    """The host's swap, and the swap file this deploy makes (SWAP_FILE)."""

    total_bytes: int = 0  # SwapTotal: every swap area in use
    file_bytes: int = 0  # the swap file's usable size while it is in use, else 0
    file_exists: bool = False
    in_fstab: bool = False

    @property
    def others_bytes(self) -> int:
        """Swap in use that is not this deploy's file."""
        return max(self.total_bytes - self.file_bytes, 0)


def swap_probe(
    meminfo: str = "/proc/meminfo", swaps: str = "/proc/swaps", fstab: str = "/etc/fstab"
) -> str:
    """Tagged lines: `mem-kb` (MemTotal), `swap-kb`, `swap-file-kb` (in use),
    `swap-file`, `swap-fstab`; kB as the kernel says it, read with shell built-ins (awk
    was a process on every run). meminfo is read only up to SwapTotal once MemTotal is
    seen (the kernel prints MemTotal first, SwapTotal 15th of some 55 lines): dash reads
    a byte at a time, and the whole file cost a host about 1.2 ms of CPU on every run.
    The files are parameters for the unit tests only."""
    return (
        "mem=; while read -r key value _; do case $key in "
        'MemTotal:) echo "mem-kb $value"; mem=1;; '
        'SwapTotal:) echo "swap-kb $value"; [ -n "$mem" ] && break;; esac; '
        f"done 2>/dev/null < {meminfo}; "
        f'while read -r name _ size _; do [ "$name" = {SWAP_FILE} ] && '
        f'echo "swap-file-kb $size"; done 2>/dev/null < {swaps}; '
        f'[ -f {fstab} ] && while read -r spec _; do [ "$spec" = {SWAP_FILE} ] && '
        f"echo swap-fstab; done < {fstab}; "
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


class DockerEngineState(msgspec.Struct, frozen=True):
    platform: Platform = UNKNOWN_PLATFORM
    architecture: str = ""
    packages: dict[str, list[str]] = msgspec.field(default_factory=dict)  # installed only
    paths: dict[str, PathState] = msgspec.field(default_factory=dict)
    systemd: bool = False
    enabled: bool = False
    active: bool = False
    dpkg_interrupted: bool = False
    memory_bytes: int = 0  # MemTotal; 0 when unknown
    daemon_json: dict | None = None  # the daemon.json in force (None: none, or unreadable)
    swap: SwapState = msgspec.field(default_factory=SwapState)

    def path(self, path: str) -> PathState:
        return self.paths.get(path, MISSING)


def docker_unit_probe(
    wanted: str = DOCKER_WANTED,
    masks: tuple[str, ...] = DOCKER_MASKS,
    pid_file: str = DOCKER_PID_FILE,
    proc: str = "/proc",
) -> str:
    """docker.service's `Id=`, `ActiveState=` and `UnitFileState=` lines as `systemctl
    show` prints them. systemctl costs the host about 10 ms of CPU, so it is not asked
    when the file system already proves what it would say, with shell built-ins: enabled
    (its link in multi-user.target.wants, no mask) and running (the pid in Docker's pid
    file is a live dockerd in docker.service's control group, where only systemd puts
    it). Anything else, a stopped, disabled or masked Docker included, asks systemd.
    The paths are parameters for the unit tests only."""
    not_masked = " && ".join(f"[ ! {shlex.quote(mask)} -ef /dev/null ]" for mask in masks)
    process = f'{shlex.quote(proc)}/"$pid"'
    return (
        f"running=; if [ -e {shlex.quote(wanted)} ] && {not_masked} && "
        f'{{ read -r pid || [ -n "$pid" ]; }} < {shlex.quote(pid_file)} && '
        f'[ -n "$pid" ] && read -r comm < {process}/comm && [ "$comm" = dockerd ]; then '
        "while IFS= read -r line; do case $line in */docker.service) running=1; break;; "
        f"esac; done < {process}/cgroup; fi; "
        'if [ -n "$running" ]; then '
        f"echo Id={DOCKER_UNIT}; echo ActiveState=active; echo UnitFileState=enabled; "
        f"else {unit_states_probe([DOCKER_UNIT])}; fi"
    )


# The packages the engine part reads (packages_probe()): dpkg's own package says the
# host's architecture.
ENGINE_PACKAGES = ("dpkg", *CANDIDATE_PACKAGES)


def engine_state_probe() -> str:
    """Tagged lines: `os-release`, `daemon-json`, `init`, the service's state, swap (with
    `mem-kb`); the engine's paths (ENGINE_PATHS) and packages (ENGINE_PACKAGES) are
    probed beside. Shell built-ins wherever they do: each process costs the host a few
    milliseconds of CPU on every run."""
    return (
        f"{file_lines_probe(OS_RELEASE, 'os-release ')}; "
        f"{file_lines_probe(DAEMON_JSON, 'daemon-json ')}; "
        # dpkg leaves work in updates/ when it was interrupted (a killed run, a reboot).
        'for f in /var/lib/dpkg/updates/*; do [ -e "$f" ] && echo dpkg-interrupted; break; done; '
        f"if [ -d /run/systemd/system ]; then echo init systemd; {docker_unit_probe()}; "
        "else echo init sysv; "
        "ls /etc/rc2.d/S*docker >/dev/null 2>&1 && echo enabled; "
        "service docker status >/dev/null 2>&1 && echo active; "
        "fi; "
        f"{swap_probe()}"
    )


def engine_probe() -> str:
    """The engine part read on its own: its paths, its packages, then
    engine_state_probe()."""
    return with_paths(ENGINE_PATHS, f"{packages_probe(ENGINE_PACKAGES)}; {engine_state_probe()}")


def _os_release_value(text: str) -> str:
    """A value of os-release, which may be quoted as in the shell."""
    try:
        words = shlex.split(text)
    except ValueError:
        return text
    return words[0] if words else ""


def parse_platform(lines: list[str]) -> Platform:
    """The `os-release` lines' ID, VERSION_ID and VERSION_CODENAME."""
    release: dict[str, str] = {}
    for tag, rest, _ in tagged(lines):
        key, equals, value = rest.partition("=")
        if tag == "os-release" and equals:
            release[key.strip()] = _os_release_value(value)
    if "ID" not in release:
        return UNKNOWN_PLATFORM
    return Platform(
        release["ID"].lower(), release.get("VERSION_ID", "-"), release.get("VERSION_CODENAME", "")
    )


def parse_engine(lines: list[str]) -> DockerEngineState:
    architecture, memory = "", 0
    daemon_lines: list[str] = []
    packages: dict[str, list[str]] = {}
    flags: set[str] = set()
    for tag, rest, words in tagged(lines):
        if tag == "mem-kb" and words and words[0].isdigit():
            memory = int(words[0]) * 1024
        elif tag == "daemon-json":
            daemon_lines.append(rest)
        elif tag == "pkg" and len(words) >= 4 and words[0] == "dpkg":
            architecture = words[3]
        elif tag == "pkg" and len(words) >= 3 and words[2].startswith("ii"):
            packages.setdefault(words[0], []).append(words[1])
        elif tag == "init" and words:
            flags.add(words[0])
        elif tag in ("enabled", "active", "dpkg-interrupted"):
            flags.add(tag)
    unit = parse_unit_states(lines).get(DOCKER_UNIT, UnitState())
    return DockerEngineState(
        parse_platform(lines),
        architecture,
        packages,
        paths_in(lines),
        systemd="systemd" in flags,
        enabled=unit.enabled or "enabled" in flags,
        active=unit.active or "active" in flags,
        dpkg_interrupted="dpkg-interrupted" in flags,
        memory_bytes=memory,
        daemon_json=_json_object(daemon_lines) if daemon_lines else None,
        swap=parse_swap(lines),
    )


def _json_object(lines: list[str]) -> dict | None:
    try:
        value = json.loads("\n".join(lines))
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
