"""
The local secret store: ``.secrets/<host name>/`` beside this project (or
``$PRISMA_SECRETS_DIR/<host name>/``), one file per secret, directories 0700 and files
0600; git ignores it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from tasks.project import PROJECT_ROOT, host_directory_name

SECRETS_DIR_ENV = "PRISMA_SECRETS_DIR"
DEFAULT_SECRETS_DIR = PROJECT_ROOT / ".secrets"

DB_PASSWORD_FILE = "db_password"
SCHEMA_MANAGER_SECRET_FILE = "schema_manager_secret"
CLUSTER_PUBLIC_KEY_FILE = "cluster_public_key.pem"
CLUSTER_PRIVATE_KEY_FILE = "cluster_private_key.pem"
REPOSITORY_PASSWORD_FILE = "backup_repository_password"


def secrets_root(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get(SECRETS_DIR_ENV) or DEFAULT_SECRETS_DIR)


class SecretStore:
    """A directory of one host's secrets, one file per secret, 0600 inside a 0700 dir."""

    def __init__(self, root: Path, host_name: str):
        self.root = root
        self.path = root / host_directory_name(host_name)

    def read(self, name: str) -> str | None:
        try:
            return (self.path / name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def keep(self, name: str, value: str) -> str:
        """Store value unless one is already there; return the value that is kept.

        The value is written whole to a private temp file first, then linked into place:
        a reader never sees half a secret, and link() fails when the name exists, so a
        concurrent run that generated its own value loses cleanly and reads back the
        first one instead of overwriting it.
        """
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path.mkdir(mode=0o700, exist_ok=True)
        descriptor, temp = tempfile.mkstemp(dir=self.path, prefix=f".{name}.")  # 0600
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as stored:
                stored.write(value)
                stored.flush()
                os.fsync(stored.fileno())
            os.link(temp, self.path / name)
        except FileExistsError:
            existing = self.read(name)
            assert existing is not None
            return existing
        finally:
            os.unlink(temp)
        return value
