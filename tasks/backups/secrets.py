"""This host's backup secrets, resolved once per run and masked in all output from then on."""

from __future__ import annotations

from tasks.backups.facts import OffsiteBackupsState
from tasks.backups.files import ENV_FILE
from tasks.redaction import register_secrets
from tasks.secrets.offsite import BackupSecrets, resolve_backup_secrets
from tasks.secrets.store import SecretStore, secrets_root
from tasks.settings import Settings


def backup_secrets(settings: Settings, found: OffsiteBackupsState) -> BackupSecrets:
    """The repository password (generated only for a host without off-site backups yet)
    and the S3 keys."""

    def host_has_repository() -> bool:
        return found.path(ENV_FILE).exists or bool(found.initialised_repository)

    store = SecretStore(secrets_root(), settings.host_name)
    secrets = resolve_backup_secrets(settings, store, host_has_repository)
    register_secrets(secrets.raw_values())
    return secrets
