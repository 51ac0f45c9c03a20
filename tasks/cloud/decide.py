"""What must change on DigitalOcean, decided from the declared and the found account
(pure). Every resource is looked for first; only what is missing or differs becomes a
Change. What cannot change in place is refused with the reason."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from tasks.cloud.read import AccountState
from tasks.cloud.wanted import AccountWanted, DropletWanted
from tasks.errors import HostRefused


class CannotChange(HostRefused):
    """The declared state cannot be reached in place: the message says why."""


class Change(msgspec.Struct, frozen=True):
    kind: str  # an executor of tasks/cloud/execute.py
    target: str  # the resource's name
    summary: str  # what the change does, for people
    value: str = ""  # what the executor needs beyond the name (assign_ip: the address)


class CloudPlan(msgspec.Struct, frozen=True):
    changes: tuple[Change, ...] = ()
    notes: tuple[str, ...] = ()  # differences left alone, said as warnings
    new_droplets: frozenset[str] = msgspec.field(default_factory=frozenset)


def _normalised(rules: list[dict], side: str) -> tuple:
    out = []
    for rule in rules or []:
        ports = str(rule.get("ports") or "0")
        addresses = tuple(sorted((rule.get(side) or {}).get("addresses") or []))
        out.append((rule["protocol"], "0" if ports == "all" else ports, addresses))
    return tuple(sorted(out))


def firewall_differs(wanted: AccountWanted, found: dict) -> bool:
    want_in = tuple(sorted((p, ports, tuple(sorted(a))) for p, ports, a in wanted.inbound))
    want_out = tuple(sorted((p, ports, tuple(sorted(a))) for p, ports, a in wanted.outbound))
    return (
        _normalised(found.get("inbound_rules"), "sources") != want_in
        or _normalised(found.get("outbound_rules"), "destinations") != want_out
        or wanted.tag not in (found.get("tags") or [])
    )


def _account_changes(wanted: AccountWanted, found: AccountState) -> list[Change]:
    changes = []
    if found.key is None:
        changes.append(
            Change("ssh_key", wanted.key.name, f"register the SSH key {wanted.key.fingerprint}")
        )
    changes += [
        Change("tag", tag, f"create the tag {tag}") for tag in wanted.tags if tag not in found.tags
    ]
    return changes


def _existing_droplet(
    wanted: AccountWanted, found: AccountState, droplet: dict
) -> tuple[list[Change], list[str]]:
    name = droplet["name"]
    if droplet["region"]["slug"] != wanted.region:
        raise CannotChange(
            f"droplet {name} is in {droplet['region']['slug']}, do_region says {wanted.region}: "
            "a droplet cannot move; destroy it (destroy.py) and provision again"
        )
    changes: list[Change] = []
    notes: list[str] = []
    if droplet.get("size_slug") != wanted.size:
        size = found.sizes[wanted.size]
        if size.get("disk", 0) < droplet.get("disk", 0):
            raise CannotChange(
                f"droplet {name} has a {droplet['disk']} GB disk, {wanted.size} only "
                f"{size['disk']} GB: a disk cannot shrink"
            )
        changes.append(
            Change("resize", name, f"power off {name}, resize to {wanted.size}, power on")
        )
    missing = [tag for tag in wanted.tags if tag not in (droplet.get("tags") or [])]
    if missing:
        changes.append(Change("droplet_tags", name, f"tag {name} with {', '.join(missing)}"))
    if (droplet.get("image") or {}).get("slug") not in (None, wanted.image):
        notes.append(
            f"droplet {name} runs {droplet['image'].get('slug')}: do_image applies to new droplets"
        )
    return changes, notes


def _volume(wanted: AccountWanted, found: AccountState, want: DropletWanted) -> list[Change]:
    volume = found.volumes.get(want.volume)
    if volume is None:
        return [
            Change(
                "volume", want.volume, f"create the {wanted.volume_size} GiB volume {want.volume}"
            )
        ]
    if volume.get("size_gigabytes", 0) > wanted.volume_size:
        raise CannotChange(
            f"volume {want.volume} has {volume['size_gigabytes']} GiB, do_volume_size says "
            f"{wanted.volume_size}: a volume cannot shrink"
        )
    droplet = found.droplets.get(want.name)
    attached = volume.get("droplet_ids") or []
    if droplet is not None and droplet["id"] not in attached:
        if attached:
            raise CannotChange(
                f"volume {want.volume} is attached to another droplet ({attached[0]})"
            )
        return [Change("attach", want.volume, f"attach {want.volume} to {want.name}")]
    return []


def _free_reserved_ip(found: AccountState, want: DropletWanted, kept: dict[str, str]) -> str:
    """A reserved IP of this droplet's that no droplet holds (its droplet was destroyed,
    its data kept): the one this machine kept, else the one its DNS record still points
    at (found from the API alone, on any machine). Empty: none."""
    free = {ip["ip"] for ip in found.reserved_ips if not ip.get("droplet")}
    record = found.records.get(want.dns_name or "") or {}
    for address in (kept.get(want.name), record.get("data")):
        if address in free:
            return address
    return ""


def _address(
    found: AccountState, want: DropletWanted, kept: dict[str, str]
) -> tuple[list[Change], str]:
    """The changes that give the droplet its reserved IP, and that IP when known now."""
    droplet = found.droplets.get(want.name)
    held = found.reserved_ip_of(droplet["id"]) if droplet is not None else None
    if held is not None:
        return [], held["ip"]
    address = _free_reserved_ip(found, want, kept)
    if address:
        summary = f"assign the reserved IP {address} to {want.name}"
        return [Change("assign_ip", want.name, summary, address)], address
    return [Change("reserved_ip", want.name, f"reserve an IP for {want.name}")], ""


def _record(found: AccountState, want: DropletWanted, address: str) -> list[Change]:
    """`address`: the droplet's reserved IP when known before the run, else empty."""
    if want.dns_name is None:
        return []
    record = found.records.get(want.dns_name)
    if record is None:
        return [Change("record", want.name, f"add the A record {want.dns_name}")]
    if not address or record.get("data") != address:
        return [
            Change(
                "record_update", want.name, f"point {want.dns_name} at {want.name}'s reserved IP"
            )
        ]
    return []


