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
  PRISMA_SSH_KNOWN_HOSTS    known-hosts file the project keeps (default .secrets/known_hosts)
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pyinfra.api.exceptions import PyinfraError

from tasks.secrets.store import secrets_root

DEFAULT_TAG = "prisma"
DEFAULT_SSH_USER = "root"
DEFAULT_SSH_PORT = 22

Host = tuple[str, dict[str, Any]]


class InventoryError(PyinfraError):
    """The inventory cannot be built; the message says which variable to set."""


def ssh_data(environ: Mapping[str, str]) -> dict[str, Any]:
    """SSH settings shared by every host of this inventory."""
    user = environ.get("PRISMA_SSH_USER") or DEFAULT_SSH_USER
    known_hosts = environ.get("PRISMA_SSH_KNOWN_HOSTS") or str(
        secrets_root(environ) / "known_hosts"
    )
    Path(known_hosts).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    Path(known_hosts).touch(mode=0o600, exist_ok=True)
    ssh_port = _port(environ.get("PRISMA_SSH_PORT") or str(DEFAULT_SSH_PORT), "PRISMA_SSH_PORT")
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


def _port(text: str, variable: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise InventoryError(f"{variable} must be a port from 1 to 65535, got {text!r}")
    return int(text)


def hosts_from_addresses(text: str) -> list[Host]:
    """Parse 'a.example, 10.0.0.2:2222 [::1]:22' into pyinfra hosts (name = as written)."""
    hosts: list[Host] = []
    for entry in re.split(r"[,\s]+", text.strip()):
        if not entry:
            continue
        match = re.fullmatch(
            r"\[(?P<v6>[^\]]+)\](?::(?P<p6>\d+))?|(?P<h>[^:]+)(?::(?P<p>\d+))?", entry
        )
        if not match:
            raise InventoryError(
                f"PRISMA_HOSTS: cannot read {entry!r}; expected 'address' or 'address:port'"
            )
        address = match["v6"] or match["h"]
        port = match["p6"] or match["p"]
        data: dict[str, Any] = {"ssh_hostname": address}
        if port:
            data["ssh_port"] = _port(port, "PRISMA_HOSTS")
        hosts.append((entry, data))
    if not hosts:
        raise InventoryError("PRISMA_HOSTS is set but lists no address")
    return hosts


def _public_ipv4(droplet: Mapping[str, Any]) -> str | None:
    for network in droplet.get("networks", {}).get("v4", []):
        if network.get("type") == "public":
            return network.get("ip_address")
    return None


def hosts_from_droplets(droplets: list[Mapping[str, Any]]) -> list[Host]:
    """Droplets as pyinfra hosts named after the droplet, reached on the public IPv4."""
    hosts: list[Host] = []
    seen: set[str] = set()
    for droplet in droplets:
        name = droplet["name"]
        address = _public_ipv4(droplet)
        if address is None:
            raise InventoryError(f"droplet {name} has no public IPv4 address to reach it on")
        if name in seen:
            raise InventoryError(
                f"two droplets are named {name}; secrets are kept per name, rename one"
            )
        seen.add(name)
        hosts.append((name, {"ssh_hostname": address, "droplet_id": droplet.get("id")}))
    return hosts


def list_droplets(token: str, tag: str, endpoint: str | None) -> list[dict]:
    """Every droplet with the tag, across pages, through the official pydo client."""
    from pydo import Client

    client = Client(token=token, **({"endpoint": endpoint} if endpoint else {}))
    droplets: list[dict] = []
    page = 1
    while True:
        try:
            response = client.droplets.list(tag_name=tag, per_page=200, page=page)
        except Exception as error:  # the API client raises azure-core's HttpResponseError
            # The message may carry request details; the token is never in them, but keep
            # the error short and about what to check.
            raise InventoryError(
                f"DigitalOcean API: listing droplets tagged {tag!r} failed "
                f"({type(error).__name__}: {getattr(error, 'reason', '') or 'see above'}); "
                "check DIGITALOCEAN_TOKEN and the network"
            ) from None
        droplets.extend(response.get("droplets", []))
        if not response.get("links", {}).get("pages", {}).get("next"):
            return droplets
        page += 1


def droplet_inventory(environ: Mapping[str, str] = os.environ) -> list[Host]:
    """The hosts of inventories/do.py, with the shared SSH settings merged in."""
    token = environ.get("DIGITALOCEAN_TOKEN", "").strip()
    tag = environ.get("PRISMA_DO_TAG") or DEFAULT_TAG
    if token:
        droplets = list_droplets(token, tag, environ.get("DIGITALOCEAN_API_ENDPOINT"))
        if not droplets:
            raise InventoryError(f"no droplet is tagged {tag!r} (PRISMA_DO_TAG)")
        hosts = hosts_from_droplets(droplets)
    elif environ.get("PRISMA_HOSTS", "").strip():
        hosts = hosts_from_addresses(environ["PRISMA_HOSTS"])
    else:
        raise InventoryError(
            "no hosts: set DIGITALOCEAN_TOKEN (droplets tagged PRISMA_DO_TAG, default "
            "'prisma') or PRISMA_HOSTS (addresses, e.g. '203.0.113.10,203.0.113.11:2222')"
        )
    shared = ssh_data(environ)
    return [(name, {**shared, **data}) for name, data in hosts]
