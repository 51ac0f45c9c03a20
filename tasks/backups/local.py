"""The local copies of backups: backups/<host>/ beside this project (or
$PRISMA_BACKUP_DIR/<host>/), each dump with a `.sha256` in sha256sum's format."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from pathlib import Path

from tasks.errors import HostRefused
from tasks.project import PROJECT_ROOT, host_directory_name

BACKUP_DIR_ENV = "PRISMA_BACKUP_DIR"
DEFAULT_LOCAL_DIR = PROJECT_ROOT / "backups"


class BackupError(HostRefused):
    """A dump to restore is missing or does not match its checksum."""


def local_backup_dir(host_name: str, environ: Mapping[str, str] = os.environ) -> Path:
    root = Path(environ.get(BACKUP_DIR_ENV) or DEFAULT_LOCAL_DIR)
    return root / host_directory_name(host_name)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# A dump's statements that would touch MySQL's own schemas (users and passwords).
_SYSTEM_SCHEMA_STATEMENT = re.compile(
    rb"^(?:CREATE DATABASE|USE)\b[^`\n]*`(?:mysql|sys|information_schema|performance_schema)`",
    re.MULTILINE,
)


def touches_system_schemas(dump: Path) -> bool:
    """Whether a gzipped dump creates or uses one of MySQL's own schemas."""
    # Imported here: only restore.py reads a dump; runs that never do use the rest of this
    # module (the checksums of backups) and need not pay for gzip.
    import gzip

    try:
        with gzip.open(dump, "rb") as stream:
            carry = b""
            for block in iter(lambda: stream.read(1 << 20), b""):
                text = carry + block
                if _SYSTEM_SCHEMA_STATEMENT.search(text):
                    return True
                carry = text[-4096:]
    except (OSError, EOFError):
        raise BackupError(f"restore_file: {dump} is not a gzip-compressed dump") from None
    return False


def verified_dump(local_file: str) -> tuple[Path, str]:
    """The dump and its checksum from the `.sha256` beside it; raise if they disagree, or
    if the dump would touch MySQL's own schemas (restoring it could lock the server out)."""
    dump = Path(local_file).expanduser()
    checksum_file = dump.with_name(dump.name + ".sha256")
    if not dump.is_file():
        raise BackupError(f"restore_file: {dump} does not exist")
    if not checksum_file.is_file():
        raise BackupError(f"restore_file: {checksum_file} (its checksum) does not exist")
    expected = checksum_file.read_text().split()[0]
    actual = sha256_of(dump)
    if actual != expected:
        raise BackupError(
            f"restore_file: {dump} does not match its checksum ({actual} != {expected}); "
            "refusing to load a damaged dump"
        )
    if touches_system_schemas(dump):
        raise BackupError(
            f"restore_file: {dump} contains MySQL's own schemas (mysql, sys, ...), which hold "
            "the users and their passwords; backup.py leaves them out. Refusing to load it"
        )
    return dump, expected


def keep_checksum(local_file: Path, sha256: str) -> None:
    """Write `<file>.sha256` (0600) beside a downloaded dump."""
    checksum = local_file.with_name(local_file.name + ".sha256")
    checksum.write_text(f"{sha256}  {local_file.name}\n")
    os.chmod(checksum, 0o600)
