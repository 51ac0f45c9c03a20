"""
Benchmark: from nothing to a healthy stack on 1 and on 3 droplets, the user's two
commands, against the DigitalOcean API stand-in whose droplets are real test hosts
(tests/e2e/do_cloud.py).

  provision  `pyinfra -y @local provision.py --data do_droplets=N` on an empty account:
             key, tags, volumes, droplets (booted, answering SSH, host keys recorded),
             reserved IPs, the Cloud Firewall
  deploy     `pyinfra -y inventories/do.py deploy.py` on those already-created hosts
             (fresh: nothing installed yet), until every droplet answers /status
  total      both

Each run starts from an empty account and new hosts; the deploy's images are pushed to
the test registry before its clock starts. The stand-in's droplets boot in seconds
(containers), real droplets in about a minute: the provision figures are the project's
own work plus the stand-in's boot, not DigitalOcean's. Medians of --runs runs.

Run: `python bench/provision.py [--counts 1 3] [--runs N]` (needs the test harness: a
Docker engine, see README). Prints a table, writes bench/results/provision.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from common import must, new_ssh_key, ready_images, remove_registry_storage, timed

from tests.e2e import harness
from tests.e2e.conftest import stack_data
from tests.e2e.do_cloud import CloudApi

BENCH = Path(__file__).resolve().parent
TOKEN = "dop_v1_bench_token_0123456789abcdef"


@dataclass(frozen=True)
class Measured:
    droplets: int
    provision: float
    deploy: float
    api_writes: int

    @property
    def total(self) -> float:
        return self.provision + self.deploy


def user_environment(cloud: CloudApi, key: Path, work: Path, count: int) -> dict[str, str]:
    """A user with a token and a key; the stand-in's droplets share 127.0.0.1, so each is
    reached on its own SSH port (PRISMA_SSH_PORTS)."""
    names = [f"prisma-{number:02d}" for number in range(1, count + 1)]
    return {
        "DIGITALOCEAN_TOKEN": TOKEN,
        "DIGITALOCEAN_API_ENDPOINT": cloud.url,
        "REQUESTS_CA_BUNDLE": str(cloud.ca_file),
        "PRISMA_SSH_KEY": str(key),
        "PRISMA_SSH_PORTS": cloud.ssh_ports_variable(names),
        "PRISMA_SECRETS_DIR": str(work / "secrets"),
    }


def measure_once(count: int, key: Path, images: harness.StandInImages) -> Measured:
    """One run from an empty account: provision, then deploy on the created hosts."""
    work = Path(tempfile.mkdtemp(prefix=f"prisma-bench-provision-{count}-"))
    cloud = CloudApi(TOKEN, work).start()
    try:
        user = user_environment(cloud, key, work, count)
        provision_seconds = timed(
            lambda: must(
                harness.run_pyinfra("@local", "provision.py", user, {"do_droplets": count}),
                "provision.py",
            )
        )
        writes = len(cloud.writes())
        data = stack_data(next(iter(cloud.hosts.values())), images)  # pushed before the clock
        deploy = harness.run_pyinfra
        deploy_seconds = timed(
            lambda: must(deploy("inventories/do.py", "deploy.py", user, data), "deploy.py")
        )
        for host in cloud.hosts.values():
            answer = harness.run("curl", "-s", host.url(4466, "/status")).stdout.strip()
            if answer != "OK":
                raise SystemExit(f"{host.name} answers {answer!r} after the deploy")
        return Measured(count, provision_seconds, deploy_seconds, writes)
    finally:
        cloud.close()
        shutil.rmtree(work)  # the run's generated secrets


def median_of(runs: list[Measured]) -> Measured:
    return Measured(
        runs[0].droplets,
        statistics.median(r.provision for r in runs),
        statistics.median(r.deploy for r in runs),
        runs[0].api_writes,
    )


def table(rows: list[Measured]) -> str:
    lines = [
        "| droplets | provision.py | deploy.py on the created hosts | total | API writes |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.droplets} | {row.provision:.1f} s | {row.deploy:.1f} s | "
            f"{row.total:.1f} s | {row.api_writes} |"
        )
    return "\n".join(lines)


def write_results(rows: list[Measured], runs: int, stamp: str) -> None:
    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    payload = {
        "date": stamp,
        "cores": os.cpu_count(),
        "runs": runs,
        "rows": [
            {
                "droplets": row.droplets,
                "provision_seconds": round(row.provision, 2),
                "deploy_seconds": round(row.deploy, 2),
                "total_seconds": round(row.total, 2),
                "api_writes": row.api_writes,
            }
            for row in rows
        ],
    }
    (results / "provision.json").write_text(json.dumps(payload, indent=2) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 3], help="droplets")
    parser.add_argument("--runs", type=int, default=1, help="runs per count (median)")
    options = parser.parse_args()
    images = ready_images()
    with tempfile.TemporaryDirectory(prefix="prisma-bench-key-") as key_directory:
        key = new_ssh_key(Path(key_directory))
        try:
            rows = [
                median_of([measure_once(count, key, images) for _ in range(options.runs)])
                for count in options.counts
            ]
        finally:
            remove_registry_storage()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    print(table(rows))
    print(f"measured {stamp} ({os.cpu_count()} cores, test stand-ins), medians of {options.runs}")
    write_results(rows, options.runs, stamp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
