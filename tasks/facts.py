"""Facts about the Prisma stack on a host, each read in one round trip."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyinfra.api import FactBase
from typing_extensions import override

from tasks import commands
from tasks.commands import StackPaths


@dataclass(frozen=True)
class ContainerState:
    service: str
    status: str
    config_hash: str
    image_id: str
    health: str


@dataclass(frozen=True)
class StackState:
    """What Compose wants (per-service config hashes) beside what runs."""

    desired_hashes: dict[str, str] = field(default_factory=dict)
    containers: tuple[ContainerState, ...] = ()
    image_ids: dict[str, str] = field(default_factory=dict)

    def containers_of(self, service: str) -> list[ContainerState]:
        return [container for container in self.containers if container.service == service]


class ComposeStack(FactBase[StackState]):
    """
    The compose project's desired config hashes, its containers and the local image IDs
    of the configured image references.
    """

    @override
    def requires_command(self, *args, **kwargs) -> str:
        return "docker"

    @override
    def command(self, paths: StackPaths, image_refs: list[str]) -> str:
        return commands.stack_state(paths, image_refs)

    @override
    @staticmethod
    def default() -> StackState:
        return StackState()

    @override
    def process(self, output) -> StackState:
        return parse_stack_state(output)


def parse_stack_state(lines: list[str]) -> StackState:
    desired: dict[str, str] = {}
    containers: list[ContainerState] = []
    images: dict[str, str] = {}
    for line in lines:
        kind, _, rest = line.strip().partition(" ")
        parts = rest.split()
        if kind == "hash" and len(parts) == 2:
            desired[parts[0]] = parts[1]
        elif kind == "container" and len(parts) == 5:
            containers.append(ContainerState(*parts))
        elif kind == "image" and len(parts) == 2:
            images[parts[0]] = "" if parts[1] == "-" else parts[1]
    return StackState(desired, tuple(containers), images)


@dataclass(frozen=True)
class PathState:
    """A path as `stat` sees it; mode in pyinfra's style (0o640 is 640)."""

    kind: str = "missing"  # "file", "directory" or "missing"
    mode: int = 0
    user: str = ""
    group: str = ""
    sha256: str = ""

    @property
    def exists(self) -> bool:
        return self.kind != "missing"


MISSING = PathState()


def parse_path_line(parts: list[str]) -> tuple[str, PathState]:
    """Parse the words after `path` of commands.path_states."""
    if len(parts) == 6:
        path, kind, mode, user, group, digest = parts
        return path, PathState(kind, int(mode), user, group, "" if digest == "-" else digest)
    return parts[0], MISSING


@dataclass(frozen=True)
class StackFilesState:
    paths: dict[str, PathState] = field(default_factory=dict)
    volume: bool = False

    def of(self, path: str) -> PathState:
        return self.paths.get(path, MISSING)


class StackFiles(FactBase[StackFilesState]):
    """The stack directory, docker-compose.yml and .env (stat + sha256), and the volume."""

    @override
    def command(self, paths: StackPaths) -> str:
        return commands.stack_files_state(paths)

    @override
    @staticmethod
    def default() -> StackFilesState:
        return StackFilesState()

    @override
    def process(self, output) -> StackFilesState:
        found: dict[str, PathState] = {}
        volume = False
        for line in output:
            kind, *parts = line.split()
            if kind == "path" and parts:
                path, state = parse_path_line(parts)
                found[path] = state
            elif kind == "volume":
                volume = True
        return StackFilesState(found, volume)


@dataclass(frozen=True)
class Platform:
    distro: str
    version: str
    codename: str

    @property
    def release(self) -> tuple[str, str]:
        return (self.distro, self.version)

    def describe(self) -> str:
        return f"{self.distro} {self.version} ({self.codename or 'no codename'})"


@dataclass(frozen=True)
class EngineState:
    """What install_docker compares, read in one round trip."""

    platform: Platform = Platform("unknown", "unknown", "")
    architecture: str = ""
    packages: dict[str, list[str]] = field(default_factory=dict)  # installed only
    paths: dict[str, PathState] = field(default_factory=dict)
    systemd: bool = False
    enabled: bool = False
    active: bool = False

    def of(self, path: str) -> PathState:
        return self.paths.get(path, MISSING)


class DockerEngine(FactBase[EngineState]):
    """OS release, installed candidate packages, Docker's config files and service state."""

    @override
    def command(self, packages: list[str], paths: list[str]) -> str:
        return commands.engine_state(packages, paths)

    @override
    @staticmethod
    def default() -> EngineState:
        return EngineState()

    @override
    def process(self, output) -> EngineState:
        return parse_engine_state(output)


def parse_engine_state(lines: list[str]) -> EngineState:
    platform = Platform("unknown", "unknown", "")
    architecture = ""
    packages: dict[str, list[str]] = {}
    paths: dict[str, PathState] = {}
    flags: set[str] = set()
    for line in lines:
        kind, *parts = line.split()
        if kind == "os" and len(parts) == 3:
            codename = "" if parts[2] == "-" else parts[2]
            platform = Platform(parts[0].lower(), parts[1], codename)
        elif kind == "arch" and parts:
            architecture = parts[0]
        elif kind == "pkg" and len(parts) >= 3 and parts[2].startswith("ii"):
            packages.setdefault(parts[0], []).append(parts[1])
        elif kind == "path" and parts:
            path, state = parse_path_line(parts)
            paths[path] = state
        elif kind == "init" and parts:
            flags.add(parts[0])
        elif kind in ("enabled", "active"):
            flags.add(kind)
    return EngineState(
        platform,
        architecture,
        packages,
        paths,
        systemd="systemd" in flags,
        enabled="enabled" in flags,
        active="active" in flags,
    )


class HttpBody(FactBase[str]):
    """The body GET url answers with from the host itself ('' when nothing answers)."""

    @override
    def requires_command(self, *args, **kwargs) -> str:
        return "curl"

    @override
    def command(self, url: str) -> str:
        return commands.http_body(url)

    @override
    @staticmethod
    def default() -> str:
        return ""

    @override
    def process(self, output) -> str:
        return "\n".join(output).strip()
