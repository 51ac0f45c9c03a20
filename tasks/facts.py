"""
Facts about the Docker engine and the Prisma stack on a host.

Every command prints tagged lines (`os ...`, `pkg ...`, `path ...`, `hash ...`,
`containers <json>`, ...) that one parser reads. That lets `HostSnapshot` read the
whole host in a single round trip, while each operation re-reads just its own part
when it runs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from pyinfra.api import FactBase
from typing_extensions import override

from tasks import commands
from tasks.commands import StackPaths

# ---------------------------------------------------------------------------
# Parts of a host
# ---------------------------------------------------------------------------


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


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

    def holds(self, content: str) -> bool:
        return self.sha256 == sha256_text(content)

    def is_roots(self, kind: str, mode: int) -> bool:
        return (self.kind, self.mode, self.user, self.group) == (kind, mode, "root", "root")


MISSING = PathState()


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
    """What install_docker compares."""

    platform: Platform = Platform("unknown", "unknown", "")
    architecture: str = ""
    packages: dict[str, list[str]] = field(default_factory=dict)  # installed only
    paths: dict[str, PathState] = field(default_factory=dict)
    systemd: bool = False
    enabled: bool = False
    active: bool = False
    dpkg_interrupted: bool = False

    def of(self, path: str) -> PathState:
        return self.paths.get(path, MISSING)


@dataclass(frozen=True)
class StackFilesState:
    """The stack directory and files, and whether the data volume exists."""

    paths: dict[str, PathState] = field(default_factory=dict)
    volume: bool = False
    # sha256 of each file as the last converge left it (from the stack's record)
    recorded: dict[str, str] = field(default_factory=dict)
    db_fingerprint: str = ""

    def of(self, path: str) -> PathState:
        return self.paths.get(path, MISSING)

    def edited_since_converge(self, path: str) -> bool:
        """True when the file differs from what the last converge left there."""
        current, recorded = self.of(path), self.recorded.get(path)
        return current.exists and recorded is not None and current.sha256 != recorded


@dataclass(frozen=True)
class ContainerState:
    service: str
    status: str
    config_hash: str
    image_id: str
    health: str


def normalize_reference(reference: str) -> str:
    """An image reference as Docker lists it: no docker.io prefix, always a tag."""
    for prefix in ("docker.io/library/", "docker.io/"):
        if reference.startswith(prefix):
            reference = reference[len(prefix) :]
            break
    name = reference.rsplit("/", 1)[-1]
    if "@" not in reference and ":" not in name:
        reference += ":latest"
    return reference


@dataclass(frozen=True)
class StackState:
    """What Compose wants (per-service config hashes) beside what runs."""

    desired_hashes: dict[str, str] = field(default_factory=dict)
    containers: tuple[ContainerState, ...] = ()
    image_ids: dict[str, str] = field(default_factory=dict)  # normalized reference -> ID

    def image_id(self, reference: str) -> str:
        """The local image ID of a reference, or '' when no such image is on the host."""
        return self.image_ids.get(normalize_reference(reference), "")

    def digest_reference(self, image_id: str) -> str:
        """A `repository@sha256:...` the image can be pulled again by ('' if none known)."""
        return next(
            (ref for ref, id_ in self.image_ids.items() if "@" in ref and id_ == image_id), ""
        )

    def containers_of(self, service: str) -> list[ContainerState]:
        return [container for container in self.containers if container.service == service]


@dataclass(frozen=True)
class FirewallState:
    enabled: bool = False
    active: bool = False
    rules_hooked: bool = False


@dataclass(frozen=True)
class HostSnapshot:
    engine: EngineState = field(default_factory=EngineState)
    firewall: FirewallState = field(default_factory=FirewallState)
    files: StackFilesState = field(default_factory=StackFilesState)
    stack: StackState = field(default_factory=StackState)
    status_body: str = ""


# ---------------------------------------------------------------------------
# The one parser
# ---------------------------------------------------------------------------


def _path(words: list[str]) -> tuple[str, PathState]:
    if len(words) == 6:
        path, kind, mode, user, group, digest = words
        return path, PathState(kind, int(mode), user, group, "" if digest == "-" else digest)
    return words[0], MISSING


def _health(status_text: str) -> str:
    for health in ("healthy", "unhealthy", "health: starting"):
        if f"({health})" in status_text:
            return health.removeprefix("health: ")
    return "-"


def _containers(payload: str) -> list[ContainerState]:
    containers = []
    for container in json.loads(payload or "[]"):
        labels = container.get("Labels") or {}
        containers.append(
            ContainerState(
                service=labels.get("com.docker.compose.service", ""),
                status=container.get("State", ""),
                config_hash=labels.get("com.docker.compose.config-hash", ""),
                image_id=container.get("ImageID", ""),
                health=_health(container.get("Status", "")),
            )
        )
    return containers


def _images(payload: str) -> dict[str, str]:
    found = {}
    for image in json.loads(payload or "[]"):
        for reference in (image.get("RepoTags") or []) + (image.get("RepoDigests") or []):
            if "<none>" not in reference:
                found[normalize_reference(reference)] = image["Id"]
    return found


FLAG_TAGS = frozenset(
    {"enabled", "active", "volume", "fw-enabled", "fw-active", "fw-rules", "dpkg-interrupted"}
)


def parse_snapshot(lines: list[str]) -> HostSnapshot:
    """Read every tagged line a fact command of this module prints."""
    platform = Platform("unknown", "unknown", "")
    architecture = ""
    packages: dict[str, list[str]] = {}
    paths: dict[str, PathState] = {}
    flags: set[str] = set()
    hashes: dict[str, str] = {}
    containers: list[ContainerState] = []
    images: dict[str, str] = {}
    status_body = ""
    recorded: dict[str, str] = {}
    db_fingerprint = ""
    for line in lines:
        tag, _, rest = line.strip().partition(" ")
        words = rest.split()
        if tag == "os" and len(words) == 3:
            codename = "" if words[2] == "-" else words[2]
            platform = Platform(words[0].lower(), words[1], codename)
        elif tag == "arch" and words:
            architecture = words[0]
        elif tag == "pkg" and len(words) >= 3 and words[2].startswith("ii"):
            packages.setdefault(words[0], []).append(words[1])
        elif tag == "path" and words:
            path, state = _path(words)
            paths[path] = state
        elif tag == "init" and words:
            flags.add(words[0])
        elif tag in FLAG_TAGS:
            flags.add(tag)
        elif tag == "hash" and len(words) == 2:
            hashes[words[0]] = words[1]
        elif tag == "containers":
            containers = _containers(rest)
        elif tag == "images":
            images = _images(rest)
        elif tag == "status":
            status_body = rest.strip()
        elif tag == "recorded" and len(words) == 2:
            recorded[words[1]] = words[0]
        elif tag == "db-fingerprint" and words:
            db_fingerprint = words[0]
    return HostSnapshot(
        engine=EngineState(
            platform,
            architecture,
            packages,
            paths,
            systemd="systemd" in flags,
            enabled="enabled" in flags,
            active="active" in flags,
            dpkg_interrupted="dpkg-interrupted" in flags,
        ),
        firewall=FirewallState(
            enabled="fw-enabled" in flags,
            active="fw-active" in flags,
            rules_hooked="fw-rules" in flags,
        ),
        files=StackFilesState(
            paths, volume="volume" in flags, recorded=recorded, db_fingerprint=db_fingerprint
        ),
        stack=StackState(hashes, tuple(containers), images),
        status_body=status_body,
    )


# ---------------------------------------------------------------------------
# Facts
# ---------------------------------------------------------------------------


class HostState(FactBase[HostSnapshot]):
    """
    Everything deploy.py compares, in one round trip: the engine (OS, packages, config
    files, service), the stack files, the compose project and GET /status.
    """

    @override
    def command(
        self, packages: list[str], engine_paths: list[str], paths: StackPaths, url: str
    ) -> str:
        return commands.in_parallel(
            [
                commands.engine_state(packages, engine_paths),
                commands.firewall_state(),
                commands.stack_files_state(paths),
                commands.stack_state(paths),
                commands.http_status_line(url),
            ]
        )

    @override
    @staticmethod
    def default() -> HostSnapshot:
        return HostSnapshot()

    @override
    def process(self, output) -> HostSnapshot:
        return parse_snapshot(output)


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
        return parse_snapshot(output).files


class ComposeStack(FactBase[StackState]):
    """The compose project's desired config hashes, its containers and the local images."""

    @override
    def command(self, paths: StackPaths) -> str:
        return commands.stack_state(paths)

    @override
    @staticmethod
    def default() -> StackState:
        return StackState()

    @override
    def process(self, output) -> StackState:
        return parse_snapshot(output).stack


class HttpBody(FactBase[str]):
    """The body GET url answers with from the host itself ('' when nothing answers)."""

    @override
    def command(self, url: str) -> str:
        return commands.http_status_line(url)

    @override
    @staticmethod
    def default() -> str:
        return ""

    @override
    def process(self, output) -> str:
        return parse_snapshot(output).status_body


class PasswordlessSudo(FactBase[bool]):
    """Whether the connecting user may run sudo without a password (run without sudo)."""

    @override
    def command(self) -> str:
        return "sudo -n true >/dev/null 2>&1 && echo yes || echo no"

    @override
    @staticmethod
    def default() -> bool:
        return False

    @override
    def process(self, output) -> bool:
        return "yes" in output
