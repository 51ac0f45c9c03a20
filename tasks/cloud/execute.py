"""The API writes of provision.py, one function per kind of Change, run at execution time
by the operations (FunctionCommands): each finds what it depends on (a volume created a
moment before, a droplet's id) by name, through the Run it shares with the others."""

from __future__ import annotations

import time
from typing import Any

import msgspec
from pyinfra import logger

from tasks.cloud import commands
from tasks.cloud.api import Api, ApiError
from tasks.cloud.decide import Change
from tasks.cloud.kept import remember_ip
from tasks.cloud.read import AccountState
from tasks.cloud.wanted import AccountWanted
from tasks.errors import HostRefused
from tasks.pyinfra_helpers import log_error

POLL_SECONDS = 3


class Run(msgspec.Struct):
    """What one provision.py run knows and learns. It holds no token: the API client is
    made from the environment when the first write runs."""

    wanted: AccountWanted
    found: AccountState
    timeout: int
    ids: dict[str, Any] = msgspec.field(default_factory=dict)
    _api: Api | None = None

    @property
    def api(self) -> Api:
        if self._api is None:
            self._api = Api()
        return self._api

    def volume_id(self, name: str) -> str:
        if name not in self.ids:
            self.ids[name] = self.found.volumes[name]["id"]
        return self.ids[name]

    def droplet(self, name: str, refresh: bool = False) -> dict:
        key = f"droplet:{name}"
        if refresh or key not in self.ids:
            listed = self.api.call(
                f"droplet {name}", "list droplets", lambda: self.api.client.droplets.list(name=name)
            )
            found = [d for d in listed.get("droplets", []) if d["name"] == name]
            if not found:
                raise ApiError(f"DigitalOcean API: droplet {name} is not there")
            self.ids[key] = found[0]
        return self.ids[key]

    def active_droplet(self, name: str) -> dict:
        deadline = time.monotonic() + self.timeout
        droplet = self.droplet(name)
        while droplet.get("status") != "active":
            if time.monotonic() > deadline:
                raise ApiError(f"droplet {name} not active after {self.timeout}s")
            time.sleep(POLL_SECONDS)
            droplet = self.droplet(name, refresh=True)
        return droplet

    def reserved_ip(self, name: str) -> str:
        key = f"ip:{name}"
        if key not in self.ids:
            droplet_id = self.droplet(name)["id"]
            listed = self.api.all_pages(
                "reserved IPs",
                "list reserved IPs",
                self.api.client.reserved_ips.list,
                "reserved_ips",
            )
            ip = next(i for i in listed if (i.get("droplet") or {}).get("id") == droplet_id)
            self.ids[key] = ip["ip"]
        return self.ids[key]


def _wait_action(run: Run, droplet_id: int, action: dict, what: str) -> None:
    deadline = time.monotonic() + run.timeout
    while action.get("status") != "completed":
        if action.get("status") == "errored" or time.monotonic() > deadline:
            raise ApiError(f"DigitalOcean: {what} did not complete ({action.get('status')})")
        time.sleep(POLL_SECONDS)
        action = run.api.call(
            what,
            "get droplet action",
            lambda action_id=action["id"]: run.api.client.droplet_actions.get(
                droplet_id, action_id
            ),
        )["action"]


def _droplet_action(run: Run, name: str, body: dict) -> None:
    droplet_id = run.droplet(name)["id"]
    what = f"{body['type']} of droplet {name}"
    answer = run.api.call(
        what, "post droplet action", lambda: run.api.client.droplet_actions.post(droplet_id, body)
    )
    _wait_action(run, droplet_id, answer["action"], what)


def ssh_key(run: Run, change: Change) -> None:
    body = {"name": run.wanted.key.name, "public_key": run.wanted.key.text}
    run.api.call("the SSH key", "create SSH key", lambda: run.api.client.ssh_keys.create(body))


def tag(run: Run, change: Change) -> None:
    run.api.call(
        f"tag {change.target}",
        "create tag",
        lambda: run.api.client.tags.create({"name": change.target}),
    )


def volume(run: Run, change: Change) -> None:
    droplet = next(d for d in run.wanted.droplets if d.volume == change.target)
    body = commands.volume_body(run.wanted, droplet)
    made = run.api.call(
        f"volume {change.target}", "create volume", lambda: run.api.client.volumes.create(body)
    )
    run.ids[change.target] = made["volume"]["id"]


