"""What every benchmark starts with: Python as on a user's machine, a Docker engine for
the test hosts, the stand-in images built once, and a fresh SSH key."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.e2e import harness


def ready_images() -> harness.StandInImages:
    """The stand-in images, or exit 2 saying why the harness cannot run here."""
    # As on a user's machine: Python writes bytecode (some environments, this one
    # included, turn it off with PYTHONDONTWRITEBYTECODE; pyinfra runs then recompile).
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    problem = harness.engine_problem()
    if problem:
        print(f"cannot benchmark: {problem}", file=sys.stderr)
        raise SystemExit(2)
    return harness.build_images()


def remove_registry_storage() -> None:
    """The registry storage the test hosts of this process shared (the stand-in images,
    about 130 MB): a named volume, which removing the hosts leaves behind."""
    harness.docker("volume", "rm", harness.SHARED_REGISTRY_VOLUME, check=False)


def new_ssh_key(directory: Path) -> Path:
    """A passphrase-less ed25519 key in directory (its .pub beside it)."""
    key = directory / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key


def timed(action: Callable[[], object]) -> float:
    """Seconds the action took."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def must(run: harness.PyinfraRun, what: str = "a benchmarked run") -> harness.PyinfraRun:
    """The run, or exit with the end of its output when it failed."""
    if run.returncode != 0:
        raise SystemExit(f"{what} failed:\n{run.output[-3000:]}")
    return run


def _busy_and_total() -> tuple[int, int]:
    """The machine's CPU ticks so far: busy (all but idle and iowait) and total."""
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return sum(ticks) - idle, sum(ticks)


def _busy_share(window: float) -> float:
    """The share of the machine's CPU time that was busy over the next window seconds."""
    busy_before, total_before = _busy_and_total()
    time.sleep(window)
    busy_after, total_after = _busy_and_total()
    return (busy_after - busy_before) / max(total_after - total_before, 1)


def wait_until_quiet(
    busy_below: float = 0.25, window: float = 5, at_most: float = 300, settled: float = 0.02
) -> float:
    """Wait until the machine's CPUs were less than busy_below busy over a window of
    seconds and no longer getting quieter (at most `settled` below the window before),
    at most at_most seconds; the busy share of the last window. Servers just started
    keep the machine busy for a while, and settle for a while more under the bar: one
    bench run began its 16-host case at 19% busy, where sixteen idle stacks keep it at
    13 to 16%, and the median ratio of its first ten turns was 1.44x, of its last ten
    1.22x."""
    deadline = time.monotonic() + at_most
    previous = 1.0
    while True:
        share = _busy_share(window)
        if (busy_below > share > previous - settled) or time.monotonic() > deadline:
            return share
        previous = share
