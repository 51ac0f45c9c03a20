"""The whole host in one round trip: every part's fact in one shell, the paths of all
of them read at once."""

from __future__ import annotations

import msgspec
from pyinfra import host
from pyinfra.api import FactBase
from typing_extensions import override

from tasks.backups.facts import (
    BACKUP_PATHS,
    OffsiteBackups,
    OffsiteBackupsState,
    offsite_backups_state_probe,
)
from tasks.engine.config_files import ENGINE_PATHS
from tasks.engine.facts import (
    ENGINE_PACKAGES,
    DockerEngine,
    DockerEngineState,
    engine_state_probe,
)
from tasks.engine.packages import check_supported
from tasks.firewall.facts import Firewall, FirewallState, firewall_state_probe
from tasks.firewall.files import PATHS as FIREWALL_PATHS
from tasks.host.paths import path_probe
from tasks.host.probes import in_one_shell, package_lines, parse_http_status, sections
from tasks.proxy.config import HttpsCheck
from tasks.proxy.facts import Proxy, ProxyState, proxy_paths, proxy_state_probe
from tasks.settings import Settings
from tasks.stack.facts import (
    ComposeProject,
    StackFiles,
    StackState,
    compose_project_probe,
    stack_file_paths,
    stack_files_state_probe,
)
from tasks.stack.layout import StackPaths
from tasks.volume.facts import DataVolume, DataVolumeState, data_volume_probe


class WholeHostState(msgspec.Struct, frozen=True):
    engine: DockerEngineState = msgspec.field(default_factory=DockerEngineState)
    firewall: FirewallState = msgspec.field(default_factory=FirewallState)
    stack: StackState = msgspec.field(default_factory=StackState)
    proxy: ProxyState = msgspec.field(default_factory=ProxyState)
    volume: DataVolumeState = msgspec.field(default_factory=DataVolumeState)
    backups: OffsiteBackupsState = msgspec.field(default_factory=OffsiteBackupsState)


class PartArguments(msgspec.Struct, frozen=True):
    """What the parts' facts need to know beyond the stack's paths."""

    url: str = ""
    https: HttpsCheck | None = None
    device: str = ""
    mount: str = ""
    schedules: tuple[str, ...] = ()  # off-site backups' calendars to check, when on


class _Part(msgspec.Struct, frozen=True):
    """A part's probe without its paths and packages (read for all parts at once)."""

    paths: tuple[str, ...]
    probe: str
    packages: tuple[str, ...] = ()


def _parts(paths: StackPaths, parts: PartArguments) -> list[_Part]:
    """The parts read in turn, in the order WholeHost prints them (see _PARSERS)."""
    https = parts.https or HttpsCheck("", "", "", "", 0, "", "", paths)
    return [
        _Part(tuple(ENGINE_PATHS), engine_state_probe(), ENGINE_PACKAGES),
        _Part(tuple(FIREWALL_PATHS), firewall_state_probe()),
        _Part(tuple(stack_file_paths(paths)), stack_files_state_probe(paths)),
        _Part(
            tuple(proxy_paths(paths)),
            proxy_state_probe(paths, https.domain, https.url, https.ca_file),
        ),
        _Part((), data_volume_probe(parts.device, parts.mount, paths.data_dir)),
        _Part(BACKUP_PATHS, offsite_backups_state_probe(parts.schedules)),
    ]


# How each part of _parts() is read back, in its order; then come, from the background,
# every part's paths and the Compose project (with GET /status and every part's packages).
_PARSERS: tuple[FactBase, ...] = (
    DockerEngine(),
    Firewall(),
    StackFiles(),
    Proxy(),
    DataVolume(),
    OffsiteBackups(),
)


class WholeHost(FactBase[WholeHostState]):
    """Everything deploy.py compares, in one round trip: the engine, the firewall, the
    stack's files, its Compose project and GET /status, the HTTPS proxy, the data volume
    and off-site backups. One `stat` and one `sha256sum` read every part's paths, the
    Compose project's perl every part's packages, and they run beside the rest."""

    @override
    def command(self, paths: StackPaths, parts: PartArguments) -> str:
        in_turn = _parts(paths, parts)
        every_path = [path for part in in_turn for path in part.paths]
        every_package = tuple(package for part in in_turn for package in part.packages)
        # The paths first in the background: the Compose record's check there uses their
        # digests, and the perl after it waits on dockerd beside the parts' probes.
        return in_one_shell(
            [part.probe for part in in_turn],
            [
                path_probe(every_path),
                compose_project_probe(paths, parts.url, True, every_package),
            ],
        )

    @override
    @staticmethod
    def default() -> WholeHostState:
        return WholeHostState()

    @override
    def process(self, output) -> WholeHostState:
        *in_turn, every_path, compose = sections(output, len(_PARSERS) + 2)
        # Each part's parser finds its own paths and packages among all of them.
        shared = every_path + package_lines(compose)
        engine, firewall, files, proxy, volume, backups = (
            fact.process(shared + lines) for fact, lines in zip(_PARSERS, in_turn, strict=True)
        )
        project = ComposeProject().process(compose)
        stack = StackState(files, project, parse_http_status(compose))
        return WholeHostState(engine, firewall, stack, proxy, volume, backups)


def read_host(settings: Settings) -> WholeHostState:
    """The whole host, read while the deploy is prepared; refuses (before anything
    changes) an OS this deploy cannot install Docker on."""
    schedules = (
        (settings.backup_schedule, settings.backup_verify_schedule)
        if settings.backup_repository
        else ()
    )
    parts = PartArguments(
        url=settings.health_url,
        https=HttpsCheck.of(settings),
        device=settings.prisma_data_device or "",
        mount=settings.prisma_data_mount,
        schedules=schedules,
    )
    found = host.get_fact(WholeHost, paths=StackPaths.of(settings), parts=parts)
    check_supported(found.engine.platform, settings.docker_source, settings.host_name)
    return found
