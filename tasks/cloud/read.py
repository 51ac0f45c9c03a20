"""The DigitalOcean account as it is, read through the API before anything is decided:
every resource provision.py declares, found by name, tag or fingerprint. Bad slugs are
refused here, as the API lists them, before any write."""

from __future__ import annotations

import msgspec

from tasks.cloud.api import Api, ApiError
from tasks.cloud.wanted import AccountWanted


class UnknownSlug(ApiError):
    """A region, size or image the API does not offer."""


class AccountState(msgspec.Struct, frozen=True):
    key: dict | None = None
    tags: frozenset[str] = frozenset()
    droplets: dict[str, dict] = msgspec.field(default_factory=dict)  # by name
    volumes: dict[str, dict] = msgspec.field(default_factory=dict)  # by name
    reserved_ips: tuple[dict, ...] = ()
    zone: str | None = None  # the managed domain prisma_domain ends with
    records: dict[str, dict] = msgspec.field(default_factory=dict)  # A records by full name
    firewall: dict | None = None
    sizes: dict[str, dict] = msgspec.field(default_factory=dict)

    def reserved_ip_of(self, droplet_id: int | None) -> dict | None:
        return next(
            (ip for ip in self.reserved_ips if (ip.get("droplet") or {}).get("id") == droplet_id),
            None,
        )


def _listed(values: list[str]) -> str:
    shown = ", ".join(sorted(values)[:40])
    return shown + (", ..." if len(values) > 40 else "")


def check_slugs(api: Api, wanted: AccountWanted) -> dict[str, dict]:
    """Region, size and image as the API knows them; returns the sizes by slug."""
    client = api.client
    regions = api.all_pages("regions", "list regions", client.regions.list, "regions")
    available = [r["slug"] for r in regions if r.get("available", True)]
    if wanted.region not in available:
        raise UnknownSlug(
            f"setting 'do_region': {wanted.region!r} is not an available DigitalOcean region; "
            f"the API lists: {_listed(available)}"
        )
    sizes = {s["slug"]: s for s in api.all_pages("sizes", "list sizes", client.sizes.list, "sizes")}
    size = sizes.get(wanted.size)
    if size is None or wanted.region not in size.get("regions", [wanted.region]):
        offered = [slug for slug, s in sizes.items() if wanted.region in s.get("regions", [])]
        raise UnknownSlug(
            f"setting 'do_size': {wanted.size!r} is not a droplet size offered in "
            f"{wanted.region}; the API lists: {_listed(offered)}"
        )
    image = api.find(f"image {wanted.image}", "get image", lambda: client.images.get(wanted.image))
    if image is None:
        raise UnknownSlug(
            f"setting 'do_image': the API knows no image {wanted.image!r} "
            "(e.g. 'debian-13-x64', 'debian-12-x64', 'ubuntu-24-04-x64')"
        )
    return sizes


def _zone(api: Api, domain: str | None) -> str | None:
    if domain is None:
        return None
    client = api.client
    zones = [
        d["name"] for d in api.all_pages("domains", "list domains", client.domains.list, "domains")
    ]
    matching = [z for z in zones if domain == z or domain.endswith("." + z)]
    if not matching:
        raise ApiError(
            f"setting 'prisma_domain': {domain!r} is in no domain this DigitalOcean account "
            f"manages ({_listed(zones) or 'none'}); add the domain in DigitalOcean first"
        )
    return max(matching, key=len)


def _records(api: Api, zone: str | None) -> dict[str, dict]:
    if zone is None:
        return {}
    records = api.all_pages(
        f"domain {zone}",
        "list records",
        api.client.domains.list_records,
        "domain_records",
        domain_name=zone,
        type="A",
    )
    return {(zone if r["name"] == "@" else f"{r['name']}.{zone}"): r for r in records}


def read_account(api: Api, wanted: AccountWanted) -> AccountState:
    client = api.client
    sizes = check_slugs(api, wanted)
    key = api.find(
        "the SSH key", "get SSH key", lambda: client.ssh_keys.get(wanted.key.fingerprint)
    )
    tags = {
        tag
        for tag in wanted.tags
        if api.find(f"tag {tag}", "get tag", lambda t=tag: client.tags.get(t))
    }
    droplets = api.all_pages("droplets", "list droplets", client.droplets.list, "droplets")
    volumes = api.all_pages(
        "volumes", "list volumes", client.volumes.list, "volumes", region=wanted.region
    )
    firewalls = api.all_pages("firewalls", "list firewalls", client.firewalls.list, "firewalls")
    zone = _zone(api, wanted.domain)
    return AccountState(
        key=(key or {}).get("ssh_key"),
        tags=frozenset(tags),
        droplets={d["name"]: d for d in droplets},
        volumes={v["name"]: v for v in volumes},
        reserved_ips=tuple(
            api.all_pages(
                "reserved IPs", "list reserved IPs", client.reserved_ips.list, "reserved_ips"
            )
        ),
        zone=zone,
        records=_records(api, zone),
        firewall=next((f for f in firewalls if f["name"] == wanted.firewall_name), None),
        sizes=sizes,
    )


def read_for_destroy(api: Api, region: str, domain: str | None) -> AccountState:
    """Droplets, volumes, reserved IPs and records: what destroy.py may delete."""
    client = api.client
    zone = _zone(api, domain)
    droplets = api.all_pages("droplets", "list droplets", client.droplets.list, "droplets")
    volumes = api.all_pages(
        "volumes", "list volumes", client.volumes.list, "volumes", region=region
    )
    ips = api.all_pages(
        "reserved IPs", "list reserved IPs", client.reserved_ips.list, "reserved_ips"
    )
    return AccountState(
        droplets={d["name"]: d for d in droplets},
        volumes={v["name"]: v for v in volumes},
        reserved_ips=tuple(ips),
        zone=zone,
        records=_records(api, zone),
    )
