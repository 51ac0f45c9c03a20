"""How provision.py reaches droplets: one SSH port for all, or one per droplet
(PRISMA_SSH_PORTS), read the same way inventories/do.py reads them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.cloud.reach import split_host_entry, ssh_access, ssh_port_map
from tasks.errors import HostRefused

KEY = Path("/keys/id_ed25519.pub")


def test_each_droplet_named_gets_its_own_port_the_others_the_default(tmp_path):
    access = ssh_access(
        KEY,
        {
            "PRISMA_SSH_PORT": "2222",
            "PRISMA_SSH_PORTS": "prisma-01:2201, prisma-02:2202",
            "PRISMA_SECRETS_DIR": str(tmp_path),
        },
    )
    assert access.for_droplet("prisma-01").port == 2201
    assert access.for_droplet("prisma-02").host_id("127.0.0.1") == "[127.0.0.1]:2202"
    assert access.for_droplet("prisma-03").port == 2222
    assert access.private_key == "/keys/id_ed25519"


def test_without_either_variable_droplets_are_reached_on_22(tmp_path):
    access = ssh_access(KEY, {"PRISMA_SECRETS_DIR": str(tmp_path)})
    assert access.for_droplet("prisma-01").host_id("203.0.113.5") == "203.0.113.5"


@pytest.mark.parametrize(
    "environ,message",
    [
        ({"PRISMA_SSH_PORT": "x"}, "PRISMA_SSH_PORT must be a port"),
        ({"PRISMA_SSH_PORTS": "prisma-01"}, "expected 'name:port' entries"),
        ({"PRISMA_SSH_PORTS": "prisma-01:0"}, "PRISMA_SSH_PORTS must be a port"),
    ],
)
def test_an_unreadable_port_stops_provision_naming_the_variable(tmp_path, environ, message):
    with pytest.raises(HostRefused, match=message):
        ssh_access(KEY, {**environ, "PRISMA_SECRETS_DIR": str(tmp_path)})


def test_one_grammar_for_host_entries():
    assert split_host_entry("prisma-01:2201") == ("prisma-01", "prisma-01", "2201")
    assert split_host_entry("[2001:db8::1]:22") == ("[2001:db8::1]", "2001:db8::1", "22")
    assert split_host_entry("203.0.113.1") == ("203.0.113.1", "203.0.113.1", None)
    assert split_host_entry("a:b:c") is None
    assert ssh_port_map({"PRISMA_SSH_PORTS": " a:1,b:2 c:3 "}) == {"a": 1, "b": 2, "c": 3}
