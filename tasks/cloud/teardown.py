"""destroy.py's side of the account: a droplet and what holds its data (volume, reserved
IP, DNS record), read before anything is deleted, then deleted, or kept and listed."""

from __future__ import annotations

import subprocess
import sys
import time

import msgspec
from pyinfra import logger

from tasks.cloud.api import Api, ApiError
from tasks.cloud.kept import remember_ip
from tasks.cloud.read import AccountState
from tasks.errors import HostRefused
from tasks.project import PROJECT_ROOT
from tasks.pyinfra_helpers import log_error

GONE_TIMEOUT = 300
POLL_SECONDS = 2
BACKUP_TIMEOUT = 1800


class Doomed(msgspec.Struct, frozen=True):
    name: str
    droplet_id: int | None
    volume_id: str | None = None
    volume_name: str | None = None
    reserved_ip: str | None = None
    zone: str | None = None
    record_id: int | None = None
    record_name: str | None = None

    @property
    def data(self) -> list[str]:
        """What holds the droplet's data or address, said for people."""
        kept = [f"volume {self.volume_name}"] if self.volume_id else []
        kept += [f"reserved IP {self.reserved_ip}"] if self.reserved_ip else []
        kept += [f"DNS record {self.record_name}"] if self.record_id else []
        return kept


def doomed_droplet(found: AccountState, name: str, dns_name: str | None) -> Doomed:
    droplet = found.droplets.get(name)
    droplet_id = droplet["id"] if droplet else None
    volume = found.volumes.get(f"{name}-data")
    ip = found.reserved_ip_of(droplet_id) if droplet_id else None
    record = found.records.get(dns_name) if dns_name else None
    if record is not None and ip is not None and record.get("data") != ip["ip"]:
        record = None  # the name points elsewhere: not this droplet's to delete
    return Doomed(
        name=name,
        droplet_id=droplet_id,
        volume_id=volume["id"] if volume else None,
        volume_name=volume["name"] if volume else None,
        reserved_ip=ip["ip"] if ip else None,
        zone=found.zone if record else None,
        record_id=record["id"] if record else None,
        record_name=dns_name if record else None,
    )


def _wait_gone(api: Api, doomed: Doomed) -> None:
    deadline = time.monotonic() + GONE_TIMEOUT
    while api.find(
        f"droplet {doomed.name}", "get droplet", lambda: api.client.droplets.get(doomed.droplet_id)
    ):
        if time.monotonic() > deadline:
            raise ApiError(f"droplet {doomed.name} still there after {GONE_TIMEOUT}s")
        time.sleep(POLL_SECONDS)


def _delete_data(api: Api, doomed: Doomed) -> None:
    client = api.client
    if doomed.record_id:
        api.call(
            f"DNS record {doomed.record_name}",
            "delete record",
            lambda: client.domains.delete_record(doomed.zone, doomed.record_id),
        )
    if doomed.reserved_ip:
        api.call(
            f"reserved IP {doomed.reserved_ip}",
            "delete reserved IP",
            lambda: client.reserved_ips.delete(doomed.reserved_ip),
        )
        remember_ip(doomed.name, None)
    if doomed.volume_id:
        api.call(
            f"volume {doomed.volume_name}",
            "delete volume",
            lambda: client.volumes.delete(doomed.volume_id),
        )


def delete_droplet(state, host, doomed: Doomed, delete_data: bool) -> bool:
    """A FunctionCommand's function: the droplet deleted; its data deleted or listed."""
    try:
        _delete(Api(), doomed, delete_data, host)
    except HostRefused as error:
        log_error(host, str(error))
        return False
    return True


def _delete(api: Api, doomed: Doomed, delete_data: bool, host) -> None:
    if doomed.droplet_id is not None:
        api.call(
            f"droplet {doomed.name}",
            "delete droplet",
            lambda: api.client.droplets.destroy(doomed.droplet_id),
        )
        _wait_gone(api, doomed)
    if delete_data:
        _delete_data(api, doomed)
        logger.info(
            f"{host.print_prefix}deleted {doomed.name} and {', '.join(doomed.data) or 'no data'}"
        )
    elif doomed.data:
        logger.warning(
            f"{host.print_prefix}deleted {doomed.name}; kept (destroy_data=false): "
            f"{', '.join(doomed.data)}. provision.py attaches them to {doomed.name} again."
        )


def final_backup(state, host, droplet: str) -> bool:
    """backup.py on one droplet, run as the user would; its failure only says so."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pyinfra",
            "-y",
            "inventories/do.py",
            "backup.py",
            "--limit",
            droplet,
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=BACKUP_TIMEOUT,
    )
    if result.returncode == 0:
        logger.info(f"{host.print_prefix}final backup of {droplet} in backups/{droplet}/")
    else:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        logger.warning(f"{host.print_prefix}no final backup of {droplet} (backup.py: {last})")
    return True
