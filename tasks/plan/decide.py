"""The deploy plan: one work item per part, decided from one reading of the host."""

from __future__ import annotations

import msgspec
from pyinfra.api import HiddenValue

from tasks.backups.decide import offsite_problems
from tasks.backups.facts import OffsiteBackupsState
from tasks.backups.files import WantedFile, wanted_files
from tasks.backups.secrets import backup_secrets
from tasks.engine.decide import engine_problems, swap_after_deploy
from tasks.engine.facts import DockerEngineState
from tasks.firewall.decide import firewall_problems
from tasks.firewall.facts import FirewallState
from tasks.firewall.files import wanted_files as wanted_firewall_files
from tasks.plan.read import WholeHostState, read_host
from tasks.proxy.config import proxy_files
from tasks.proxy.decide import check_domain_points_here, proxy_problems
from tasks.proxy.facts import ProxyState
from tasks.secrets.offsite import BackupSecrets
from tasks.secrets.resolve import StackSecrets
from tasks.settings import Settings
from tasks.stack.compose_file import render_compose_file
from tasks.stack.decide import (
    StackFilesWanted,
    check_directory_is_ours,
    check_images_run_on,
    check_memory_fits,
    password_check,
    stack_problems,
)
from tasks.stack.envfile import env_values, render_env
from tasks.stack.facts import StackState
from tasks.stack.secrets import stack_secrets
from tasks.volume.decide import volume_problems
from tasks.volume.facts import DataVolumeState
from tasks.work import Work

# The reading of the stack no longer holds once Docker changes under it.
STACK_AFTER_ENGINE = "Docker changes first; the stack is read again when its turn comes"


class DeployPlan(msgspec.Struct, frozen=True):
    engine: Work[DockerEngineState, None]
    firewall: Work[FirewallState, dict[str, str]]
    stack: Work[StackState, StackFilesWanted]
    proxy: Work[ProxyState, dict[str, str]]
    volume: Work[DataVolumeState, None]
    backups: Work[OffsiteBackupsState, dict[str, WantedFile]]

    @property
    def changes_anything(self) -> bool:
        parts = (self.engine, self.firewall, self.stack, self.proxy, self.volume, self.backups)
        return any(work.needed for work in parts)


def _wanted_stack_files(
    settings: Settings, found: StackState, secrets: StackSecrets
) -> StackFilesWanted:
    env_file = render_env(env_values(settings, secrets))
    return StackFilesWanted(
        compose_file=render_compose_file(settings),
        env_file=HiddenValue(env_file),
        db_password=secrets.db_password,
        password_check=password_check(settings, found.files, env_file),
    )


def decide_deploy(
    settings: Settings,
    found: WholeHostState,
    secrets: StackSecrets,
    backup: BackupSecrets | None = None,
) -> DeployPlan:
    """Pure: what each part must do, given the host as read and the resolved secrets
    (`backup`: those of off-site backups, None when they are off)."""
    engine = engine_problems(found.engine, settings)
    firewall_files = wanted_firewall_files(settings) if settings.prisma_firewall else {}
    firewall = firewall_problems(settings, found.firewall, firewall_files)
    stack_files = _wanted_stack_files(settings, found.stack, secrets)
    stack = [STACK_AFTER_ENGINE] if engine else stack_problems(settings, found.stack, stack_files)
    wanted_proxy = proxy_files(settings)
    proxy = proxy_problems(settings, found.proxy, wanted_proxy)
    backup_files = wanted_files(settings, backup) if backup is not None else {}
    backups = offsite_problems(settings, found.backups, backup_files)
    return DeployPlan(
        engine=Work(found.engine, None, tuple(engine)),
        firewall=Work(found.firewall, firewall_files, tuple(firewall)),
        stack=Work(found.stack, stack_files, tuple(stack)),
        proxy=Work(found.proxy, wanted_proxy, tuple(proxy)),
        volume=Work(found.volume, None, tuple(volume_problems(settings, found.volume))),
        backups=Work(found.backups, backup_files, tuple(backups)),
    )


def refuse_unfit_host(settings: Settings, found: WholeHostState) -> None:
    """Refuse, before any secret is generated for it, a host the stack cannot go on."""
    check_directory_is_ours(settings, found.stack.files)
    check_images_run_on(settings, found.engine.architecture)
    swap = swap_after_deploy(found.engine.swap, settings.prisma_swap_size)
    check_memory_fits(settings, found.engine.memory_bytes, swap)
    check_domain_points_here(settings, found.proxy)


def plan_deploy(settings: Settings) -> DeployPlan:
    """Read the host once, resolve its secrets, decide every part's work."""
    found = read_host(settings)
    refuse_unfit_host(settings, found)
    secrets = stack_secrets(settings, found.stack.files)
    backup = backup_secrets(settings, found.backups) if settings.backup_repository else None
    return decide_deploy(settings, found, secrets, backup)
