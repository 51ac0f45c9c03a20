"""The database password's fingerprint, kept on the host beside .env: it tells a changed
password from the one the database was initialised with, and gives nothing away that
.env would not."""

from __future__ import annotations

import hashlib
import hmac
import os


def password_fingerprint(password: str, salt: bytes | None = None) -> str:
    """A salted scrypt hash of the password: `scrypt:<salt hex>:<digest hex>`."""
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
