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


def yes_or_no(condition: str) -> str:
    """A ShellCondition's command: `yes` when the shell condition holds, else `no`."""
    return f"{{ {condition}; }} >/dev/null 2>&1 && echo yes || echo no"


class ShellCondition(FactBase[bool]):
    """A yes-or-no fact; its command is yes_or_no() of a shell condition. (Each subclass
    declares its own command(): pyinfra passes a fact the arguments its command names.)"""

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
    def command(self) -> str:
        return yes_or_no("sudo -n true")