def droplet(run: Run, change: Change) -> None:
    want = run.wanted.droplet(change.target)
    body = commands.droplet_body(run.wanted, want, run.volume_id(want.volume))
    made = run.api.call(
        f"droplet {want.name}", "create droplet", lambda: run.api.client.droplets.create(body)
    )
    # Not waited for here: the changes that need it active wait (reserved_ip, assign_ip),
    # after every droplet of the run is created.
    run.ids[f"droplet:{want.name}"] = made["droplet"]


def attach(run: Run, change: Change) -> None:
    want = next(d for d in run.wanted.droplets if d.volume == change.target)
    body = {
        "type": "attach",
        "droplet_id": run.droplet(want.name)["id"],
        "region": run.wanted.region,
    }
    volume_id = run.volume_id(want.volume)
    run.api.call(
        f"volume {want.volume}",
        "attach volume",
        lambda: run.api.client.volume_actions.post_by_id(volume_id, body),
    )


def droplet_tags(run: Run, change: Change) -> None:
    found = run.droplet(change.target)
    for name in run.wanted.tags:
        if name not in (found.get("tags") or []):
            body = commands.droplet_resource(found["id"])
            run.api.call(
                f"tag {name}",
                "tag droplet",
                lambda name=name, body=body: run.api.client.tags.assign_resources(name, body),
            )


def resize(run: Run, change: Change) -> None:
    _droplet_action(run, change.target, {"type": "power_off"})
    _droplet_action(run, change.target, {"type": "resize", "size": run.wanted.size, "disk": False})
    _droplet_action(run, change.target, {"type": "power_on"})


def reserved_ip(run: Run, change: Change) -> None:
    droplet_id = run.active_droplet(change.target)["id"]
    made = run.api.call(
        f"the reserved IP of {change.target}",
        "create reserved IP",
        lambda: run.api.client.reserved_ips.create({"droplet_id": droplet_id}),
    )
    address = made["reserved_ip"]["ip"]
    run.ids[f"ip:{change.target}"] = address
    remember_ip(change.target, address)


def assign_ip(run: Run, change: Change) -> None:
    address = change.value
    body = {"type": "assign", "droplet_id": run.active_droplet(change.target)["id"]}
    run.api.call(
        f"reserved IP {address}",
        "assign reserved IP",
        lambda: run.api.client.reserved_ips_actions.post(address, body),
    )
    run.ids[f"ip:{change.target}"] = address
    remember_ip(change.target, address)  # found through DNS: kept here from now on


def record(run: Run, change: Change) -> None:
    want, zone = run.wanted.droplet(change.target), run.found.zone
    body = commands.record_body(want.dns_name, zone, run.reserved_ip(change.target))
    run.api.call(
        f"DNS record {want.dns_name}",
        "create record",
        lambda: run.api.client.domains.create_record(zone, body),
    )


def record_update(run: Run, change: Change) -> None:
    want, zone = run.wanted.droplet(change.target), run.found.zone
    record_id = run.found.records[want.dns_name]["id"]
    body = {"data": run.reserved_ip(change.target)}
    run.api.call(
        f"DNS record {want.dns_name}",
        "update record",
        lambda: run.api.client.domains.patch_record(zone, record_id, body),
    )


def firewall(run: Run, change: Change) -> None:
    body = commands.firewall_body(run.wanted)
    run.api.call(
        f"firewall {change.target}",
        "create firewall",
        lambda: run.api.client.firewalls.create(body),
    )


def firewall_update(run: Run, change: Change) -> None:
    body = commands.firewall_body(run.wanted)
    firewall_id = run.found.firewall["id"]
    run.api.call(
        f"firewall {change.target}",
        "update firewall",
        lambda: run.api.client.firewalls.update(firewall_id, body),
    )


EXECUTORS = {
    function.__name__: function
    for function in (
        *(ssh_key, tag, volume, droplet, attach, droplet_tags, resize, reserved_ip),
        *(assign_ip, record, record_update, firewall, firewall_update),
    )
}


def apply_change(state, host, change: Change, run: Run) -> bool:
    """Run one change (a FunctionCommand's function: `state, host` by these names)."""
    logger.info(f"{host.print_prefix}DigitalOcean: {change.summary}")
    try:
        EXECUTORS[change.kind](run, change)
    except HostRefused as error:  # fail this operation, never raise out of it
        log_error(host, str(error))
        return False
    return True
