"""
Hosts for ``inventories/do.py``: DigitalOcean droplets selected by tag through the API,
or addresses listed in an environment variable; plus the SSH settings every host shares.

Environment:
  DIGITALOCEAN_TOKEN        API token; when set, droplets tagged PRISMA_DO_TAG are used
  PRISMA_DO_TAG             droplet tag to select (default "prisma")
  DIGITALOCEAN_API_ENDPOINT API base URL (default: DigitalOcean's)
  PRISMA_HOSTS              otherwise: addresses, comma or space separated, each
                            "address" or "address:port"
  PRISMA_SSH_USER           SSH user (default root; any other user deploys through sudo)
  PRISMA_SSH_KEY            private key file (default: ssh-agent and ~/.ssh/id_*)
  PRISMA_SSH_PORT           SSH port for hosts that do not name one (default 22)
  PRISMA_SSH_PORTS          per host, "name:port" entries (droplets by their name): the
                            SSH port of each host named, over PRISMA_SSH_PORT
  PRISMA_SSH_KNOWN_HOSTS    known-hosts file the project keeps (default .secrets/known_hosts)
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pyinfra import logger
from pyinfra.api.exceptions import PyinfraError

from tasks.cloud.api import Api, ApiError
from tasks.cloud.reach import (
    default_ssh_port,
    host_entries,
    known_hosts_file,
    port_number,
    public_ipv4,
    split_host_entry,
    ssh_port_map,
)

DEFAULT_TAG = "prisma"
DEFAULT_SSH_USER = "root"
# Where DigitalOcean attaches a volume on a droplet, by the volume's name.
VOLUME_DEVICE_PREFIX = "/dev/disk/by-id/scsi-0DO_Volume_"

Host = tuple[str, dict[str, Any]]


class InventoryError(PyinfraError):
    """The inventory cannot be built; the message says which variable to set."""


def ssh_data(environ: Mapping[str, str]) -> dict[str, Any]:
    """SSH settings shared by every host of this inventory."""
    user = environ.get("PRISMA_SSH_USER") or DEFAULT_SSH_USER
    known_hosts = known_hosts_file(environ)
    Path(known_hosts).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    Path(known_hosts).touch(mode=0o600, exist_ok=True)
    with _ports_checked():
        ssh_port = default_ssh_port(environ)
    data: dict[str, Any] = {
        "ssh_user": user,
        "ssh_port": ssh_port,
        # The first contact records the host key; a changed key stops the run.
        "ssh_known_hosts_file": known_hosts,
        "ssh_strict_host_key_checking": "accept-new",
        # Droplets face the internet: only SSH and Prisma get in unless a host says otherwise.
        "prisma_firewall": True,
    }
    if environ.get("PRISMA_SSH_KEY"):
        data["ssh_key"] = environ["PRISMA_SSH_KEY"]
    if user != "root":
        data["_sudo"] = True
    return data


@contextmanager
def _ports_checked() -> Iterator[None]:
    """A bad port read from the environment is an InventoryError (the run stops there)."""
    try:
        yield
    except ValueError as error:
        raise InventoryError(str(error)) from None


def hosts_from_addresses(text: str) -> list[Host]:
    """Parse 'a.example, 10.0.0.2:2222 [::1]:22' into pyinfra hosts (name = as written)."""
    hosts: list[Host] = []
    for entry in host_entries(text):
        parts = split_host_entry(entry)
        if parts is None:
            raise InventoryError(
                f"PRISMA_HOSTS: cannot read {entry!r}; expected 'address' or 'address:port'"
            )
        _, address, port = parts
        data: dict[str, Any] = {"ssh_hostname": address}
        if port:
            with _ports_checked():
                data["ssh_port"] = port_number(port, "PRISMA_HOSTS")
        hosts.append((entry, data))
    if not hosts:
        raise InventoryError("PRISMA_HOSTS is set but lists no address")
    return hosts


def data_device(droplet: Mapping[str, Any], volumes: list[Mapping[str, Any]]) -> str | None:
    """The device of the droplet's own data volume (provision.py names it <droplet>-data),
    as DigitalOcean attaches it, or None."""
    for volume in volumes:
        if volume.get("name") == f"{droplet['name']}-data" and droplet.get("id") in (
            volume.get("droplet_ids") or []
        ):
            return f"{VOLUME_DEVICE_PREFIX}{volume['name']}"
    return None


def hosts_from_droplets(
    droplets: list[Mapping[str, Any]], volumes: list[Mapping[str, Any]] = ()
) -> list[Host]:
    """Droplets as pyinfra hosts named after the droplet, reached on the public IPv4; a
    droplet with its data volume attached gets prisma_data_device."""
    hosts: list[Host] = []
    seen: set[str] = set()
    for droplet in droplets:
        name = droplet["name"]
        address = public_ipv4(droplet)
        if address is None:
            raise InventoryError(f"droplet {name} has no public IPv4 address to reach it on")
        if name in seen:
            raise InventoryError(
                f"two droplets are named {name}; secrets are kept per name, rename one"
            )
        seen.add(name)
        data = {"ssh_hostname": address, "droplet_id": droplet.get("id")}
        device = data_device(droplet, volumes)
        if device:
            data["prisma_data_device"] = device
        hosts.append((name, data))
    return hosts


def list_droplets(environ: Mapping[str, str], tag: str) -> tuple[list[dict], list[dict]]:
    """Every droplet with the tag, and every volume, across pages, through the official
    pydo client (tasks.cloud.api: rate limits waited out, the token never printed)."""
    try:
        api = Api(environ)
        client = api.client
        droplets = api.all_pages(
            f"droplets tagged {tag!r}",
            "list droplets",
            client.droplets.list,
            "droplets",
            tag_name=tag,
        )
        volumes = api.all_pages("volumes", "list volumes", client.volumes.list, "volumes")
    except ApiError as error:
        raise InventoryError(
            f"listing droplets tagged {tag!r} failed ({error}); "
            "check DIGITALOCEAN_TOKEN and the network"
        ) from None
    return droplets, volumes


def droplet_inventory(environ: Mapping[str, str] = os.environ) -> list[Host]:
    """The hosts of inventories/do.py, with the shared SSH settings merged in."""
    token = environ.get("DIGITALOCEAN_TOKEN", "").strip()
    tag = environ.get("PRISMA_DO_TAG") or DEFAULT_TAG
    if token:
        droplets, volumes = list_droplets(environ, tag)
        if not droplets:
            raise InventoryError(f"no droplet is tagged {tag!r} (PRISMA_DO_TAG)")
        hosts = hosts_from_droplets(droplets, volumes)
    elif environ.get("PRISMA_HOSTS", "").strip():
        hosts = hosts_from_addresses(environ["PRISMA_HOSTS"])
    else:
        raise InventoryError(
            "no hosts: set DIGITALOCEAN_TOKEN (droplets tagged PRISMA_DO_TAG, default "
            "'prisma') or PRISMA_HOSTS (addresses, e.g. '203.0.113.10,203.0.113.11:2222')"
        )
    shared = ssh_data(environ)
    return [(name, {**shared, **ports, **data}) for name, data, ports in _own_ports(hosts, environ)]


def _own_ports(
    hosts: list[Host], environ: Mapping[str, str]
) -> list[tuple[str, dict[str, Any], dict[str, int]]]:
    """Each host with its PRISMA_SSH_PORTS entry as data; a name no host has is said, not
    fatal (the map may outlive a droplet destroyed since)."""
    with _ports_checked():
        ports = ssh_port_map(environ)
    unknown = sorted(set(ports) - {name for name, _ in hosts})
    if unknown:
        logger.warning(f"PRISMA_SSH_PORTS names no host of this inventory: {', '.join(unknown)}")
    return [
        (name, data, {"ssh_port": ports[name]} if name in ports else {}) for name, data in hosts
    ]
