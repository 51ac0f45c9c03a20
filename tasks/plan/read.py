"""The whole host in one round trip: every part's fact, run side by side."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyinfra import host
from pyinfra.api import FactBase
from typing_extensions import override

from tasks.backups.facts import OffsiteBackups, OffsiteBackupsState
from tasks.engine.facts import DockerEngine, DockerEngineState
from tasks.engine.packages import check_supported
from tasks.firewall.facts import Firewall, FirewallState
from tasks.host.probes import in_parallel, parse_http_status, sections
from tasks.proxy.config import HttpsCheck
from tasks.proxy.facts import Proxy, ProxyState
from tasks.settings import Settings
from tasks.stack.facts import ComposeProject, StackFiles, StackState
from tasks.stack.layout import StackPaths
from tasks.volume.facts import DataVolume, DataVolumeState


@dataclass(frozen=True)
class WholeHostState:
    engine: DockerEngineState = field(default_factory=DockerEngineState)
    firewall: FirewallState = field(default_factory=FirewallState)
    stack: StackState = field(default_factory=StackState)
    proxy: ProxyState = field(default_factory=ProxyState)
    volume: DataVolumeState = field(default_factory=DataVolumeState)
    backups: OffsiteBackupsState = field(default_factory=OffsiteBackupsState)


@dataclass(frozen=True)
class PartArguments:
    """What the parts' facts need to know beyond the stack's paths."""

    url: str = ""
    https: HttpsCheck | None = None
    device: str = ""
    mount: str = ""
    schedules: tuple[str, ...] = ()  # off-site backups' calendars to check, when on


def _part_facts(paths: StackPaths, parts: PartArguments) -> list[tuple[FactBase, dict[str, Any]]]:
    """Each part's fact with its arguments, in the order WholeHost prints them."""
    https = parts.https or HttpsCheck("", "", "", "", 0, "", "", paths)
    proxy = {"domain": https.domain, "url": https.url, "ca_file": https.ca_file}
    volume = {"device": parts.device, "mount": parts.mount, "data_dir": paths.data_dir}
    return [
        (DockerEngine(), {}),
        (Firewall(), {}),
        (StackFiles(), {"paths": paths}),
        # GET /status in the same curl as Docker's answers: one process less.
        (ComposeProject(), {"paths": paths, "status_url": parts.url}),
        (Proxy(), {"paths": paths, **proxy}),
        (DataVolume(), volume),
        (OffsiteBackups(), {"schedules": parts.schedules}),
    ]


class WholeHost(FactBase[WholeHostState]):
    """Everything deploy.py compares, in one round trip: the engine, the firewall, the
    stack's files, its Compose project and GET /status, the HTTPS proxy, the data volume
    and off-site backups."""

    shell_executable = "bash"  # in_parallel() needs it; Debian and Ubuntu always have it

    @override
    def command(self, paths: StackPaths, parts: PartArguments) -> str:
        facts = _part_facts(paths, parts)
        return in_parallel([fact.command(**arguments) for fact, arguments in facts])

    @override
    @staticmethod
    def default() -> WholeHostState:
        return WholeHostState()

    @override
    def process(self, output) -> WholeHostState:
        facts = [fact for fact, _ in _part_facts(StackPaths("", ""), PartArguments())]
        parts = sections(output, len(facts))
        engine, firewall, files, project, proxy, volume, backups = (
            fact.process(lines) for fact, lines in zip(facts, parts, strict=True)
        )
        stack = StackState(files, project, parse_http_status(parts[3]))
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