def _check_resize_consent(
    wanted: AccountWanted, found: AccountState, changes: list[Change], consent: Sequence[str]
) -> None:
    """Every droplet a resize would power off is named in do_resize_confirm, or the run
    stops before any write, naming all of them at once."""
    resized = [c.target for c in changes if c.kind == "resize"]
    unnamed = [name for name in resized if name not in consent]
    if unnamed:
        sizes = ", ".join(f"{n} is {found.droplets[n].get('size_slug')}" for n in unnamed)
        raise CannotChange(
            f"{sizes}, do_size says {wanted.size}: resizing powers each off for minutes. "
            f"To go ahead, run again with --data do_resize_confirm={','.join(resized)}"
        )


def plan_account(
    wanted: AccountWanted,
    found: AccountState,
    kept_ips: dict[str, str],
    resize_consent: Sequence[str],
) -> CloudPlan:
    """Pure: the changes that take the found account to the declared one, in order.
    Every droplet is created before any waits to be active (an address needs an active
    droplet): n new droplets boot side by side, not one after the other."""
    changes = _account_changes(wanted, found)
    notes: list[str] = []
    new: set[str] = set()
    addresses: list[Change] = []
    for want in wanted.droplets:
        changes += _volume(wanted, found, want)
        droplet = found.droplets.get(want.name)
        if droplet is None:
            new.add(want.name)
            changes.append(Change("droplet", want.name, f"create the droplet {want.name}"))
        else:
            more, said = _existing_droplet(wanted, found, droplet)
            changes += more
            notes += said
        address_changes, address = _address(found, want, kept_ips)
        addresses += address_changes + _record(found, want, address)
    changes += addresses
    _check_resize_consent(wanted, found, changes, resize_consent)
    if found.firewall is None:
        changes.append(
            Change(
                "firewall",
                wanted.firewall_name,
                f"create the Cloud Firewall {wanted.firewall_name}",
            )
        )
    elif firewall_differs(wanted, found.firewall):
        changes.append(
            Change(
                "firewall_update",
                wanted.firewall_name,
                f"update the rules of {wanted.firewall_name}",
            )
        )
    return CloudPlan(tuple(changes), tuple(notes), frozenset(new))
