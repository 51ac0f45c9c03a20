"""Pure parts of the lifecycle files: lock, logs, status, upgrade records, backups."""

from __future__ import annotations

import datetime
import hashlib
import json

import pytest

from tasks import lock
from tasks.backup import BackupError, backup_script, restore_command, verified_dump
from tasks.commands import StackPaths
from tasks.facts import ComposeStack, ContainerState, StackState
from tasks.lifecycle import (
    ConsentError,
    logs_command,
    require_consent,
    service_statuses,
    stack_reset,
    stack_stopped,
    status_document,
    status_table,
)
from tasks.settings import load_settings
from tasks.upgrade import changed_services, parse_record, record_lines, retag_commands
from tests.unit.fake_host import FakeFacts, plan_operation

PATHS = StackPaths("/opt/prisma", "prisma")
IMAGES = {"prisma-db": "mysql:5.7", "prisma-database": "prismagraphql/prisma:1.0"}


def test_lock_is_taken_atomically_and_released_only_by_its_holder():
    take = lock.take_command("/run/lock/prisma-deploy-prisma", "me@box pid=1 run=abc since=x")
    assert "if mkdir /run/lock/prisma-deploy-prisma 2>/dev/null; then" in take
    assert "echo held; cat /run/lock/prisma-deploy-prisma/holder" in take
    release = lock.release_command("/run/lock/prisma-deploy-prisma")
    assert release.startswith(f"if grep -qs 'run={lock.RUN_ID} ' ")


def test_a_holder_is_dead_only_when_its_process_is_gone_on_this_machine():
    import os
    import socket

    here = socket.gethostname()
    assert lock.holder_is_dead_here(f"u@{here} pid=999999 run=x since=y file=z")
    assert not lock.holder_is_dead_here(f"u@{here} pid={os.getpid()} run=x since=y file=z")
    assert not lock.holder_is_dead_here("u@elsewhere pid=999999 run=x since=y file=z")
    assert not lock.holder_is_dead_here("garbage")


def test_holder_line_says_who_and_when():
    line = lock.holder_line("deploy.py")
    assert f"run={lock.RUN_ID} since=" in line and line.endswith("file=deploy.py")


def test_logs_command_follows_the_settings():
    settings = load_settings(
        "h",
        {"logs_service": "prisma-db", "logs_lines": 5, "logs_since": "10m", "logs_follow": True},
    )
    command = logs_command(PATHS, settings)
    assert command.endswith("logs --no-color --timestamps --tail 5 --since 10m --follow prisma-db")
    both = logs_command(PATHS, load_settings("h", {}))
    assert both.endswith("--tail 100 prisma-db prisma-database")


def test_consent_must_name_the_host():
    with pytest.raises(ConsentError) as error:
        require_consent(load_settings("db-1", {}), "nuke_confirm", "delete the volume")
    assert "--data nuke_confirm=db-1" in str(error.value)
    with pytest.raises(ConsentError):
        require_consent(load_settings("db-1", {"nuke_confirm": "db-2"}), "nuke_confirm", "x")
    require_consent(load_settings("db-1", {"nuke_confirm": "db-1"}), "nuke_confirm", "x")


def stack(*containers: ContainerState, images=None) -> StackState:
    return StackState({}, containers, images or {})


def test_stop_only_when_something_runs():
    running = stack(ContainerState("prisma-db", "running", "h", "sha256:1", "healthy"))
    commands, _ = plan_operation(stack_stopped, FakeFacts({ComposeStack: running}), paths=PATHS)
    (command,) = commands
    assert str(command).endswith("--env-file /opt/prisma/.env stop")
    stopped = stack(ContainerState("prisma-db", "exited", "h", "sha256:1", "-"))
    commands, noops = plan_operation(stack_stopped, FakeFacts({ComposeStack: stopped}), paths=PATHS)
    assert commands == [] and noops == ["the stack is already stopped"]


