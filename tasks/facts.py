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
class Footprint:
    env_file: bool = False
    volume: bool = False

    @property
    def exists(self) -> bool:
        return self.env_file or self.volume


class StackFootprint(FactBase[Footprint]):
    """Whether the host already holds this stack's .env or its database volume."""

    @override
    def command(self, paths: StackPaths) -> str:
        return commands.stack_footprint(paths)

    @override
    @staticmethod
    def default() -> Footprint:
        return Footprint()

    @override
    def process(self, output) -> Footprint:
        words = {line.strip() for line in output}
        return Footprint(env_file="env" in words, volume="volume" in words)


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
