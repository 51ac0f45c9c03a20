"""Host names as directory names: safe path components, never shared by two hosts."""

from __future__ import annotations

import pytest

from tasks.project import host_directory_name
from tasks.secrets.store import SecretStore


@pytest.mark.parametrize(
    ("host_name", "directory"),
    [
        ("@local", "@local"),
        ("prisma-fra1-01", "prisma-fra1-01"),
        ("127.0.0.1:2222", "127.0.0.1:2222"),
        ("[::1]:22", "[::1]:22"),
        ("a/b", "a%2Fb"),
        ("a\\b", "a%5Cb"),
        ("a%2Fb", "a%252Fb"),
        (".", "%2E"),
        ("..", "%2E%2E"),
        ("", "%"),
        ("évian", "%C3%A9vian"),
    ],
)
def test_host_names_become_one_safe_path_component(host_name, directory):
    assert host_directory_name(host_name) == directory


def test_no_two_names_share_a_directory():
    names = ["a/b", "a_b", "a%2Fb", ".", "..", "%2E", "", "%", "_"]
    assert len({host_directory_name(name) for name in names}) == len(names)


@pytest.mark.parametrize("host_name", [".", "..", "../x", "/etc", "a/../../b"])
def test_a_store_never_leaves_its_root(tmp_path, host_name):
    store = SecretStore(tmp_path / "secrets", host_name)
    assert store.path.parent == tmp_path / "secrets"
    assert store.path.resolve().parent == (tmp_path / "secrets").resolve()
