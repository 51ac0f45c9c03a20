"""
The lifecycle deploy files end to end on one deployed Debian 13 host, through the real
pyinfra CLI. The tests of this module share the host and run in order.
"""

from __future__ import annotations

import json
import re
import socket
import time
import urllib.request

import pytest

from tasks.lock import holder
from tests.e2e.harness import another_machine

pytestmark = pytest.mark.e2e

UPGRADE = (
    "Upgrade the Prisma stack | "
    "Pull the tags; recreate what changed; roll back if Prisma does not answer"
)
ROLLBACK = "Roll the Prisma stack back | Return to the images recorded before the last upgrade"


def get(host, path: str) -> str:
    try:
        with urllib.request.urlopen(host.url(4466, path), timeout=10) as response:
            return response.read().decode()
    except OSError as error:
        return f"unreachable: {error}"


def states(deployer) -> dict[str, str]:
    lines = deployer.host.exec(
        "docker ps -a --filter label=com.docker.compose.project=prisma "
        "--format '{{.Label \"com.docker.compose.service\"}} {{.State}}'"
    ).stdout.splitlines()
    return dict(line.split() for line in lines if line.strip())


def row_count(deployer, table: str) -> int:
    return int(deployer.mysql(f"SELECT COUNT(*) FROM graphcool.{table};").strip())


@pytest.fixture(scope="module")
def deployed(deployer, tmp_path_factory):
    deployer.backups_dir = tmp_path_factory.mktemp("backups")
    result = deployer.run()
    assert result.returncode == 0, result.output
    deployer.mysql(
        "CREATE TABLE graphcool.Kept (id INT PRIMARY KEY);"
        "INSERT INTO graphcool.Kept VALUES (1), (2), (3);"
    )
    return deployer


LOCK = "/run/prisma-deploy/prisma"


def run(deployer, deploy_file: str, flags=("-y", "--json"), prefix=(), **data):
    environment = {"PRISMA_BACKUP_DIR": str(deployer.backups_dir)}
    return deployer.run(deploy_file, flags=flags, environment=environment, prefix=prefix, **data)


def test_stop_keeps_data_and_start_brings_it_back(deployed):
    stopped = run(deployed, "stop.py")
    assert stopped.returncode == 0, stopped.output
    assert states(deployed) == {"prisma-db": "exited", "prisma-database": "exited"}
    assert run(deployed, "stop.py").total_changes == 0

    started = run(deployed, "start.py")
    assert started.returncode == 0, started.output
    assert states(deployed) == {"prisma-db": "running", "prisma-database": "running"}
    assert get(deployed.host, "/status") == "OK"
    assert row_count(deployed, "Kept") == 3
    assert run(deployed, "start.py").total_changes == 0


def test_logs_show_both_services_with_the_host_name(deployed):
    result = run(deployed, "logs.py", flags=("-y",), logs_lines=20)
    assert result.returncode == 0, result.output
    lines = [line for line in result.stderr.splitlines() if f"[{deployed.host.address}]" in line]
    assert any("prisma-db" in line and "ready for connections" in line for line in lines)
    assert any("prisma-database" in line and "Server running on :4466" in line for line in lines)
    # Each line as `docker compose logs` prints it: the container's name without the
    # project's prefix (in full when the compose file names it), padded, and a timestamp.
    timestamp = r"\| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z "
    assert any(re.search("prisma-db {10}" + timestamp, line) for line in lines), lines
    assert any(re.search("prisma-database-1  " + timestamp, line) for line in lines), lines

    only_db = run(deployed, "logs.py", flags=("-y",), logs_service="prisma-db", logs_lines=5)
    assert only_db.returncode == 0, only_db.output
    db_lines = [line for line in only_db.stderr.splitlines() if "prisma-db" in line]
    assert db_lines, only_db.stderr  # the service asked for is there ...
    assert "prisma-database-1" not in only_db.stderr  # ... and only it
    assert deployed.secret("db_password") not in result.output


def test_status_json_matches_the_host(deployed):
    result = run(deployed, "status.py", flags=("-y",), status_format="json")
    assert result.returncode == 0, result.output
    (document,) = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert document["host"] == deployed.host.address
    assert document["status_ok"] is True
    services = {service["service"]: service for service in document["services"]}
    assert set(services) == {"prisma-db", "prisma-database"}
    for name, service in services.items():
        actual = deployed.host.exec(
            "docker inspect --format "
            "'{{.State.Status}} {{.Image}} {{.Config.Image}} {{.State.StartedAt}}' "
            f"$(docker ps -q --filter label=com.docker.compose.service={name})"
        ).stdout.split()
        shown = ("state", "image_id", "image", "started_at")
        assert [service[field] for field in shown] == actual
        assert service["uptime_seconds"] >= 0
        assert service["digest"].startswith("sha256:")
    assert services["prisma-db"]["health"] == "healthy"

    table = run(deployed, "status.py", flags=("-y",))
    assert "SERVICE" in table.stderr and "prisma-database" in table.stderr
    assert f"GET {'http://127.0.0.1:4466/status'}: OK" in table.stderr


