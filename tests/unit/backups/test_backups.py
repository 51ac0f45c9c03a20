"""Backup and restore commands, and the local checksum check."""

from __future__ import annotations

import hashlib

import pytest

from tasks.backups.commands import backup_script, restore_command
from tasks.backups.local import BackupError, verified_dump
from tasks.stack.layout import StackPaths

PATHS = StackPaths("/opt/prisma", "prisma")


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
