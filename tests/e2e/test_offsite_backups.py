"""
Off-site backups end to end on one Debian 13 host: restic from Debian, a real S3 server
(the moto stand-in, in the host's network namespace: 127.0.0.1:9000 from inside, reached
by these tests as an S3 client through a port published on 127.0.0.1), the systemd timer's
service, retention, verification and its failures, restore, the lifecycle files' backups
first, secrets kept out of output and `ps`, and an unreachable bucket. The tests of this
module share the host and run in order.
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import time
import uuid

import boto3
import pytest

from tests.e2e import harness
from tests.e2e.conftest import own_deployer

pytestmark = pytest.mark.e2e

BUCKET = "prisma-backups"
REPOSITORY = f"s3:http://127.0.0.1:{harness.S3_PORT_IN_HOST}/{BUCKET}"


def restic(deployer, arguments: str, input: str | None = None) -> str:
    """restic on the host, with the settings prisma-backup uses."""
    command = f"set -a; . /etc/prisma-backup/env; set +a; restic --quiet {arguments}"
    return deployer.host.exec(command, input=input).stdout


TABLES = ("Kept", "DoubleConnection")


@pytest.fixture(scope="module")
def offsite(stand_in_images, ssh_key, tmp_path_factory):
    harness.s3_image()  # built before the host starts
    publish = (4466, harness.S3_PORT_IN_HOST)
    with own_deployer(stand_in_images, ssh_key, tmp_path_factory, publish=publish) as deployer:
        deployer.host.start_s3()
        key_id, secret_key = f"E2E{secrets.token_hex(8).upper()}", secrets.token_urlsafe(30)
        deployer.s3_keys = (key_id, secret_key)
        deployer.bucket = s3_client(deployer)
        for _attempt in range(60):  # moto takes a few seconds to start
            try:
                deployer.bucket.create_bucket(Bucket=BUCKET)
                break
            except Exception:
                time.sleep(1)
        deployer.ping_path = f"/ping/{uuid.uuid4().hex}"
        deployer.data.update(
            backup_repository=REPOSITORY,
            backup_ping_url=f"http://127.0.0.1:{harness.PING_PORT_IN_HOST}{deployer.ping_path}",
            prisma_firewall_extra_ports=[harness.REGISTRY_PORT_IN_HOST, harness.S3_PORT_IN_HOST],
        )
        deployer.backups_dir = tmp_path_factory.mktemp("offsite-local-backups")
        yield deployer


def s3_client(deployer):
    key_id, secret_key = deployer.s3_keys
    return boto3.client(
        "s3",
        endpoint_url=deployer.host.url(harness.S3_PORT_IN_HOST).rstrip("/"),
        aws_access_key_id=key_id,
        aws_secret_access_key=secret_key,
        region_name="us-east-1",
    )


def run(deployer, deploy_file="deploy.py", flags=("-y", "--json"), with_keys=True, **data):
    key_id, secret_key = deployer.s3_keys
    environment = {"PRISMA_BACKUP_DIR": str(deployer.backups_dir)}
    if with_keys:
        environment["PRISMA_BACKUP_S3_ACCESS_KEY_ID"] = key_id
        environment["PRISMA_BACKUP_S3_SECRET_ACCESS_KEY"] = secret_key
    return deployer.run(deploy_file, flags=flags, environment=environment, **data)


def repository_prefix(deployer) -> str:
    return f"{deployer.host.address}/"


def snapshots(deployer) -> list[dict]:
    """This host's complete snapshots, oldest first, as restic lists them on the host."""
    listing = restic(deployer, "snapshots --json --tag prisma-backup")
    return sorted(json.loads(listing), key=lambda snapshot: snapshot["time"])


def tags(snapshot: dict) -> dict[str, str]:
    return dict(tag.partition("=")[::2] for tag in snapshot["tags"] if "=" in tag)


def recorded_rows(snapshot: dict) -> dict[str, int]:
    encoded = tags(snapshot)["rows"]
    text = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    return {line.split()[0]: int(line.split()[1]) for line in text.splitlines()}


def row_count(deployer, table: str) -> int:
    return int(deployer.mysql(f"SELECT COUNT(*) FROM graphcool.{table};").strip())


def counts(deployer) -> dict[str, int]:
    return {table: row_count(deployer, table) for table in TABLES}


def backup_by_timer_unit(deployer) -> subprocess.CompletedProcess:
    """What the timer starts, started by hand: prisma-backup.service, to its end."""
    return deployer.host.exec("systemctl start prisma-backup.service", check=False, timeout=300)


