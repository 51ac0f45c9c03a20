"""Backup and restore commands, and the local checksum check."""

from __future__ import annotations

import gzip
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
    dump.write_bytes(gzip.compress(b"CREATE DATABASE `graphcool`;"))
    with pytest.raises(BackupError, match="its checksum"):
        verified_dump(str(dump))
    digest = hashlib.sha256(dump.read_bytes()).hexdigest()
    (tmp_path / "prisma-1.sql.gz.sha256").write_text(f"{digest}  prisma-1.sql.gz\n")
    assert verified_dump(str(dump)) == (dump, digest)
    dump.write_bytes(b"damaged")
    with pytest.raises(BackupError, match="does not match its checksum"):
        verified_dump(str(dump))


def dump_with(tmp_path, sql: bytes) -> str:
    dump = tmp_path / "prisma-2.sql.gz"
    dump.write_bytes(gzip.compress(sql))
    digest = hashlib.sha256(dump.read_bytes()).hexdigest()
    (tmp_path / "prisma-2.sql.gz.sha256").write_text(f"{digest}  prisma-2.sql.gz\n")
    return str(dump)


@pytest.mark.parametrize(
    "statement",
    [
        b"CREATE DATABASE /*!32312 IF NOT EXISTS*/ `mysql` /*!40100 DEFAULT CHARACTER SET x */;",
        b"USE `mysql`;",
        b"USE `performance_schema`;",
    ],
)
def test_a_dump_with_mysqls_own_schemas_is_refused(tmp_path, statement):
    with pytest.raises(BackupError, match="contains MySQL's own schemas"):
        verified_dump(dump_with(tmp_path, b"-- dump\nUSE `graphcool`;\n" + statement + b"\n"))


def test_a_dump_of_the_stacks_databases_passes(tmp_path):
    sql = b"CREATE DATABASE `graphcool`;\nUSE `graphcool`;\nINSERT INTO t VALUES ('USE `mysql`');\n"
    verified_dump(dump_with(tmp_path, sql))


def test_backup_names_are_unique_and_leftovers_are_pruned():
    command = backup_script(PATHS, keep=7)
    assert (
        "mktemp --suffix=.sql.gz /opt/prisma/backups/prisma-$(date -u +%Y%m%dT%H%M%SZ)-XXXXXX"
        in command
    )
    assert "-name '*.partial' -o -name 'restore-*' \\) -mmin +60 -delete" in command