def test_nuke_kills_then_removes_volumes_then_starts():
    commands, _ = plan_operation(stack_reset, FakeFacts({}), paths=PATHS)
    verbs = [str(c).split("--env-file /opt/prisma/.env ")[1].split(" &&")[0] for c in commands]
    assert verbs == [
        "kill",
        "down --volumes --remove-orphans",
        "up --detach --remove-orphans --quiet-pull",
    ]


def test_upgrade_finds_services_whose_tag_moved_and_records_what_ran():
    state = stack(
        ContainerState("prisma-db", "running", "h", "sha256:db", "healthy"),
        ContainerState("prisma-database", "running", "h", "sha256:old", "-"),
        images={
            "mysql:5.7": "sha256:db",
            "prismagraphql/prisma:1.0": "sha256:new",
            "prismagraphql/prisma@sha256:aaa": "sha256:old",
        },
    )
    assert changed_services(state, IMAGES) == ["prisma-database"]
    lines = record_lines(state, IMAGES)
    assert lines == [
        "prisma-database sha256:old prismagraphql/prisma:1.0 prismagraphql/prisma@sha256:aaa",
        "prisma-db sha256:db mysql:5.7 -",
    ]
    recorded = parse_record(lines)
    (retag,) = retag_commands(recorded, ["prisma-database"])
    assert retag == (
        "docker image inspect sha256:old >/dev/null 2>&1 || docker pull --quiet "
        "prismagraphql/prisma@sha256:aaa >/dev/null "
        "&& docker tag sha256:old prismagraphql/prisma:1.0"
    )


def test_status_rows_and_outputs():
    now = datetime.datetime(2026, 11, 28, 12, 0, 0, tzinfo=datetime.timezone.utc)
    inspect = {
        "service": "prisma-db",
        "state": "running",
        "health": "healthy",
        "image": "mysql:5.7",
        "image_id": "sha256:1",
        "started_at": "2026-11-28T10:59:00.123456789Z",
    }
    stopped = {
        **inspect,
        "service": "prisma-database",
        "state": "exited",
        "health": "",
        "image": "prismagraphql/prisma:1.0",
        "image_id": "sha256:2",
    }
    images = [{"Id": "sha256:1", "RepoDigests": ["mysql@sha256:abc"]}]
    rows, body = service_statuses(
        [
            f"inspect {json.dumps(inspect)}",
            f"inspect {json.dumps(stopped)}",
            f"images {json.dumps(images)}",
            "status OK",
        ],
        now,
    )
    assert body == "OK"
    assert [(r.service, r.digest, r.uptime_seconds, r.health) for r in rows] == [
        ("prisma-database", "", None, "-"),
        ("prisma-db", "sha256:abc", 3660, "healthy"),
    ]
    table = status_table("h", rows, body, "http://127.0.0.1:4466/status")
    assert "1h 1m" in table and "GET http://127.0.0.1:4466/status: OK" in table
    document = json.loads(status_document("h", rows, body, "u"))
    assert document["status_ok"] is True and document["services"][1]["uptime_seconds"] == 3660


def test_backup_dumps_user_databases_only_and_prunes():
    command = backup_script(PATHS, keep=7)
    assert "grep -Ev '^(mysql|sys|information_schema|performance_schema)$'" in command
    assert "--single-transaction" in command
    assert "tail -n +8" in command
    assert 'MYSQL_PWD="$MYSQL_ROOT_PASSWORD"' in command  # never on a command line
    assert "sha256sum --check" in restore_command("/opt/prisma/backups/x.sql.gz", "ab")


def test_a_dump_must_match_its_checksum(tmp_path):
    dump = tmp_path / "prisma-1.sql.gz"
    dump.write_bytes(b"dump")
    with pytest.raises(BackupError, match="its checksum"):
        verified_dump(str(dump))
    digest = hashlib.sha256(b"dump").hexdigest()
    (tmp_path / "prisma-1.sql.gz.sha256").write_text(f"{digest}  prisma-1.sql.gz\n")
    assert verified_dump(str(dump)) == (dump, digest)
    dump.write_bytes(b"damaged")
    with pytest.raises(BackupError, match="does not match its checksum"):
        verified_dump(str(dump))
