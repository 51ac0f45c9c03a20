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
from tasks.host.facts import HttpBody
from tasks.host.probes import in_parallel, sections
from tasks.settings import Settings
from tasks.stack.facts import ComposeProject, StackFiles, StackState
from tasks.stack.layout import StackPaths


@dataclass(frozen=True)
class WholeHostState:
    engine: DockerEngineState = field(default_factory=DockerEngineState)
    firewall: FirewallState = field(default_factory=FirewallState)
    stack: StackState = field(default_factory=StackState)
    backups: OffsiteBackupsState = field(default_factory=OffsiteBackupsState)


def _part_facts(
    paths: StackPaths, url: str, schedules: tuple[str, ...]
) -> list[tuple[FactBase, dict[str, Any]]]:
    """Each part's fact with its arguments, in the order WholeHost prints them."""
    return [
        (DockerEngine(), {}),
        (Firewall(), {}),
        (StackFiles(), {"paths": paths}),
        (ComposeProject(), {"paths": paths}),
        (HttpBody(), {"url": url}),
        (OffsiteBackups(), {"schedules": schedules}),
    ]


class WholeHost(FactBase[WholeHostState]):
    """Everything deploy.py compares, in one round trip: the engine, the firewall, the
    stack's files, its Compose project, GET /status and off-site backups (with the
    schedules to check, when they are on)."""

    @override
    def command(self, paths: StackPaths, url: str, schedules: tuple[str, ...] = ()) -> str:
        facts = _part_facts(paths, url, schedules)
        return in_parallel([fact.command(**arguments) for fact, arguments in facts])

    @override
    @staticmethod
    def default() -> WholeHostState:
        return WholeHostState()

    @override
    def process(self, output) -> WholeHostState:
        facts = [fact for fact, _ in _part_facts(StackPaths("", ""), "", ())]
        engine, firewall, files, project, status, backups = (
            fact.process(lines)
            for fact, lines in zip(facts, sections(output, len(facts)), strict=True)
        )
        return WholeHostState(engine, firewall, StackState(files, project, status), backups)


def read_host(settings: Settings) -> WholeHostState:
    """The whole host, read while the deploy is prepared; refuses (before anything
    changes) an OS this deploy cannot install Docker on."""
    schedules = (
        (settings.backup_schedule, settings.backup_verify_schedule)
        if settings.backup_repository
        else ()
    )
    found = host.get_fact(
        WholeHost, paths=StackPaths.of(settings), url=settings.health_url, schedules=schedules
    )
    check_supported(found.engine.platform, settings.docker_source, settings.host_name)
    return found
