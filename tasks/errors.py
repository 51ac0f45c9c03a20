"""The one kind of error that stops a single host, not the whole run, and the summary a
run ends with when hosts failed."""

from __future__ import annotations

import atexit
from collections.abc import Iterator
from contextlib import contextmanager

import click
from pyinfra.api.exceptions import PyinfraError
from pyinfra.api.state import State
from pyinfra.context import ctx_host, ctx_state

from tasks.pyinfra_helpers import FAILURES, log_error

UNEXPLAINED = "failed where this deploy says nothing more: see pyinfra's errors above"


class HostRefused(PyinfraError):
    """This host cannot be deployed as asked; nothing was changed on it. The message
    names the host, the setting or condition, and what to do."""


def failure_summary(run: State) -> str | None:
    """One line per failed host, with the first reason this project gave for it."""
    failed = sorted(run.failed_hosts, key=lambda each: each.name)
    if not failed:
        return None
    lines = [f"{len(failed)} of {len(run.inventory)} hosts failed:"]
    lines += [f"    {each.name}: {FAILURES.get(each.name, UNEXPLAINED)}" for each in failed]
    return "\n".join(lines)


_summaries: set[int] = set()


def _summary_at_exit(run: State) -> None:
    summary = failure_summary(run)
    if summary:
        click.echo(f"--> {summary}", err=True)


def _summarise_at_exit(run: State) -> None:
    """Once per run: pyinfra's own last word on hosts failing while the run executes is
    "No hosts remaining!"; the summary comes after it."""
    if id(run) not in _summaries:
        _summaries.add(id(run))
        atexit.register(_summary_at_exit, run)


@contextmanager
def refusal_stops_only_this_host() -> Iterator[None]:
    """Run a deploy file's body for one host; a HostRefused fails that host alone.

    The error is printed, the host is marked failed (so the run's exit code says so)
    and its operations never run, while the other hosts go on. Raised while the run is
    prepared, it comes before anything on any host changes. The run ends with a summary
    of every failed host.
    """
    run = ctx_state.get()
    _summarise_at_exit(run)
    try:
        yield
    except HostRefused as refusal:
        current = ctx_host.get()
        log_error(current, f"refused: {refusal}")
        if run.active_hosts == {current}:
            # fail_hosts would raise "No hosts remaining!" here, and pyinfra would show it
            # pointing at this file: the host fails the same way, the summary says why.
            run.failed_hosts.add(current)
            run.active_hosts.discard(current)
        else:
            run.fail_hosts({current})