def status_json(deployer) -> dict:
    result = run(deployer, "status.py", flags=("-y",), status_format="json")
    assert result.returncode == 0, result.output
    (document,) = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return document


def backup_secrets(deployer) -> list[str]:
    return [
        deployer.secret("backup_repository_password"),
        deployer.secret("db_password"),
        *deployer.s3_keys,
    ]


def leaked(texts: list[str], values: list[str]) -> list[str]:
    return [value[:4] + "..." for value in values for text in texts if value in text]


# --- ps on the host during a run --------------------------------------------------------

SAMPLER = (
    "end=$(( $(date +%s) + {seconds} )); while [ $(date +%s) -lt $end ]; do "
    "ps -eww -o args= >> /root/ps-args; "
    "for p in /proc/[0-9]*; do tr '\\0' '\\n' < $p/environ 2>/dev/null; done >> /root/ps-environ; "
    "sleep 0.1; done"
)


def sample_processes(deployer, seconds: int) -> subprocess.Popen:
    """Command lines and environments of every process on the host, for `seconds`."""
    deployer.host.exec("rm -f /root/ps-args /root/ps-environ")
    return subprocess.Popen(
        ["docker", "exec", deployer.host.name, "bash", "-c", SAMPLER.format(seconds=seconds)]
    )


def assert_no_secret_in_processes(deployer, sampler: subprocess.Popen) -> str:
    """No secret in any command line; no backup secret in any environment (the database
    containers keep MySQL's password in theirs, as the official image does). Returns the
    command lines seen."""
    sampler.wait(timeout=300)
    arguments = deployer.host.exec("cat /root/ps-args").stdout
    environments = deployer.host.exec("cat /root/ps-environ").stdout
    assert "restic" in arguments  # the sampler ran while restic did
    assert leaked([arguments], backup_secrets(deployer)) == []
    backup_only = [deployer.secret("backup_repository_password"), *deployer.s3_keys]
    assert leaked([environments], backup_only) == []
    return arguments


# --- The tests ----------------------------------------------------------------------------


def test_bad_input_is_refused_before_the_host_changes(offsite):
    cases = {
        "is not a calendar event systemd understands": {"backup_schedule": "every full moon"},
        "are all 0, which would keep no snapshot": {
            "backup_keep_daily": 0,
            "backup_keep_weekly": 0,
            "backup_keep_monthly": 0,
        },
        "setting 'backup_repository' must be an S3 repository": {
            "backup_repository": "s3:fra1.digitaloceanspaces.com/prisma-backups"
        },
    }
    for message, data in cases.items():
        result = run(offsite, flags=("-y",), **data)
        assert result.returncode != 0
        assert message in result.output, result.output
    no_keys = run(offsite, flags=("-y",), with_keys=False)
    assert no_keys.returncode != 0 and "needs both keys" in no_keys.output
    untouched = offsite.host.exec(
        "command -v docker restic; ls -d /opt/prisma /etc/prisma-backup 2>/dev/null; true"
    )
    assert untouched.stdout.strip() == ""


def test_deploy_initialises_the_repository_once(offsite):
    result = run(offsite)
    assert result.returncode == 0, result.output
    keys = [
        item["Key"]
        for item in offsite.bucket.list_objects_v2(Bucket=BUCKET)["Contents"]
        if item["Key"].startswith(repository_prefix(offsite))
    ]
    assert f"{repository_prefix(offsite)}config" in keys
    modes = offsite.host.exec(
        "stat -c '%n %a %U' /etc/prisma-backup /etc/prisma-backup/* /usr/local/sbin/prisma-backup"
    ).stdout.splitlines()
    assert "/etc/prisma-backup 700 root" in modes
    for name in ("env", "repository-password", "s3-credentials"):
        assert f"/etc/prisma-backup/{name} 600 root" in modes
    timers = offsite.host.exec(
        "systemctl is-enabled prisma-backup.timer prisma-backup-verify.timer"
    )
    assert timers.stdout.split() == ["enabled", "enabled"]
    assert (
        offsite.host.exec("systemctl show -P Triggers prisma-backup.timer").stdout.strip()
        == "prisma-backup.service"
    )
    assert (
        offsite.host.exec("systemctl show -P Persistent prisma-backup.timer").stdout.strip()
        == "yes"
    )

    again = run(offsite)
    assert again.returncode == 0, again.output
    assert again.total_changes == 0

    # Initialising again (the host's record of it gone) opens the repository, never
    # replaces it.
    config = offsite.bucket.head_object(Bucket=BUCKET, Key=f"{repository_prefix(offsite)}config")
    offsite.host.exec("rm /var/lib/prisma-backup/repository")
    reopened = run(offsite, flags=("-y",))
    assert reopened.returncode == 0, reopened.output
    assert "repository exists" in reopened.output
    after = offsite.bucket.head_object(Bucket=BUCKET, Key=f"{repository_prefix(offsite)}config")
    assert after["ETag"] == config["ETag"]
    assert run(offsite).total_changes == 0


