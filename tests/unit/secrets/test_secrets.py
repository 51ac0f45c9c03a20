"""The local secret store and the never-regenerate rule."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from pyinfra.api import HiddenValue

from tasks.secrets.resolve import SecretResolver, SecretsError
from tasks.secrets.store import SecretStore
from tasks.settings import load_settings


def resolve(tmp_path, data=None, environ=None, host_has_stack=False):
    settings = load_settings("droplet-1", data or {})
    store = SecretStore(tmp_path / ".secrets", "droplet-1")
    resolver = SecretResolver(settings, store, lambda: host_has_stack, environ or {})
    return resolver.resolve(), store


def test_first_deploy_generates_and_keeps_private_files(tmp_path):
    secrets, store = resolve(tmp_path)
    assert len(secrets.db_password.unmask()) >= 40
    assert secrets.db_password.unmask() != secrets.schema_manager_secret.unmask()
    public = load_pem_public_key(secrets.cluster_public_key.unmask().encode())
    private = load_pem_private_key(store.read("cluster_private_key.pem").encode(), None)
    assert private.public_key().public_numbers() == public.public_numbers()
    assert oct(store.path.stat().st_mode & 0o777) == "0o700"
    assert oct(store.path.parent.stat().st_mode & 0o777) == "0o700"
    for kept in store.path.iterdir():
        assert oct(kept.stat().st_mode & 0o777) == "0o600"
    # Written whole to a temp file and linked into place: no temp file is left behind.
    assert sorted(p.name for p in store.path.iterdir()) == [
        "cluster_private_key.pem",
        "cluster_public_key.pem",
        "db_password",
        "schema_manager_secret",
    ]


def test_later_deploys_reuse_the_kept_values(tmp_path):
    first, _ = resolve(tmp_path)
    again, _ = resolve(tmp_path, host_has_stack=True)
    assert again.raw_values() == first.raw_values()


def test_host_data_then_environment_win_over_the_store(tmp_path):
    resolve(tmp_path)
    from_data, _ = resolve(
        tmp_path,
        data={"prisma_db_password": "from-data"},
        environ={
            "PRISMA_DB_PASSWORD": "from-env",
            "PRISMA_SCHEMA_MANAGER_SECRET": "env-sms-long-enough",
        },
    )
    assert from_data.db_password.unmask() == "from-data"
    assert from_data.schema_manager_secret.unmask() == "env-sms-long-enough"


def test_a_host_with_a_stack_never_gets_a_new_secret(tmp_path):
    with pytest.raises(SecretsError) as error:
        resolve(tmp_path, host_has_stack=True)
    message = str(error.value)
    assert "droplet-1" in message and "db_password" in message
    assert "prisma_db_password" in message and "PRISMA_DB_PASSWORD" in message
    assert not (tmp_path / ".secrets" / "droplet-1" / "db_password").exists()


def test_keep_never_overwrites(tmp_path):
    store = SecretStore(tmp_path, "h")
    assert store.keep("x", "first") == "first"
    assert store.keep("x", "second") == "first"


def test_secrets_never_show_in_repr(tmp_path):
    secrets, _ = resolve(tmp_path, data={"prisma_db_password": HiddenValue("hunter2")})
    assert "hunter2" not in repr(secrets) and "hunter2" not in str(secrets)


def test_fingerprints_tell_a_changed_password_without_revealing_it():
    from tasks.secrets.fingerprint import fingerprint_matches, password_fingerprint

    recorded = password_fingerprint("s3cret$")
    assert "s3cret" not in recorded
    assert fingerprint_matches("s3cret$", recorded)
    assert not fingerprint_matches("other", recorded)
    assert not fingerprint_matches("s3cret$", "garbage")
    assert password_fingerprint("s3cret$") != recorded  # salted


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PRISMA_SCHEMA_MANAGER_SECRET", "short", "must be at least 16 characters"),
        ("PRISMA_SCHEMA_MANAGER_SECRET", "MUCHSECRET", "not a published example value"),
        ("PRISMA_DB_PASSWORD", "graphcool", "not a published example value"),
        ("PRISMA_CLUSTER_PUBLIC_KEY", "not a key", "must be a PEM public key"),
    ],
)
def test_secrets_from_the_environment_get_the_checks_host_data_gets(
    tmp_path, variable, value, expected
):
    with pytest.raises(SecretsError) as error:
        resolve(tmp_path, environ={variable: value})
    message = str(error.value)
    assert f"environment variable {variable}" in message and expected in message
    assert value not in message.replace(expected, "")


@pytest.mark.parametrize(
    ("store_file", "value", "expected"),
    [
        ("schema_manager_secret", "short\n", "must be at least 16 characters"),
        ("db_password", "graphcool\n", "not a published example value"),
        ("db_password", "\n", "must be a non-empty string"),
        ("cluster_public_key.pem", "garbage\n", "must be a PEM public key"),
    ],
)
def test_secrets_from_the_store_get_the_checks_host_data_gets(
    tmp_path, store_file, value, expected
):
    resolve(tmp_path)
    (tmp_path / ".secrets" / "droplet-1" / store_file).write_text(value)
    with pytest.raises(SecretsError) as error:
        resolve(tmp_path, host_has_stack=True)
    assert f"secret store file {tmp_path / '.secrets' / 'droplet-1' / store_file}" in str(
        error.value
    )
    assert expected in str(error.value)


def test_a_trailing_newline_from_echo_is_not_part_of_a_password(tmp_path):
    resolve(tmp_path)
    (tmp_path / ".secrets" / "droplet-1" / "db_password").write_text("my-own-password\n")
    secrets, _ = resolve(tmp_path, host_has_stack=True)
    assert secrets.db_password.unmask() == "my-own-password"
    from_env, _ = resolve(tmp_path, environ={"PRISMA_DB_PASSWORD": "env-password\r\n"})
    assert from_env.db_password.unmask() == "env-password"
    # A PEM keeps its final newline: it is part of the key's text the server gets.
    assert secrets.cluster_public_key.unmask().endswith("-----END PUBLIC KEY-----\n")


def test_fingerprints_of_the_older_cost_still_match():
    import hashlib

    from tasks.secrets.fingerprint import fingerprint_matches, password_fingerprint

    salt = bytes(range(16))
    legacy = hashlib.scrypt(b"pw", salt=salt, n=2**10, r=8, p=1, dklen=32).hex()
    assert fingerprint_matches("pw", f"scrypt:{salt.hex()}:{legacy}")
    assert not fingerprint_matches("other", f"scrypt:{salt.hex()}:{legacy}")
    assert password_fingerprint("pw").startswith("scrypt:n=32768,r=8,p=1:")
    assert not fingerprint_matches("pw", "scrypt:n=99999999,r=8,p=1:00:00")  # bounded cost
