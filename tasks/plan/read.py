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
from tasks.host.paths import digests_probe
from tasks.host.probes import (
    PACKAGES,
    PATHS,
    api_answers,
    host_read,
    in_one_shell,
    sections,
    status_body,
)
from tasks.proxy.config import HttpsCheck
from tasks.proxy.facts import Proxy, ProxyState, proxy_paths, proxy_state_probe
from tasks.settings import Settings
from tasks.stack.commands import compose_project_urls
from tasks.stack.facts import (
    StackFiles,
    StackState,
    compose_hashes_probe,
    compose_project_state,
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


# How each part of _parts() is read back, in its order, between the digests of every
# part's files and the Compose record's hashes; last come the perl's answers: every
# part's paths and packages, the Compose project and GET /status.
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
    and off-site backups. The parts run in one shell, one after the other, after one
    `sha256sum` of every part's files; one perl beside them reads every part's paths
    and packages and asks Docker and the server, then prints everything."""

    @override
    def command(self, paths: StackPaths, parts: PartArguments) -> str:
        in_turn = _parts(paths, parts)
        every_path = [path for part in in_turn for path in part.paths]
        every_package = tuple(package for part in in_turn for package in part.packages)
        reader = host_read(
            compose_project_urls(paths), parts.url, every_package, every_path, after_input=True
        )
        # The digests first: the Compose record's check, last, compares them.
        return in_one_shell(
            [
                digests_probe(every_path),
                *(part.probe for part in in_turn),
                compose_hashes_probe(paths, digests_read=True),
            ],
            reader,
        )

    @override
    @staticmethod
    def default() -> WholeHostState:
        return WholeHostState()

    @override
    def process(self, output) -> WholeHostState:
        digests, *in_turn, hashes, read = sections(output, len(_PARSERS) + 3)
        answers = api_answers(read)
        # Each part's parser finds its own paths and packages among all of them.
        shared = digests + answers.get(PATHS, []) + answers.get(PACKAGES, [])
        engine, firewall, files, proxy, volume, backups = (
            fact.process(shared + lines) for fact, lines in zip(_PARSERS, in_turn, strict=True)
        )
        project = compose_project_state(answers, hashes)
        stack = StackState(files, project, status_body(answers))
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