def test_the_timer_unit_backs_up_with_row_counts_and_pings(offsite):
    offsite.mysql(
        "CREATE TABLE graphcool.Kept (id INT PRIMARY KEY, note TEXT);"
        "INSERT INTO graphcool.Kept VALUES (1, 'a'), (2, 'line\\nbreak'), (3, 'comma, quote''');"
    )
    sampler = sample_processes(offsite, seconds=12)
    # A positive control for the sampler: a secret-looking argument is seen.
    offsite.host.exec("bash -c 'sleep 2; true PS-CONTROL-MARKER'")
    result = backup_by_timer_unit(offsite)
    assert result.returncode == 0, offsite.host.exec("journalctl -u prisma-backup -n 30").stdout
    assert "PS-CONTROL-MARKER" in assert_no_secret_in_processes(offsite, sampler)
    (snapshot,) = snapshots(offsite)
    assert tags(snapshot)["host"] == offsite.host.address
    assert tags(snapshot)["reason"] == "timer"
    assert recorded_rows(snapshot)["graphcool.Kept"] == 3
    assert recorded_rows(snapshot)["graphcool.DoubleConnection"] == row_count(
        offsite, "DoubleConnection"
    )
    assert f"ping GET {offsite.ping_path}" in offsite.host.pings()
    # No plain dump left on the host.
    assert offsite.host.exec("find / -xdev -name '*.sql' 2>/dev/null").stdout.strip() == ""


def test_retention_keeps_what_the_settings_say(offsite):
    policy = {"backup_keep_daily": 1, "backup_keep_weekly": 2, "backup_keep_monthly": 0}
    assert run(offsite, **policy).returncode == 0
    for days_ago in (14, 21, 30):
        restic(
            offsite,
            "backup --stdin --stdin-filename prisma.sql "
            f"--host {offsite.host.address} --tag prisma-backup "
            f"--time \"$(date -u -d '{days_ago} days ago' '+%Y-%m-%d %H:%M:%S')\"",
            input="old",
        )
    assert len(snapshots(offsite)) == 4

    assert backup_by_timer_unit(offsite).returncode == 0

    # Daily 1: today's newest; weekly 2: that one, and the newest of the week before
    # that has snapshots (14 days ago); monthly 0: nothing more.
    days = [snapshot["time"][:10] for snapshot in snapshots(offsite)]
    expected = offsite.host.exec("date -u -d '14 days ago' +%F; date -u +%F").stdout.split()
    assert days == expected
    assert run(offsite).returncode == 0  # back to the default retention
    assert run(offsite).total_changes == 0


THROWAWAY_WATCH = (
    "end=$(( $(date +%s) + 30 )); while [ $(date +%s) -lt $end ]; do "
    "docker ps --filter label=prisma-backup=verify "
    "--format 'seen net={{.Networks}} ports=[{{.Ports}}]' >> /root/throwaway; sleep 0.2; done"
)


def test_verification_passes_and_status_shows_it(offsite):
    volumes = offsite.host.exec("docker volume ls -q").stdout.split()
    offsite.host.exec("rm -f /root/throwaway")
    watcher = subprocess.Popen(["docker", "exec", offsite.host.name, "bash", "-c", THROWAWAY_WATCH])
    sampler = sample_processes(offsite, seconds=20)
    result = run(offsite, "verify_backup.py", flags=("-y", "-vvv", "--debug"))

    assert result.returncode == 0, result.output
    assert_no_secret_in_processes(offsite, sampler)
    watcher.wait(timeout=120)
    seen = set(offsite.host.exec("cat /root/throwaway").stdout.splitlines())
    assert seen == {"seen net=none ports=[]"}  # seen while it ran: no network, no port
    assert offsite.host.exec("docker volume ls -q").stdout.split() == volumes
    assert "verified snapshot" in result.output
    assert "as recorded at dump time" in result.output
    assert offsite.host.exec("docker ps -aq --filter label=prisma-backup=verify").stdout == ""
    backups = status_json(offsite)["backups"]
    assert backups["last_verify"]["result"] == "ok"
    assert backups["last_backup"]["age_seconds"] < 600
    assert backups["last_failure"] is None
    table = run(offsite, "status.py", flags=("-y",))
    assert "verification: OK" in table.stderr and "backup: last OK" in table.stderr


