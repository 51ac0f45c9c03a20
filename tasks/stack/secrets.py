"""This host's stack secrets, resolved once per run and masked in all output from then on."""

from __future__ import annotations

import functools

from pyinfra import host

from tasks.redaction import register_secrets
from tasks.secrets.resolve import SecretResolver, StackSecrets, known_secret_values
from tasks.secrets.store import SecretStore, secrets_root
from tasks.settings import Settings
from tasks.stack.facts import StackFiles, StackFilesState
from tasks.stack.layout import StackPaths


def stack_secrets(settings: Settings, files: StackFilesState | None = None) -> StackSecrets:
    """Resolve this host's secrets (generating them only on a host without a stack).
    `files`: the stack's files as already read (None: read them only if it matters)."""
    paths = StackPaths.of(settings)

    @functools.cache
    def host_has_stack() -> bool:
        found = files if files is not None else host.get_fact(StackFiles, paths=paths)
        return found.path(paths.env_file).exists or found.volume

    store = SecretStore(secrets_root(), settings.host_name)
    secrets = SecretResolver(settings, store, host_has_stack).resolve()
    register_secrets(secrets.raw_values() + known_secret_values(settings))
    return secrets


def mask_known_secrets(settings: Settings) -> None:
    """Mask every secret this machine knows for the host, generating none: for files that
    print the services' logs and errors without deploying."""
    register_secrets(known_secret_values(settings))