@pytest.mark.parametrize("report", ["status.py", "logs.py"])
def test_a_report_where_deploy_py_never_ran_fails_and_says_so(deployed, report):
    """The reports check for the stack in their own command (no round trip first); where
    there is none they fail as the other lifecycle files do, and change nothing. Here
    `prisma_stack_dir` points where deploy.py never wrote; the tests above are the
    control (the same files, the real directory)."""
    before = deployed.host.exec("ls -A /opt").stdout
    result = run(deployed, report, flags=("-y",), prisma_stack_dir="/opt/never-deployed")
    assert result.returncode != 0, result.output
    reason = "no Prisma stack in /opt/never-deployed; run deploy.py first"
    assert f"{deployed.host.address}: {reason}" in result.stderr  # the run's last summary
    assert "SERVICE" not in result.stderr and not result.stdout.strip()
    assert deployed.host.exec("ls -A /opt").stdout == before


def test_upgrade_recreates_only_the_changed_service_and_keeps_data(deployed, stand_in_images):
    database_before = deployed.container_id("prisma-db")
    assert get(deployed.host, "/version") == "1.0"
    deployed.host.push(stand_in_images.prisma_next, "prisma:1.0")  # a new build, same tag

    result = run(deployed, "upgrade.py")

    assert result.returncode == 0, result.output
    assert UPGRADE in result.changed_operations
    assert get(deployed.host, "/version") == "1.1"
    assert deployed.container_id("prisma-db") == database_before
    assert row_count(deployed, "Kept") == 3
    assert (
        "prisma-database sha256:" in deployed.host.exec("cat /opt/prisma/.previous-images").stdout
    )

    again = run(deployed, "upgrade.py")
    assert again.returncode == 0, again.output
    assert again.total_changes == 0


def test_rollback_returns_to_the_recorded_image(deployed):
    result = run(deployed, "rollback.py")
    assert result.returncode == 0, result.output
    assert ROLLBACK in result.changed_operations
    assert get(deployed.host, "/version") == "1.0"
    assert run(deployed, "rollback.py").total_changes == 0
    # deploy.py agrees with the rolled-back state.
    assert run(deployed, "deploy.py").total_changes == 0


def test_an_upgrade_that_never_answers_is_rolled_back(deployed, stand_in_images):
    old_image = deployed.host.exec(
        "docker inspect --format '{{.Image}}' prisma-prisma-database-1"
    ).stdout.strip()
    deployed.host.push(stand_in_images.prisma_broken, "prisma:1.0")

    result = run(deployed, "upgrade.py", flags=("-y",), prisma_health_timeout=15)

    assert result.returncode != 0
    assert "rolled back to the previous images; the server answers again" in result.output
    assert get(deployed.host, "/status") == "OK"
    assert get(deployed.host, "/version") == "1.0"
    now = deployed.host.exec("docker inspect --format '{{.Image}}' prisma-prisma-database-1")
    assert now.stdout.strip() == old_image
    assert row_count(deployed, "Kept") == 3


def test_nuke_without_consent_refuses_and_changes_nothing(deployed):
    database_before = deployed.container_id("prisma-db")

    refused = run(deployed, "nuke.py", flags=("-y",))
    wrong = run(deployed, "nuke.py", flags=("-y",), nuke_confirm="some-other-host")

    for result in (refused, wrong):
        assert result.returncode != 0
        assert f"--data nuke_confirm={deployed.host.address}" in result.output
    assert deployed.container_id("prisma-db") == database_before
    assert row_count(deployed, "Kept") == 3
    assert not list(deployed.backups_dir.rglob("*.sql.gz"))


def test_nuke_with_consent_leaves_an_empty_database_and_a_backup(deployed):
    deployed.counts_before_nuke = {
        table: row_count(deployed, table) for table in ("Kept", "DoubleConnection")
    }

    result = run(deployed, "nuke.py", nuke_confirm=deployed.host.address)

    assert result.returncode == 0, result.output
    (dump,) = list(deployed.backups_dir.rglob("*.sql.gz"))
    checksum = dump.with_name(dump.name + ".sha256").read_text().split()[0]
    assert oct(dump.stat().st_mode & 0o777) == "0o600"
    on_host = deployed.host.exec(f"sha256sum /opt/prisma/backups/{dump.name}").stdout.split()[0]
    assert on_host == checksum
    tables = deployed.mysql("SHOW TABLES IN graphcool;").split()
    assert "Kept" not in tables
    assert get(deployed.host, "/status") == "OK"
    deployed.dump = dump


