"""The database password's fingerprint, kept on the host beside .env: it tells a changed
password from the one the database was initialised with, and gives nothing away that
.env would not (a salted, memory-hard hash)."""

from __future__ import annotations

import hashlib
import hmac
import os

# scrypt cost: 2^15 rounds of 8 blocks (32 MiB, about 0.1 s): slow to guess at scale.
N, R, P = 2**15, 8, 1
_LEGACY_N = 2**10  # fingerprints written before the cost was raised: "scrypt:<salt>:<hash>"


def _digest(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=256 * 1024 * 1024
    )


def password_fingerprint(password: str, salt: bytes | None = None) -> str:
    """`scrypt:n=<N>,r=<r>,p=<p>:<salt hex>:<digest hex>`."""
    salt = salt if salt is not None else os.urandom(16)
    digest = _digest(password, salt, N, R, P)
    return f"scrypt:n={N},r={R},p={P}:{salt.hex()}:{digest.hex()}"


def _parameters(text: str) -> tuple[int, int, int]:
    values = dict(item.split("=", 1) for item in text.split(","))
    n, r, p = int(values["n"]), int(values["r"]), int(values["p"])
    if not (2 <= n <= 2**20 and 1 <= r <= 32 and 1 <= p <= 16):
        raise ValueError("scrypt parameters out of range")
    return n, r, p


def fingerprint_matches(password: str, recorded: str) -> bool:
    """Whether password is the one `recorded` was made from (also legacy fingerprints)."""
    try:
        parts = recorded.strip().split(":")
        if len(parts) == 3:
            _, salt, digest = parts
            n, r, p = _LEGACY_N, 8, 1
        else:
            _, parameters, salt, digest = parts
            n, r, p = _parameters(parameters)
        expected = _digest(password, bytes.fromhex(salt), n, r, p)
        return hmac.compare_digest(expected.hex(), digest)
    except (ValueError, KeyError):
        return False
