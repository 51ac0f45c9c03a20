"""The one kind of error that stops a single host, not the whole run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pyinfra import host, state
from pyinfra.api.exceptions import PyinfraError

from tasks.pyinfra_helpers import log_error


class HostRefused(PyinfraError):
    """This host cannot be deployed as asked; nothing was changed on it. The message
    names the host, the setting or condition, and what to do."""


@contextmanager
def refusal_stops_only_this_host() -> Iterator[None]:
    """Run a deploy file's body for one host; a HostRefused fails that host alone.

    The error is printed, the host is marked failed (so the run's exit code says so)
    and its operations never run, while the other hosts go on. Raised while the run is
    prepared, it comes before anything on any host changes.
    """
    try:
        yield
    except HostRefused as refusal:
        log_error(host, f"refused: {refusal}")
        state.fail_hosts({host})
