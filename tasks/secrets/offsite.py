"""
The secrets of off-site backups: the restic repository's password (generated once per
host and kept in the local store, like the stack's) and the S3 keys of the bucket (given:
host data or environment, never stored).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import msgspec
from pyinfra.api import HiddenValue

from tasks.errors import HostRefused
from tasks.secrets.generate import generate_password
from tasks.secrets.store import REPOSITORY_PASSWORD_FILE, SecretStore
from tasks.settings import Settings
from tasks.settings.checks import secret_text
from tasks.settings.checks_backups import secret_token

REPOSITORY_PASSWORD_ENV = "PRISMA_BACKUP_REPOSITORY_PASSWORD"
S3_ACCESS_KEY_ID_ENV = "PRISMA_BACKUP_S3_ACCESS_KEY_ID"
S3_SECRET_ACCESS_KEY_ENV = "PRISMA_BACKUP_S3_SECRET_ACCESS_KEY"


class BackupSecretsError(HostRefused):
    """A backup secret is missing, or generating one would lose access to the backups."""


class BackupSecrets(msgspec.Struct, frozen=True):
    repository_password: HiddenValue
    s3_access_key_id: HiddenValue | None = None
    s3_secret_access_key: HiddenValue | None = None

    def raw_values(self) -> list[str]:
        """Every secret value, for masking output (never for printing)."""
        values = (self.repository_password, self.s3_access_key_id, self.s3_secret_access_key)
        return [value.unmask() for value in values if value is not None]


def _given(
    settings: Settings, setting: str, variable: str, environ: Mapping[str, str], check=secret_text
):
    """Host data, else the environment (checked like host data; the value never shown)."""
    value = getattr(settings, setting)
    if value is None and environ.get(variable):
        try:
            value = check(environ[variable])
        except ValueError as expected:
            raise BackupSecretsError(
                f"host {settings.host_name}: environment variable {variable} must be "
                f"{expected} (value not shown)"
            ) from None
    return value


def _s3_keys(settings: Settings, environ: Mapping[str, str]) -> tuple:
    key_id = _given(
        settings, "backup_s3_access_key_id", S3_ACCESS_KEY_ID_ENV, environ, secret_token
    )
    secret = _given(
        settings, "backup_s3_secret_access_key", S3_SECRET_ACCESS_KEY_ENV, environ, secret_token
    )
    if (key_id is None) != (secret is None) or (
        key_id is None and (settings.backup_repository or "").startswith("s3:")
    ):
        raise BackupSecretsError(
            f"host {settings.host_name}: an S3 backup repository needs both keys: host data "
            f"backup_s3_access_key_id and backup_s3_secret_access_key, or environment "
            f"variables {S3_ACCESS_KEY_ID_ENV} and {S3_SECRET_ACCESS_KEY_ENV}"
        )
    return key_id, secret


def resolve_backup_secrets(
    settings: Settings,
    store: SecretStore,
    host_has_repository: Callable[[], bool],
    environ: Mapping[str, str] = os.environ,
) -> BackupSecrets:
    """The repository password by precedence (host data > environment > local store >
    generated, only for a host that has no repository configured yet), and the S3 keys."""
    key_id, secret = _s3_keys(settings, environ)
    password = _given(settings, "backup_repository_password", REPOSITORY_PASSWORD_ENV, environ)
    if password is None:
        stored = store.read(REPOSITORY_PASSWORD_FILE)
        if stored is None and host_has_repository():
            raise BackupSecretsError(
                f"host {settings.host_name}: the backup repository's password is not in "
                f"{store.path} but the host already has off-site backups configured; a new "
                "password could not open the existing snapshots, so none is generated. "
                f"Restore {store.path / REPOSITORY_PASSWORD_FILE} from your copy of .secrets/, "
                f"or give it as host data 'backup_repository_password' or environment "
                f"variable {REPOSITORY_PASSWORD_ENV}."
            )
        stored = stored or store.keep(REPOSITORY_PASSWORD_FILE, generate_password())
        password = HiddenValue(stored)
    return BackupSecrets(password, key_id, secret)


def known_backup_secret_values(
    settings: Settings, store: SecretStore, environ: Mapping[str, str]
) -> list[str]:
    """Every backup secret this machine knows for the host, generating none (for masking)."""
    candidates = [
        _given(settings, "backup_repository_password", REPOSITORY_PASSWORD_ENV, environ),
        _given(settings, "backup_s3_access_key_id", S3_ACCESS_KEY_ID_ENV, environ),
        _given(settings, "backup_s3_secret_access_key", S3_SECRET_ACCESS_KEY_ENV, environ),
    ]
    values = [value.unmask() for value in candidates if value is not None]
    stored = store.read(REPOSITORY_PASSWORD_FILE)
    return values + ([stored] if stored else [])
