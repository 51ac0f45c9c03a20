"""Reaching droplets over SSH from this machine: the key provision.py registers, the
known-hosts file the project keeps (inventories/do.py checks the same one), and the wait
until a droplet answers SSH with the key, recording its host key on first contact."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping
from pathlib import Path

import msgspec

from tasks.errors import HostRefused
from tasks.secrets.store import secrets_root

DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_rsa")
RETRY_SECONDS = 3
DEFAULT_SSH_PORT = 22
# One grammar for every host entry: PRISMA_HOSTS' "address[:port]" and "[v6][:port]", and
# PRISMA_SSH_PORTS' "name:port" (a host named as in the inventory, then its port).
HOST_ENTRY = re.compile(r"\[(?P<v6>[^\]]+)\](?::(?P<p6>\d+))?|(?P<h>[^:]+)(?::(?P<p>\d+))?")
ENTRY_SEPARATORS = re.compile(r"[,\s]+")


def port_number(text: str, variable: str) -> int:
    """A TCP port, or ValueError naming the variable it came from."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"{variable} must be a port from 1 to 65535, got {text!r}")
    return int(text)


def host_entries(text: str) -> list[str]:
    return [entry for entry in ENTRY_SEPARATORS.split(text.strip()) if entry]


def split_host_entry(entry: str) -> tuple[str, str, str | None] | None:
    """'name:port' -> (name as written, address, port or None); None when unreadable."""
    match = HOST_ENTRY.fullmatch(entry)
    if not match:
        return None
    port = match["p6"] or match["p"]
    name = entry[: -len(port) - 1] if port else entry
    return name, match["v6"] or match["h"], port


def ssh_port_map(environ: Mapping[str, str] = os.environ) -> dict[str, int]:
    """PRISMA_SSH_PORTS: host name -> SSH port, for hosts not on PRISMA_SSH_PORT (sshd
    moved, or SSH forwarded per droplet through one address); ValueError when unreadable."""
    ports: dict[str, int] = {}
    for entry in host_entries(environ.get("PRISMA_SSH_PORTS", "")):
        parts = split_host_entry(entry)
        if parts is None or parts[2] is None:
            raise ValueError(
                f"PRISMA_SSH_PORTS: cannot read {entry!r}; expected 'name:port' entries, "
                "comma or space separated (e.g. 'prisma-01:2201,prisma-02:2202')"
            )
        ports[parts[0]] = port_number(parts[2], "PRISMA_SSH_PORTS")
    return ports


def default_ssh_port(environ: Mapping[str, str] = os.environ) -> int:
    """PRISMA_SSH_PORT, the port of hosts that name none; ValueError when unreadable."""
    return port_number(environ.get("PRISMA_SSH_PORT") or str(DEFAULT_SSH_PORT), "PRISMA_SSH_PORT")


def known_hosts_file(environ: Mapping[str, str] = os.environ) -> str:
    return environ.get("PRISMA_SSH_KNOWN_HOSTS") or str(secrets_root(environ) / "known_hosts")


def public_key_file(configured: str | None, environ: Mapping[str, str] = os.environ) -> Path:
    """do_ssh_public_key, else PRISMA_SSH_KEY's .pub, else the first ~/.ssh/id_*.pub."""
    if configured:
        candidates = [Path(configured).expanduser()]
    elif environ.get("PRISMA_SSH_KEY"):
        candidates = [Path(environ["PRISMA_SSH_KEY"] + ".pub")]
    else:
        candidates = [Path(f"~/.ssh/{name}.pub").expanduser() for name in DEFAULT_KEYS]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise HostRefused(
        "no SSH public key to put on droplets: looked for "
        + ", ".join(str(c) for c in candidates)
        + "; set do_ssh_public_key or PRISMA_SSH_KEY, or run ssh-keygen -t ed25519"
    )


class SshAccess(msgspec.Struct, frozen=True):
    user: str
    port: int  # of droplets PRISMA_SSH_PORTS does not name
    private_key: str
    known_hosts: str
    ports: tuple[tuple[str, int], ...] = ()  # PRISMA_SSH_PORTS (a tuple: hashable)

    def for_droplet(self, name: str) -> SshAccess:
        """The access to one droplet: its own port when PRISMA_SSH_PORTS names it."""
        return msgspec.structs.replace(self, port=dict(self.ports).get(name, self.port))

    def host_id(self, address: str) -> str:
        return address if self.port == 22 else f"[{address}]:{self.port}"

    def knows(self, address: str) -> bool:
        import paramiko

        keys = paramiko.HostKeys()
        if Path(self.known_hosts).exists():
            keys.load(self.known_hosts)
        return keys.lookup(self.host_id(address)) is not None


def ssh_access(public_key: Path, environ: Mapping[str, str] = os.environ) -> SshAccess:
    """How provision.py reaches droplets: the same user, ports and known hosts as
    inventories/do.py, so the keys it records are the ones the deploy checks."""
    try:
        port, ports = default_ssh_port(environ), ssh_port_map(environ)
    except ValueError as error:
        raise HostRefused(str(error)) from None
    return SshAccess(
        user=environ.get("PRISMA_SSH_USER") or "root",
        port=port,
        private_key=str(public_key.with_suffix("")),
        known_hosts=known_hosts_file(environ),
        ports=tuple(sorted(ports.items())),
    )


def public_ipv4(droplet: Mapping) -> str | None:
    for network in (droplet.get("networks") or {}).get("v4", []):
        if network.get("type") == "public":
            return network.get("ip_address")
    return None


def _forget(access: SshAccess, address: str) -> None:
    """A droplet created by this run: an old key at its address belonged to another."""
    import paramiko

    keys = paramiko.HostKeys()
    if Path(access.known_hosts).exists():
        keys.load(access.known_hosts)
        if keys.lookup(access.host_id(address)) is not None:
            del keys[access.host_id(address)]
            keys.save(access.known_hosts)


def _connect_once(access: SshAccess, address: str) -> None:
    import paramiko

    client = paramiko.SSHClient()
    Path(access.known_hosts).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    Path(access.known_hosts).touch(mode=0o600, exist_ok=True)
    client.load_host_keys(access.known_hosts)
    # First contact records the key; a known key that changed stops (BadHostKeyException).
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    try:
        client.connect(
            address,
            port=access.port,
            username=access.user,
            key_filename=access.private_key,
            look_for_keys=False,
            allow_agent=False,
            timeout=10,
            banner_timeout=10,
        )
        client.exec_command("true", timeout=10)[1].channel.recv_exit_status()
    finally:
        client.close()


def wait_for_ssh(access: SshAccess, name: str, address: str, fresh: bool, timeout: int) -> None:
    """Until the droplet answers SSH with the key; its host key is then in known_hosts."""
    import paramiko

    if fresh:
        _forget(access, address)
    deadline = time.monotonic() + timeout
    while True:
        try:
            return _connect_once(access, address)
        except paramiko.BadHostKeyException:
            raise HostRefused(
                f"droplet {name} at {access.host_id(address)} answers with another host key "
                f"than {access.known_hosts} has: if it was rebuilt, remove the old key "
                f"(ssh-keygen -f {access.known_hosts} -R '{access.host_id(address)}')"
            ) from None
        except (OSError, paramiko.SSHException) as error:
            if time.monotonic() > deadline:
                raise HostRefused(
                    f"droplet {name} did not answer SSH on {access.host_id(address)} with "
                    f"{access.private_key} within {timeout}s ({type(error).__name__})"
                ) from None
            time.sleep(RETRY_SECONDS)