def test_verification_fails_on_a_damaged_pack_file(offsite):
    packs = [
        item["Key"]
        for item in offsite.bucket.list_objects_v2(
            Bucket=BUCKET, Prefix=repository_prefix(offsite)
        )["Contents"]
        if "/data/" in item["Key"]
    ]
    originals = {
        key: offsite.bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read() for key in packs
    }
    try:
        for key, body in originals.items():
            middle = len(body) // 2
            damaged = body[:middle] + bytes(b ^ 0xFF for b in body[middle : middle + 16])
            offsite.bucket.put_object(Bucket=BUCKET, Key=key, Body=damaged + body[middle + 16 :])
        result = run(offsite, "verify_backup.py", flags=("-y",))
    finally:
        for key, body in originals.items():
            offsite.bucket.put_object(Bucket=BUCKET, Key=key, Body=body)

    assert result.returncode != 0
    assert "is unreadable" in result.output, result.output
    verify = status_json(offsite)["backups"]["last_verify"]
    assert verify["result"] == "failed" and "unreadable" in verify["reason"]
    assert f"ping GET {offsite.ping_path}/fail" in offsite.host.pings()
    assert offsite.host.exec("docker ps -aq --filter label=prisma-backup=verify").stdout == ""
    # The same snapshot, undamaged again, verifies: the failure was the damage.
    assert run(offsite, "verify_backup.py", flags=("-y",)).returncode == 0


def test_verification_fails_when_the_recorded_counts_differ(offsite):
    snapshot = snapshots(offsite)[-1]
    rows = recorded_rows(snapshot)
    rows["graphcool.Kept"] += 1
    text = "".join(f"{table} {count}\n" for table, count in sorted(rows.items()))
    forged = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
    restic(
        offsite, f"tag --remove rows={tags(snapshot)['rows']} --add rows={forged} {snapshot['id']}"
    )

    result = run(offsite, "verify_backup.py", flags=("-y",))

    assert result.returncode != 0
    assert "row counts differ from those recorded at dump time" in result.output, result.output
    assert "graphcool.Kept 4" in result.output and "graphcool.Kept 3" in result.output
    assert status_json(offsite)["backups"]["last_verify"]["result"] == "failed"
    assert backup_by_timer_unit(offsite).returncode == 0  # a fresh, honest snapshot
    assert run(offsite, "verify_backup.py", flags=("-y",)).returncode == 0


def test_restore_from_the_repository_gives_the_same_row_counts(offsite):
    before = counts(offsite)
    latest = snapshots(offsite)[-1]["id"]
    offsite.mysql("DELETE FROM graphcool.Kept; DELETE FROM graphcool.DoubleConnection;")

    refused = run(offsite, "restore.py", flags=("-y",), restore_snapshot="latest")
    assert refused.returncode != 0
    assert f"restore_confirm={offsite.host.address}" in refused.output

    result = run(
        offsite, "restore.py", restore_snapshot="latest", restore_confirm=offsite.host.address
    )

    assert result.returncode == 0, result.output
    assert f"restored snapshot {latest}" in result.output
    assert counts(offsite) == before
    # The emptied database was backed up first, and 'latest' meant the one before it.
    newest = snapshots(offsite)[-1]
    assert tags(newest)["reason"] == "restore.py"
    assert recorded_rows(newest)["graphcool.Kept"] == 0


def test_upgrade_and_nuke_back_up_into_the_repository_first(offsite, stand_in_images):
    before = snapshots(offsite)[-1]["id"]
    offsite.host.push(stand_in_images.prisma_next, "prisma:1.0")
    upgraded = run(offsite, "upgrade.py")
    assert upgraded.returncode == 0, upgraded.output
    newest = snapshots(offsite)[-1]
    assert newest["id"] != before and tags(newest)["reason"] == "upgrade.py"
    assert recorded_rows(newest)["graphcool.Kept"] == 3

    nuked = run(offsite, "nuke.py", nuke_confirm=offsite.host.address)
    assert nuked.returncode == 0, nuked.output
    assert tags(snapshots(offsite)[-1])["reason"] == "nuke.py"
    assert recorded_rows(snapshots(offsite)[-1])["graphcool.Kept"] == 3
    assert "Kept" not in offsite.mysql("SHOW TABLES IN graphcool;").split()
    # The snapshot nuke.py took brings the data back.
    restored = run(
        offsite, "restore.py", restore_snapshot="latest", restore_confirm=offsite.host.address
    )
    assert restored.returncode == 0, restored.output
    assert row_count(offsite, "Kept") == 3


