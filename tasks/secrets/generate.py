"""New secrets, from the OS CSPRNG."""

from __future__ import annotations

import secrets as random_source


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
