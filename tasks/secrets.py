"""
The stack's secrets: where they come from, where they are kept, and the one rule that
protects the data: a secret is generated once per host and never regenerated behind the
user's back.

Precedence per secret: host data > environment variable > local store > generate (only
on a host that has no stack yet). Generated values are kept in the local store,
``.secrets/<host name>/`` beside this project (or ``$PRISMA_SECRETS_DIR/<host name>/``),
directories 0700 and files 0600; git ignores it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets as random_source
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pyinfra.api import HiddenValue

from tasks.errors import HostRefused
from tasks.settings import Settings

SECRETS_DIR_ENV = "PRISMA_SECRETS_DIR"
DEFAULT_SECRETS_DIR = Path(__file__).resolve().parent.parent / ".secrets"

DB_PASSWORD_FILE = "db_password"
SCHEMA_MANAGER_SECRET_FILE = "schema_manager_secret"
CLUSTER_PUBLIC_KEY_FILE = "cluster_public_key.pem"
CLUSTER_PRIVATE_KEY_FILE = "cluster_private_key.pem"


class SecretsError(HostRefused):
    """A secret cannot be resolved without risking the data; the message says what to do."""


@dataclass(frozen=True)
class StackSecrets:
    db_password: HiddenValue
    schema_manager_secret: HiddenValue
    cluster_public_key: HiddenValue

    def raw_values(self) -> list[str]:
        """Every secret value, for masking output (never for printing)."""
        return [
            value.unmask()
            for value in (self.db_password, self.schema_manager_secret, self.cluster_public_key)
        ]


def secrets_root(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get(SECRETS_DIR_ENV) or DEFAULT_SECRETS_DIR)


def _safe_dir_name(host_name: str) -> str:
    return host_name.replace("/", "_").replace("\\", "_") or "_"


class SecretStore:
    """A directory of one host's secrets, one file per secret, 0600 inside a 0700 dir."""

    def __init__(self, root: Path, host_name: str):
        self.root = root
        self.path = root / _safe_dir_name(host_name)

    def read(self, name: str) -> str | None:
        try:
            return (self.path / name).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def keep(self, name: str, value: str) -> str:
        """Store value unless one is already there; return the value that is kept.

        O_EXCL makes a concurrent run that generated its own value lose cleanly: it
        reads back the first value instead of overwriting it.
        """
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.path.mkdir(mode=0o700, exist_ok=True)
        try:
            descriptor = os.open(self.path / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            existing = self.read(name)
            assert existing is not None
            return existing
        with os.fdopen(descriptor, "w", encoding="utf-8") as stored:
            stored.write(value)
        return value


def password_fingerprint(password: str, salt: bytes | None = None) -> str:
    """A salted scrypt hash of the database password, kept on the host beside .env: it
    tells a changed password from the one the database was initialised with, and gives
    nothing away that .env would not."""
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**10, r=8, p=1, dklen=32)
    return f"scrypt:{salt.hex()}:{digest.hex()}"


def fingerprint_matches(password: str, recorded: str) -> bool:
    try:
        _, salt, _ = recorded.split(":")
        expected = password_fingerprint(password, bytes.fromhex(salt))
    except ValueError:
        return False
    return hmac.compare_digest(expected, recorded)


def generate_password() -> str:
    # 32 bytes from the OS CSPRNG; URL-safe so it is easy to paste into a client config.
    return random_source.token_urlsafe(32)


def generate_cluster_key_pair() -> tuple[str, str]:
    """An RSA key pair as (private PEM, public PEM); the server only sees the public half."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


@dataclass(frozen=True)
class _Source:
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
        given = getattr(self.settings, source.setting)
        if given is not None:
            return given
        from_environment = self.environ.get(source.environment)
        if from_environment:
            return HiddenValue(from_environment)
        stored = self.store.read(source.store_file)
        if stored is not None:
            return HiddenValue(stored)
        # Only now ask the host (one round trip): the usual run finds every value above.
        if self.host_has_stack():
            raise SecretsError(self._refusal(source))
        return HiddenValue(keep_new(source))

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
    for source in (_DB_PASSWORD, _SCHEMA_MANAGER_SECRET, _CLUSTER_PUBLIC_KEY):
        given = getattr(settings, source.setting)
        candidates = [
            given.unmask() if given is not None else None,
            environ.get(source.environment),
            store.read(source.store_file),
        ]
        values += [value for value in candidates if value]
    private_key = store.read(CLUSTER_PRIVATE_KEY_FILE)
    return values + ([private_key] if private_key else [])
