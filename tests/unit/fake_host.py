"""
Plan a deploy function or operation against mocked facts, without any host: the
commands it would run, per operation. For command generation only; everything that
touches a host is tested end to end.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest.mock import patch

from pyinfra.api import Config, Inventory, State
from pyinfra.api.deploy import add_deploy
from pyinfra.api.host import Host
from pyinfra.context import ctx_host, ctx_state


@dataclass
class PlannedOperation:
    name: str
    commands: list[str]


class FakeFacts:
    """Fact values by class (and optionally by keyword arguments); the rest default."""

    def __init__(self, values: dict[Any, Any] | None = None):
        self.values = values or {}

    def get(self, fact_class, **kwargs) -> Any:
        """A value, or a function of the fact's keyword arguments, or the fact's default."""
        kwargs = {key: value for key, value in kwargs.items() if not key.startswith("_")}
        if fact_class not in self.values:
            return fact_class().default()
        value = self.values[fact_class]
        return value(**kwargs) if callable(value) else value


@contextmanager
def fake_state(facts: FakeFacts, data: dict | None = None):
    inventory = Inventory((["testhost"], data or {}))
    state = State(inventory, Config())

    def get_fact(host: Host, fact_class, *args, **kwargs):
        return facts.get(fact_class, **kwargs)

    with patch.object(Host, "get_fact", get_fact):
        yield state, inventory.get_host("testhost")


def plan(deploy_function: Callable, facts: FakeFacts, *args, **kwargs) -> list[PlannedOperation]:
    """The operations deploy_function queues and the commands each yields (no _if applied)."""
    with fake_state(facts) as (state, host):
        add_deploy(state, deploy_function, *args, host=host, **kwargs)
        planned = []
        with ctx_state.use(state), ctx_host.use(host):
            for op_hash in state.get_op_order():
                op_data = state.get_op_data_for_host(host, op_hash)
                commands = [str(command) for command in op_data.command_generator()]
                planned.append(PlannedOperation(sorted(state.op_meta[op_hash].names)[0], commands))
        return planned


def plan_operation(operation: Callable, facts: FakeFacts, data: dict | None = None, **kwargs):
    """The commands one operation yields against the mocked facts, and its noop messages."""
    from pyinfra.api.operation import add_op

    noops: list[str] = []
    record_noop = patch.object(Host, "noop", lambda self, message: noops.append(message))
    with fake_state(facts, data) as (state, host), record_noop:
        add_op(state, operation, host=host, **kwargs)
        (op_hash,) = state.get_op_order()
        with ctx_state.use(state), ctx_host.use(host):
            op_data = state.get_op_data_for_host(host, op_hash)
            noops.clear()  # adding the operation already ran it once, to detect change
            commands = list(op_data.command_generator())
    return commands, noops


def path_lines(path: str, kind: str = "missing", mode: int = 0, digest: str = "") -> list[str]:
    """What path_probe() prints for one path of root's (kind "file", "directory" or
    "missing"; digest only for a file)."""
    if kind == "missing":
        return [f"path {path} missing"]
    lines = [f"path {path} {kind}", f"path-stat {path} {mode} root root"]
    return lines + ([f"SHA256 ({path}) = {digest}"] if digest else [])
