"""The check factories called directly (the catalogue calls them once, at import), with
their exact messages, and the pieces of the settings loader."""

from __future__ import annotations

import pytest
from pyinfra.api import HiddenValue

from tasks.settings import catalogue, checks, loading


def refusal(check, value) -> str:
    with pytest.raises(ValueError) as refused:
        check(value)
    return str(refused.value)


def test_integer():
    check = checks.integer(2, 5)
    assert [check(value) for value in (2, 3, 5)] == [2, 3, 5]
    for value in (1, 6, True, "3", 3.0, None):
        assert refusal(check, value) == "an integer from 2 to 5"


def test_one_of():
    check = checks.one_of("a", "b")
    assert check("a") == "a" and check("b") == "b"
    assert refusal(check, "c") == "one of 'a', 'b'"


def test_matching():
    check = checks.matching(r"[a-c]+", "letters a to c")
    assert check("abc") == "abc"
    for value in ("abd", "", 5, None, "abc\n"):
        assert refusal(check, value) == "letters a to c"


def test_optional():
    check = checks.optional(checks.integer(1, 2))
    assert check(None) is None
    assert check(2) == 2
    assert refusal(check, 3) == "an integer from 1 to 2"


def test_long_secret_and_secret_text():
    check = checks.long_secret(4)
    assert check("abcd").unmask() == "abcd"
    assert check(HiddenValue("wxyz")).unmask() == "wxyz"
    assert refusal(check, "abc") == "at least 4 characters: it guards the management API"
    for value in ("", None, 5, "a\x00bcd"):
        assert refusal(check, value) == "a non-empty string without NUL characters"
    assert refusal(checks.secret_text, "MUCHSECRET") == (
        "a secret of your own, not a published example value (leave it unset to generate one)"
    )
    assert checks.secret_text("a\x01b").unmask() == "a\x01b"


def test_db_password_message():
    assert refusal(checks.db_password, "a'b") == (
        "a password without ', \", \\ or control characters: mysql:5.7's entrypoint pastes "
        "it unescaped into SQL and into an option file, and such a password leaves a "
        "half-initialised database"
    )
    assert checks.db_password("a b~").unmask() == "a b~"
    assert refusal(checks.db_password, "\x1f") and refusal(checks.db_password, "\x7f")
    assert checks.db_password(" \x80").unmask() == " \x80"


def test_sizes_and_memory():
    assert checks.size_bytes("2097152") == 2097152
    assert checks.size_bytes("3k") == 3 * 1024
    assert checks.size_bytes("3K") == 3 * 1024
    assert checks.size_bytes("5m") == 5 * 1024**2
    assert checks.size_bytes("2G") == 2 * 1024**3
    assert checks.java_memory("64m") == "64m"
    assert checks.java_memory("1024g") == "1024g"
    expected = "a Java heap size from 64m to 1024g, such as '1G' or '512m'"
    for value in ("63m", "1025g", "0", "1 G", 64, None):
        assert refusal(checks.java_memory, value) == expected
    assert checks.swap_size("256M") == "256M" and checks.swap_size("64G") == "64G"
    expected = "a swap file size from 256M to 64G, such as '1G' or '512M'"
    for value in ("255M", "65G", "1g", None):
        assert refusal(checks.swap_size, value) == expected


def test_json_object_and_daemon_options():
    assert checks.json_object({"a": [1]}) == {"a": [1]}
    for value in ([], {1: "a"}, "x"):
        assert refusal(checks.json_object, value) == "a mapping with string keys"
    assert refusal(checks.json_object, {"a": object()}) == "a mapping that can be written as JSON"
    assert refusal(checks.daemon_options, {"hosts": [], "bridge": "x"}) == (
        "a mapping without the key 'bridge': the stack's containers must stay on Docker's "
        "own bridges"
    )


def test_port_list_and_ip_address():
    assert checks.port_list([1, 65535]) == [1, 65535]
    assert refusal(checks.port_list, (1,)) == "a list of ports, e.g. [9100]"
    assert refusal(checks.port_list, [0]) == "an integer from 1 to 65535"
    assert checks.ip_address("::0") == "::"
    assert refusal(checks.ip_address, "fe80::1%eth0") == (
        "an IPv4 or IPv6 address without a zone ID, e.g. '0.0.0.0' or '127.0.0.1'"
    )
    assert refusal(checks.ip_address, 5) == refusal(checks.ip_address, "1.2.3")


def test_stack_directory():
    expected = refusal(checks.stack_directory, "/etc")
    assert expected.startswith("a normalised absolute path of a directory of its own")
    for value in ("/tmp/x", "/run/prisma", "/opt/../x", "/opt//x", "opt/x", "/opt/x/", 5):
        assert refusal(checks.stack_directory, value) == expected
    assert checks.stack_directory("/tmpx/prisma") == "/tmpx/prisma"


def test_setting_declares_its_parts():
    spec = catalogue.setting(3, "three", checks.port).metadata["setting"]
    assert (spec.default, spec.meaning, spec.check, spec.secret) == (3, "three", checks.port, False)
    secret = catalogue.setting(None, "s", checks.boolean, secret=True).metadata["setting"]
    assert secret.secret is True


def test_loader_messages():
    assert loading._describe("x", secret=True) == "a str (value not shown)"
    assert loading._describe(5, secret=False) == "5 (int)"
    assert loading._unknown_key_error("h", "prisma_prot") == (
        "host h: unknown setting 'prisma_prot'; did you mean 'prisma_port'?"
    )
    assert loading._unknown_key_error("h", "prisma_whatever") == (
        "host h: unknown setting 'prisma_whatever'; see the settings table in README.md for "
        "the known ones"
    )
    assert loading._unknown_key_error("h", "ssh_user") is None
    with pytest.raises(loading.SettingsError) as refused:
        loading.load_settings("h", {"prisma_port": "abc"})
    assert str(refused.value) == (
        "host h: setting 'prisma_port' must be an integer from 1 to 65535, got 'abc' (str)"
    )
    with pytest.raises(loading.SettingsError, match=r"SSH port \(22, 2222\), got 2222"):
        loading.load_settings("h", {"prisma_port": 2222, "ssh_port": 2222})
    with pytest.raises(loading.SettingsError, match=r"SSH port \(22\), got 22"):
        loading.load_settings("h", {"prisma_port": 22})


def test_the_closest_setting_is_compared_once_per_key_but_each_host_is_named():
    # The did-you-mean comparison is cached per key: a key's second host still gets its
    # own name in the message, and pyinfra's own keys still pass.
    for host_name in ("a", "b"):
        with pytest.raises(loading.SettingsError) as refused:
            loading.check_known_keys(host_name, {"ssh_user": "root", "docker_sorce": "distro"})
        assert str(refused.value) == (
            f"host {host_name}: unknown setting 'docker_sorce'; did you mean 'docker_source'?"
        )
        loading.check_known_keys(host_name, {"ssh_user": "root", "ssh_port": 22, "_sudo": True})
    assert loading._closest_setting.cache_info().hits >= 4
