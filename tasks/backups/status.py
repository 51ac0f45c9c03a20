"""Off-site backups in status.py's report: the last successful backup (time, age,
snapshot), a failure since, the last verification and the next scheduled run, as
prisma-backup recorded them on the host."""

from __future__ import annotations

import datetime
from typing import Any

from tasks.host.probes import tagged

_RECORDS = ("last-backup", "last-backup-failure", "last-verify")


def _age(at: str, now: datetime.datetime) -> int | None:
    try:
        moment = datetime.datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max(0, int((now - moment).total_seconds()))


def read_backup_status(lines: list[str], now: datetime.datetime) -> dict[str, Any]:
    """The records as JSON values: each a dict of what was recorded plus `age_seconds`
    (None when never recorded)."""
    records: dict[str, dict[str, Any] | None] = dict.fromkeys(_RECORDS)
    next_run = ""
    for tag, rest, _ in tagged(lines):
        if tag in records:
            key, _, value = rest.partition("=")
            record = records[tag] or {}
            record[key.strip()] = value.strip()
            records[tag] = record
        elif tag == "next-backup":
            next_run = rest.strip()
    for record in records.values():
        if record is not None:
            record["age_seconds"] = _age(record.get("at", ""), now)
    backup, failure, verify = (records[name] for name in _RECORDS)
    return {"last_backup": backup, "last_failure": failure, "last_verify": verify, "next": next_run}


def _ago(record: dict[str, Any]) -> str:
    seconds = record.get("age_seconds")
    if seconds is None:
        return record.get("at", "?")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    age = f"{days}d {hours}h" if days else f"{hours}h {rest // 60}m" if hours else f"{rest // 60}m"
    return f"{record.get('at', '?')} ({age} ago)"


def backup_table_lines(status: dict[str, Any]) -> list[str]:
    backup, failure, verify = status["last_backup"], status["last_failure"], status["last_verify"]
    lines = [
        f"backup: last OK {_ago(backup)}, snapshot {backup.get('snapshot', '?')[:8]}"
        if backup
        else "backup: no successful off-site backup yet"
    ]
    if failure:
        lines.append(f"backup: FAILED {_ago(failure)}: {failure.get('reason', '')}")
    if not verify:
        lines.append("verification: never")
    elif verify.get("result") == "ok":
        lines.append(f"verification: OK {_ago(verify)}, snapshot {verify.get('snapshot', '')[:8]}")
    else:
        lines.append(f"verification: FAILED {_ago(verify)}: {verify.get('reason', '')}")
    if status["next"]:
        lines.append(f"backup: next run {status['next']}")
    return lines
