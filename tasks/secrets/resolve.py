"""
One host's secrets, by precedence: host data > environment variable > local store >
generate (only on a host that has no stack yet).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import msgspec
from pyinfra.api import HiddenValue

from tasks.errors import HostRefused
from tasks.secrets.generate import generate_cluster_key_pair, generate_password
from tasks.secrets.offsite import known_backup_secret_values
from tasks.secrets.store import (
    CLUSTER_PRIVATE_KEY_FILE,
    CLUSTER_PUBLIC_KEY_FILE,
    DB_PASSWORD_FILE,
    SCHEMA_MANAGER_SECRET_FILE,
    SecretStore,
    secrets_root,
)
from tasks.settings import Settings
from tasks.settings.catalogue import SETTINGS_BY_NAME


class SecretsError(HostRefused):
    """A secret cannot be resolved without risking the data; the message says what to do."""


class StackSecrets(msgspec.Struct, frozen=True):
    db_password: HiddenValue
    schema_manager_secret: HiddenValue
    cluster_public_key: HiddenValue

    def raw_values(self) -> list[str]:
        """Every secret value, for masking output (never for printing)."""
        return [
            value.unmask()
            for value in (self.db_password, self.schema_manager_secret, self.cluster_public_key)
        ]


class _Source(msgspec.Struct, frozen=True):
    setting: str
    environment: str
    store_file: str


_DB_PASSWORD = _Source("prisma_db_password", "PRISMA_DB_PASSWORD", DB_PASSWORD_FILE)
_SCHEMA_MANAGER_SECRET = _Source(
    "prisma_schema_manager_secret", "PRISMA_SCHEMA_MANAGER_SECRET", SCHEMA_MANAGER_SECRET_FILE
)
_CLUSTER_PUBLIC_KEY = _Source(
    "prisma_cluster_public_key", "PRISMA_CLUSTER_PUBLIC_KEY", CLUSTER_PUBLIC_KEY_FILE
)
_SOURCES = (_DB_PASSWORD, _SCHEMA_MANAGER_SECRET, _CLUSTER_PUBLIC_KEY)


class SecretResolver:
    """Resolves one host's secrets by precedence, generating only where that is safe."""

    def __init__(
        self,
        settings: Settings,
        store: SecretStore,
        host_has_stack: Callable[[], bool],
        environ: Mapping[str, str] = os.environ,
    ):
        self.settings = settings
        self.store = store
        self.host_has_stack = host_has_stack
        self.environ = environ

    def resolve(self) -> StackSecrets:
        return StackSecrets(
            db_password=self._resolve(_DB_PASSWORD, self._keep_new_password),
            schema_manager_secret=self._resolve(_SCHEMA_MANAGER_SECRET, self._keep_new_password),
            cluster_public_key=self._resolve(_CLUSTER_PUBLIC_KEY, self._keep_new_key_pair),
        )

    def _resolve(self, source: _Source, keep_new: Callable[[_Source], str]) -> HiddenValue:
        given = getattr(self.settings, source.setting)  # checked when settings were loaded
        if given is not None:
            return given
        from_environment = self.environ.get(source.environment)
        if from_environment:
            return self._checked(
                source, from_environment, f"environment variable {source.environment}"
            )
        stored = self.store.read(source.store_file)
        if stored is not None:
            return self._checked(
                source, stored, f"secret store file {self.store.path / source.store_file}"
            )
        # Only now ask the host (one round trip): the usual run finds every value above.
        if self.host_has_stack():
            raise SecretsError(self._refusal(source))
        return HiddenValue(keep_new(source))

    def _checked(self, source: _Source, value: str, origin: str) -> HiddenValue:
        """A secret from the environment or the store, held to the checks host data gets.
        A password's trailing newline (`echo ... > file`) is not part of it; a PEM's is."""
        if not source.store_file.endswith(".pem"):
            value = value.rstrip("\r\n")
        try:
            return SETTINGS_BY_NAME[source.setting].check(value)
        except ValueError as expected:
            raise SecretsError(
                f"host {self.settings.host_name}: the {origin} (for setting "
                f"'{source.setting}') must be {expected}; the value is not shown"
            ) from None

    def _keep_new_password(self, source: _Source) -> str:
        return self.store.keep(source.store_file, generate_password())

    def _keep_new_key_pair(self, source: _Source) -> str:
        private_pem, public_pem = generate_cluster_key_pair()
        if self.store.keep(CLUSTER_PRIVATE_KEY_FILE, private_pem) != private_pem:
            # A concurrent run kept its pair first: use its public half.
            return self.store.read(source.store_file) or ""
        return self.store.keep(source.store_file, public_pem)

    def _refusal(self, source: _Source) -> str:
        return (
            f"host {self.settings.host_name}: the secret '{source.store_file}' is not in "
            f"{self.store.path} but the host already has a Prisma stack "
            f"({self.settings.prisma_stack_dir}). A new value would lock the server out of "
            "its existing database or invalidate its tokens, so none is generated. Restore "
            f"{self.store.path} from your backup, or give the value the stack was created with "
            f"as host data '{source.setting}' or environment variable {source.environment}."
        )


def known_secret_values(settings: Settings, environ: Mapping[str, str] = os.environ) -> list[str]:
    """Every secret value this machine knows for the host, generating none (for masking)."""
    store = SecretStore(secrets_root(environ), settings.host_name)
    values = []
    for source in _SOURCES:
        given = getattr(settings, source.setting)
        candidates = [
            given.unmask() if given is not None else None,
            environ.get(source.environment),
            store.read(source.store_file),
        ]
        values += [value for value in candidates if value]
    private_key = store.read(CLUSTER_PRIVATE_KEY_FILE)
    values += [private_key] if private_key else []
    return values + known_backup_secret_values(settings, store, environ)
