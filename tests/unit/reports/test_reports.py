"""logs.py's command and status.py's rows, table and JSON."""

from __future__ import annotations

import datetime
import json

from tasks.reports.commands import logs_command
from tasks.reports.status import service_statuses, status_document, status_table
from tasks.settings import load_settings
from tasks.stack.layout import StackPaths

PATHS = StackPaths("/opt/prisma", "prisma")


def test_logs_command_follows_the_settings():
    settings = load_settings(
        "h",
        {"logs_service": "prisma-db", "logs_lines": 5, "logs_since": "10m", "logs_follow": True},
    )
    command = logs_command(PATHS, settings)
    assert command.endswith("logs --no-color --timestamps --tail 5 --since 10m --follow prisma-db")
    both = logs_command(PATHS, load_settings("h", {}))
    assert both.endswith("--tail 100 prisma-db prisma-database")


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
