"""Facts that belong to no part of the stack: what GET answers, yes-or-no shell
conditions, and sudo without password."""

from __future__ import annotations

from pyinfra.api import FactBase
from typing_extensions import override

from tasks.host.probes import http_status_probe, parse_http_status


class HttpBody(FactBase[str]):
    """The body GET url answers with from the host itself ('' when nothing answers)."""

    @override
    def command(self, url: str) -> str:
        return http_status_probe(url)

    @override
    @staticmethod
    def default() -> str:
        return ""

    @override
    def process(self, output) -> str:
        return parse_http_status(output)


class ShellCondition(FactBase[bool]):
    """A yes-or-no fact: whether the shell condition of condition() holds on the host,
    read with shell built-ins where the condition is one."""

    def condition(self, *args, **kwargs) -> str:
        raise NotImplementedError

    @override
    def command(self, *args, **kwargs) -> str:
        return f"{{ {self.condition(*args, **kwargs)}; }} >/dev/null 2>&1 && echo yes || echo no"

    @override
    @staticmethod
    def default() -> bool:
        return False

    @override
    def process(self, output) -> bool:
        return "yes" in (line.strip() for line in output)


class PasswordlessSudo(ShellCondition):
    """Whether the connecting user may run sudo without a password (run without sudo)."""

    @override
    def condition(self) -> str:
        return "sudo -n true"
