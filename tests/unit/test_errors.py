"""The summary a run ends with when hosts failed."""

from __future__ import annotations

from types import SimpleNamespace
from typing import NamedTuple

from tasks import errors, pyinfra_helpers


class FakeHost(NamedTuple):
    name: str


def run_with(failed: list[str], total: int) -> SimpleNamespace:
    return SimpleNamespace(
        failed_hosts={FakeHost(name) for name in failed}, inventory=[None] * total
    )


def test_no_failed_host_no_summary():
    assert errors.failure_summary(run_with([], 3)) is None


def test_each_failed_host_with_its_first_reason(monkeypatch):
    monkeypatch.setattr(pyinfra_helpers, "FAILURES", {})
    monkeypatch.setattr(errors, "FAILURES", pyinfra_helpers.FAILURES)
    pyinfra_helpers.record_failure("db-2", "refused: setting 'prisma_port' must be ...")
    pyinfra_helpers.record_failure("db-2", "a later error")
    summary = errors.failure_summary(run_with(["db-2", "db-1"], 3))
    assert summary == (
        "2 of 3 hosts failed:\n"
        f"    db-1: {errors.UNEXPLAINED}\n"
        "    db-2: refused: setting 'prisma_port' must be ..."
    )
