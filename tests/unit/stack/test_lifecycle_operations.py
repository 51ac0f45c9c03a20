"""The stack's lifecycle operations: stop, and nuke's reset."""

from __future__ import annotations

from tasks.stack.facts import ComposeProject, ComposeProjectState, ContainerState
from tasks.stack.layout import StackPaths
from tasks.stack.operations import stack_reset, stack_stopped
from tests.unit.fake_host import FakeFacts, plan_operation

PATHS = StackPaths("/opt/prisma", "prisma")


def stack(*containers: ContainerState, images=None) -> ComposeProjectState:
    return ComposeProjectState({}, containers, images or {})


def test_stop_only_when_something_runs():
    running = stack(ContainerState("prisma-db", "running", "h", "sha256:1", "healthy"))
    commands, _ = plan_operation(stack_stopped, FakeFacts({ComposeProject: running}), paths=PATHS)
    (command,) = commands
    assert str(command).endswith("--env-file /opt/prisma/.env stop")
    stopped = stack(ContainerState("prisma-db", "exited", "h", "sha256:1", "-"))
    commands, noops = plan_operation(
        stack_stopped, FakeFacts({ComposeProject: stopped}), paths=PATHS
    )
    assert commands == [] and noops == ["the stack is already stopped"]


def test_nuke_kills_then_removes_volumes_then_starts():
    commands, _ = plan_operation(stack_reset, FakeFacts({}), paths=PATHS)
    verbs = [str(c).split("--env-file /opt/prisma/.env ")[1].split(" &&")[0] for c in commands]
    assert verbs == [
        "kill",
        "down --volumes --remove-orphans",
        "up --detach --remove-orphans --quiet-pull",
    ]
