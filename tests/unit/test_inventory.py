"""inventories/do.py: hosts from the DigitalOcean API response or from PRISMA_HOSTS."""

from __future__ import annotations

import pytest

from tasks.inventory import (
    InventoryError,
    droplet_inventory,
    hosts_from_addresses,
    hosts_from_droplets,
)


def test_addresses_with_and_without_ports():
    assert hosts_from_addresses("203.0.113.1, 203.0.113.2:2222 [2001:db8::1]:22") == [
        ("203.0.113.1", {"ssh_hostname": "203.0.113.1"}),
        ("203.0.113.2:2222", {"ssh_hostname": "203.0.113.2", "ssh_port": 2222}),
        ("[2001:db8::1]:22", {"ssh_hostname": "2001:db8::1", "ssh_port": 22}),
    ]


def test_droplets_are_reached_on_their_public_ipv4():
    droplets = [
        {
            "id": 3164444,
            "name": "prisma-1",
            "networks": {
                "v4": [
                    {"ip_address": "10.128.0.2", "type": "private"},
                    {"ip_address": "104.236.32.182", "type": "public"},
                ]
            },
        }
    ]
    assert hosts_from_droplets(droplets) == [
        ("prisma-1", {"ssh_hostname": "104.236.32.182", "droplet_id": 3164444})
    ]


def test_duplicate_droplet_names_are_refused():
    droplet = {
        "id": 1,
        "name": "x",
        "networks": {"v4": [{"ip_address": "1.2.3.4", "type": "public"}]},
    }
    with pytest.raises(InventoryError, match="two droplets are named x"):
        hosts_from_droplets([droplet, {**droplet, "id": 2}])


def test_ssh_settings_are_shared_and_verify_host_keys(tmp_path):
    hosts = droplet_inventory(
        {
            "PRISMA_HOSTS": "192.0.2.7",
            "PRISMA_SSH_USER": "deploy",
            "PRISMA_SSH_KEY": "/keys/id",
            "PRISMA_SECRETS_DIR": str(tmp_path),
        }
    )
    ((name, data),) = hosts
    assert name == "192.0.2.7"
    assert data["ssh_user"] == "deploy" and data["_sudo"] is True
    assert data["ssh_key"] == "/keys/id"
    assert data["ssh_port"] == 22
    assert data["ssh_known_hosts_file"] == str(tmp_path / "known_hosts")
    assert data["ssh_strict_host_key_checking"] == "accept-new"


def test_no_source_of_hosts_is_a_clear_error(tmp_path):
    with pytest.raises(InventoryError) as error:
        droplet_inventory({"PRISMA_SECRETS_DIR": str(tmp_path)})
    assert "DIGITALOCEAN_TOKEN" in str(error.value) and "PRISMA_HOSTS" in str(error.value)


@pytest.mark.parametrize("port", ["0", "x", "70000"])
def test_bad_ssh_port_is_named(tmp_path, port):
    with pytest.raises(InventoryError, match="PRISMA_SSH_PORT must be a port"):
        droplet_inventory(
            {"PRISMA_HOSTS": "h", "PRISMA_SSH_PORT": port, "PRISMA_SECRETS_DIR": str(tmp_path)}
        )


def test_an_empty_token_counts_as_none(tmp_path):
    with pytest.raises(InventoryError, match="no hosts"):
        droplet_inventory({"DIGITALOCEAN_TOKEN": "   ", "PRISMA_SECRETS_DIR": str(tmp_path)})
    hosts = droplet_inventory(
        {"DIGITALOCEAN_TOKEN": "", "PRISMA_HOSTS": "h1", "PRISMA_SECRETS_DIR": str(tmp_path)}
    )
    assert [name for name, _ in hosts] == ["h1"]
    assert hosts[0][1]["prisma_firewall"] is True


def test_a_droplet_with_its_data_volume_gets_the_device_path():
    droplet = {
        "id": 7,
        "name": "prisma-01",
        "networks": {"v4": [{"ip_address": "203.0.113.5", "type": "public"}]},
    }
    ours = {"name": "prisma-01-data", "droplet_ids": [7]}
    elsewhere = {"name": "prisma-01-data", "droplet_ids": [8]}
    ((_, data),) = hosts_from_droplets([droplet], [ours])
    assert data["prisma_data_device"] == "/dev/disk/by-id/scsi-0DO_Volume_prisma-01-data"
    ((_, data),) = hosts_from_droplets([droplet], [elsewhere, {"name": "x", "droplet_ids": [7]}])
    assert "prisma_data_device" not in data


def _listed(text: str) -> list:
    return [
        {
            "id": number,
            "name": name,
            "networks": {"v4": [{"ip_address": "127.0.0.1", "type": "public"}]},
        }
        for number, name in enumerate(text.split(), 1)
    ]


def test_per_host_ports_reach_droplets_sharing_one_address(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(
        "tasks.inventory.list_droplets", lambda environ, tag: (_listed("p-01 p-02 p-03"), [])
    )
    hosts = dict(
        droplet_inventory(
            {
                "DIGITALOCEAN_TOKEN": "t",
                "PRISMA_SSH_PORT": "2222",
                "PRISMA_SSH_PORTS": "p-01:2201,p-02:2202 gone:2209",
                "PRISMA_SECRETS_DIR": str(tmp_path),
            }
        )
    )
    assert {name: data["ssh_port"] for name, data in hosts.items()} == {
        "p-01": 2201,
        "p-02": 2202,
        "p-03": 2222,
    }
    assert "PRISMA_SSH_PORTS names no host of this inventory: gone" in caplog.text


def test_the_map_applies_to_listed_addresses_by_their_name_too(tmp_path):
    hosts = dict(
        droplet_inventory(
            {
                "PRISMA_HOSTS": "a.example b.example:2222",
                "PRISMA_SSH_PORTS": "a.example:2201",
                "PRISMA_SECRETS_DIR": str(tmp_path),
            }
        )
    )
    assert hosts["a.example"]["ssh_port"] == 2201
    assert hosts["b.example:2222"]["ssh_port"] == 2222


def test_an_unreadable_port_map_is_named(tmp_path):
    with pytest.raises(InventoryError, match=r"PRISMA_SSH_PORTS: cannot read 'a\.example'"):
        droplet_inventory(
            {
                "PRISMA_HOSTS": "a.example",
                "PRISMA_SSH_PORTS": "a.example",
                "PRISMA_SECRETS_DIR": str(tmp_path),
            }
        )
