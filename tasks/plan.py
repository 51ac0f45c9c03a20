"""
What deploy.py will change, decided once from read_host()'s reading of the host.

Each part with nothing to do gets one no-change operation; a part with work gets its
detailed operations, which read the host again when they run. The plan also says
whether the run changes anything at all, and so whether it needs the deploy lock.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyinfra.api import HiddenValue

from tasks.docker_engine import engine_problems
from tasks.envfile import env_values, render_env
from tasks.facts import HostSnapshot
from tasks.firewall import firewall_problems
from tasks.secrets import StackSecrets
from tasks.settings import Settings
from tasks.stack import fingerprint_to_record, render_compose_file, stack_problems


@dataclass(frozen=True)
class DeployPlan:
    engine: list[str]  # what differs, per part; empty: nothing to do
    firewall: list[str]
    stack: list[str]
    compose_file: str
    env_file: HiddenValue
    db_fingerprint: str | None  # to record on the host (None: leave it)

    @property
    def changes_anything(self) -> bool:
        return bool(self.engine or self.firewall or self.stack)


def plan_deploy(settings: Settings, host_state: HostSnapshot, secrets: StackSecrets) -> DeployPlan:
    compose_file = render_compose_file(settings)
    env_file = render_env(env_values(settings, secrets))
    fingerprint = fingerprint_to_record(settings, secrets, host_state.files, env_file)
    engine = engine_problems(host_state.engine, settings)
    if engine:
        # The reading of the stack no longer holds once Docker changes under it.
        stack = ["Docker changes first; the stack is read again when its turn comes"]
    else:
        stack = stack_problems(settings, host_state, compose_file, env_file)
    if fingerprint is not None:
        stack.append("the database password's fingerprint is to be recorded")
    return DeployPlan(
        engine=engine,
        firewall=firewall_problems(settings, host_state),
        stack=stack,
        compose_file=compose_file,
        env_file=HiddenValue(env_file),
        db_fingerprint=fingerprint,
    )