def test_an_unreachable_bucket_fails_clearly_and_leaves_the_stack_alone(offsite):
    database = offsite.container_id("prisma-db")
    server = offsite.container_id("prisma-database")
    snapshot_count = len(snapshots(offsite))
    harness.docker("pause", f"{offsite.host.name}-s3")
    try:
        upgraded = run(offsite, "upgrade.py", flags=("-y",))
        timer = backup_by_timer_unit(offsite)
    finally:
        harness.docker("unpause", f"{offsite.host.name}-s3")

    assert upgraded.returncode != 0
    assert "the backup repository's endpoint http://127.0.0.1:9000 cannot be reached" in (
        upgraded.output
    ), upgraded.output
    assert "Pull the tags" not in upgraded.output  # the upgrade never started
    assert timer.returncode != 0
    assert (
        offsite.host.exec("systemctl show -P Result prisma-backup.service").stdout.strip()
        == "exit-code"
    )
    assert offsite.container_id("prisma-db") == database
    assert offsite.container_id("prisma-database") == server
    assert row_count(offsite, "Kept") == 3
    assert status_json(offsite)["backups"]["last_failure"]["reason"].startswith(
        "the backup repository's endpoint"
    )
    assert len(snapshots(offsite)) == snapshot_count
    assert backup_by_timer_unit(offsite).returncode == 0  # reachable again: backs up
    assert status_json(offsite)["backups"]["last_failure"] is None


def test_a_dump_that_fails_leaves_no_snapshot(offsite):
    before = [snapshot["id"] for snapshot in snapshots(offsite)]
    # What a run that died half way leaves: a snapshot still tagged as in progress.
    restic(
        offsite,
        "backup --stdin --stdin-filename prisma.sql "
        f"--host {offsite.host.address} --tag prisma-backup-in-progress",
        input="-- half a dump",
    )
    offsite.host.exec("docker stop prisma-db")
    try:
        failed = backup_by_timer_unit(offsite)
    finally:
        started = run(offsite, "start.py")
    assert failed.returncode != 0
    assert (
        "the database dump failed"
        in offsite.host.exec("journalctl -u prisma-backup -n 20 --no-pager").stdout
    )
    assert [snapshot["id"] for snapshot in snapshots(offsite)] == before
    assert restic(offsite, "snapshots --json --tag prisma-backup-in-progress").strip() == "[]"
    assert started.returncode == 0, started.output
    assert row_count(offsite, "Kept") == 3


def test_turned_off_the_host_keeps_no_trace_of_them(offsite):
    repository = offsite.data.pop("backup_repository")
    try:
        result = run(offsite, flags=("-y",))
        assert result.returncode == 0, result.output
        left = offsite.host.exec(
            "ls /etc/prisma-backup /usr/local/sbin/prisma-backup "
            "/etc/systemd/system/prisma-backup* 2>/dev/null; "
            "systemctl list-timers --all --no-legend 'prisma-backup*'; true"
        )
        assert left.stdout.strip() == ""
        assert run(offsite).total_changes == 0
    finally:
        offsite.data["backup_repository"] = repository
    # The repository stayed: turned on again, the same one is opened, not replaced.
    again = run(offsite, flags=("-y",))
    assert again.returncode == 0, again.output
    assert "repository exists" in again.output


def test_no_secret_in_any_output(offsite):
    """Every run of this module (last, so all of them), the journal, the debug log."""
    texts = [result.output for result in offsite.runs]
    texts += [path.read_text() for path in harness.PROJECT_ROOT.glob("pyinfra-debug.log")]
    texts.append(offsite.host.exec("journalctl -u 'prisma-backup*' --no-pager").stdout)
    assert leaked(texts, backup_secrets(offsite)) == []
    # Positive control: the values searched for are the ones the host really holds.
    on_host = offsite.host.exec(
        "cat /etc/prisma-backup/repository-password /etc/prisma-backup/s3-credentials"
    ).stdout
    assert len(leaked([on_host], backup_secrets(offsite))) == 3