def test_restore_brings_the_same_row_counts_back(deployed):
    refused = run(deployed, "restore.py", flags=("-y",), restore_file=str(deployed.dump))
    assert refused.returncode != 0
    assert f"restore_confirm={deployed.host.address}" in refused.output

    result = run(
        deployed,
        "restore.py",
        restore_file=str(deployed.dump),
        restore_confirm=deployed.host.address,
    )

    assert result.returncode == 0, result.output
    counts = {table: row_count(deployed, table) for table in ("Kept", "DoubleConnection")}
    assert counts == deployed.counts_before_nuke


def host_snapshot(deployed) -> tuple[str, str, int, str]:
    """What a restore would change: the uploaded files, the data, the lock."""
    backups = deployed.host.exec("ls -la --time-style=+%s /opt/prisma/backups 2>&1 || true").stdout
    lock = deployed.host.exec(f"ls {LOCK} 2>&1 || true").stdout
    database = deployed.container_id("prisma-db")
    return backups, lock, row_count(deployed, "Kept"), database


def test_a_damaged_dump_is_refused_before_the_host_is_touched(deployed, tmp_path):
    before = host_snapshot(deployed)
    damaged = tmp_path / deployed.dump.name
    damaged.write_bytes(deployed.dump.read_bytes()[:-10])
    damaged.with_name(damaged.name + ".sha256").write_text(
        deployed.dump.with_name(deployed.dump.name + ".sha256").read_text()
    )
    result = run(
        deployed,
        "restore.py",
        flags=("-y",),
        restore_file=str(damaged),
        restore_confirm=deployed.host.address,
    )
    assert result.returncode != 0
    assert "does not match its checksum" in result.output
    assert host_snapshot(deployed) == before


def test_two_concurrent_runs_do_not_interleave(deployed):
    slow = deployed.start(prisma_java_heap="640m")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if deployed.host.exec(f"test -d {LOCK}", check=False).returncode == 0:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the first run never took the lock")
        second = run(deployed, "deploy.py", flags=("-y",), prisma_java_heap="768m")
    finally:
        slow.wait(timeout=300)

    assert slow.returncode == 0
    assert second.returncode != 0
    assert "the host is locked by another run" in second.output
    assert "file=deploy.py" in second.output
    env = deployed.host.exec(
        "docker inspect --format '{{json .Config.Env}}' prisma-prisma-database-1"
    ).stdout
    assert "-Xmx640m" in env  # the first run's setting, untouched by the second
    deployed.data["prisma_java_heap"] = "640m"


def leave_lock(deployed, line: str) -> None:
    deployed.host.exec(f"mkdir -p -m 700 {LOCK} && cat > {LOCK}/holder", input=line + "\n")


def test_a_lock_left_by_a_dead_run_is_broken_and_others_need_consent(deployed):
    here = f"machine={holder.machine_id()} boot={holder.boot_id()}"
    leave_lock(deployed, f"someone@{socket.gethostname()} {here} pid=999999 run=deadbeef x")
    result = run(deployed, "start.py", flags=("-y",))
    assert result.returncode == 0, result.output
    assert "its run is gone" in result.output

    # The same host name and process number, but another machine: not known to be gone.
    elsewhere = (
        f"ci@{socket.gethostname()} machine=0123456789abcdef boot=b pid=999999 run=cafe "
        "since=2026-01-01T00:00:00Z file=upgrade.py"
    )
    leave_lock(deployed, elsewhere)
    refused = run(deployed, "start.py", flags=("-y",))
    assert refused.returncode != 0
    assert "machine=0123456789abcdef" in refused.output
    assert "prisma_lock_break=true" in refused.output
    # A deploy that finds nothing to change needs no lock, so another run cannot block it.
    nothing_to_do = run(deployed, "deploy.py")
    assert nothing_to_do.returncode == 0, nothing_to_do.output
    assert nothing_to_do.total_changes == 0
    broken = run(deployed, "start.py", flags=("-y",), prisma_lock_break=True)
    assert broken.returncode == 0, broken.output
    assert deployed.host.exec(f"test -e {LOCK}", check=False).returncode != 0
    # The lock lives in a directory only root can enter.
    assert deployed.host.exec("stat -c '%a %U' /run/prisma-deploy").stdout.split() == [
        "700",
        "root",
    ]


def test_a_failed_deploy_gives_the_lock_back(deployed, tmp_path):
    """Before: pyinfra dropped the failed host, its release never ran, and a run from
    another machine was refused until someone broke the lock by hand."""
    failed = run(
        deployed, "deploy.py", flags=("-y",), prisma_image=deployed.data["prisma_image"] + "x"
    )
    assert failed.returncode != 0
    assert "deploy lock released after the failure" in failed.output
    assert "--> 1 of 1 hosts failed:" in failed.output.rstrip().splitlines()[-2]
    assert deployed.host.exec(f"test -e {LOCK}", check=False).returncode != 0

    # A deploy from another machine (host name and machine-id) goes through at once.
    elsewhere = run(deployed, "deploy.py", prefix=another_machine(tmp_path))
    assert elsewhere.returncode == 0, elsewhere.output
    assert "locked by another run" not in elsewhere.output
    assert get(deployed.host, "/status") == "OK"
