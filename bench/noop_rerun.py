"""
Benchmark: how long deploy.py takes on a host where nothing needs to change, beside two
floors measured on the same host, and how long a fresh provisioning takes.

  floor 1  pyinfra itself: a deploy file that runs one `true` (start-up + connect)
  floor 2  one plain `ssh` command reading the same stack state the deploy reads
  no-op    `pyinfra -y inventories/do.py deploy.py` on the converged host

Target: the no-op re-run within 1.5x of floor 1, with zero changes reported.

Run: `python bench/noop_rerun.py [--runs N] [--keep]` (needs the test harness: a Docker
engine, see README). Prints a table and writes bench/results/noop_rerun.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import new_ssh_key, ready_images, remove_registry_storage, timed

from tasks.stack.facts import compose_project_probe
from tasks.stack.layout import StackPaths
from tests.e2e import harness
from tests.e2e.conftest import stack_data

FLOOR_DEPLOY = """
from pyinfra.operations import server
server.shell(name="true", commands=["true"])
"""
TARGET_RATIO = 1.5


def median_seconds(action, runs: int) -> float:
    return statistics.median(timed(action) for _ in range(runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the test host afterwards")
    options = parser.parse_args()

    images = ready_images()
    work = Path(tempfile.mkdtemp(prefix="prisma-bench-"))
    key = new_ssh_key(work)
    host = harness.start_test_host((work / "id_ed25519.pub").read_text(), prefix="prisma-e2e-bench")
    try:
        environment = {
            "PRISMA_HOSTS": host.address,
            "PRISMA_SSH_KEY": str(key),
            "PRISMA_SECRETS_DIR": str(work / "secrets"),
        }
        data = stack_data(host, images)
        floor_file = work / "floor.py"
        floor_file.write_text(FLOOR_DEPLOY)

        def deploy(flags=("-y", "--json")):
            run = harness.run_pyinfra("inventories/do.py", "deploy.py", environment, data, flags)
            if run.returncode != 0:
                raise SystemExit(f"deploy failed:\n{run.output[-3000:]}")
            return run

        fresh_seconds = timed(deploy)
        changes = deploy().total_changes  # also warms caches before the timed runs

        def floor():
            return harness.run_pyinfra(
                "inventories/do.py", str(floor_file), environment, flags=("-y",)
            )

        # Interleaved, so both see the same load on this shared machine.
        noop_times, floor_times = [], []
        for _ in range(options.runs):
            noop_times.append(timed(lambda: deploy(("-y",))))
            floor_times.append(timed(floor))
        noop = statistics.median(noop_times)
        floor_pyinfra = statistics.median(floor_times)
        state_command = compose_project_probe(StackPaths("/opt/prisma", "prisma"))
        ssh = [
            "ssh",
            "-i",
            str(key),
            "-p",
            str(host.ssh_port),
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            "root@127.0.0.1",
            state_command,
        ]
        floor_ssh = median_seconds(
            lambda: subprocess.run(ssh, check=True, capture_output=True), options.runs
        )
    finally:
        if options.keep:
            print(f"kept {host.name}; its SSH key and secrets are in {work}", file=sys.stderr)
        else:
            host.remove()
            remove_registry_storage()
            shutil.rmtree(work)

    results = {
        "fresh_provisioning_seconds": round(fresh_seconds, 2),
        "noop_rerun_seconds": round(noop, 3),
        "floor_pyinfra_true_seconds": round(floor_pyinfra, 3),
        "floor_single_ssh_seconds": round(floor_ssh, 3),
        "noop_over_pyinfra_floor": round(noop / floor_pyinfra, 2),
        "noop_over_ssh_floor": round(noop / floor_ssh, 2),
        "changes_reported_by_noop_run": changes,
        "target_ratio": TARGET_RATIO,
        "runs": options.runs,
    }
    width = max(len(key) for key in results)
    for name, value in results.items():
        print(f"{name:<{width}}  {value}")
    verdict = results["noop_over_pyinfra_floor"] <= TARGET_RATIO and changes == 0
    print(f"target (<= {TARGET_RATIO}x pyinfra floor, 0 changes): {'met' if verdict else 'MISSED'}")
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "noop_rerun.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
