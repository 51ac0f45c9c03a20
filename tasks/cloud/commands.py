"""Request bodies of the API writes (pure builders: tests assert them exactly)."""

from __future__ import annotations

from tasks.cloud.wanted import AccountWanted, DropletWanted

RECORD_TTL = 300


def droplet_body(wanted: AccountWanted, droplet: DropletWanted, volume_id: str) -> dict:
    body = {
        "name": droplet.name,
        "region": wanted.region,
        "size": wanted.size,
        "image": wanted.image,
        "ssh_keys": [wanted.key.fingerprint],
        "monitoring": wanted.monitoring,
        "tags": list(wanted.tags),
        "volumes": [volume_id],
    }
    if wanted.vpc_uuid:
        body["vpc_uuid"] = wanted.vpc_uuid
    return body


def volume_body(wanted: AccountWanted, droplet: DropletWanted) -> dict:
    return {
        "name": droplet.volume,
        "size_gigabytes": wanted.volume_size,
        "region": wanted.region,
        "description": f"Database of {droplet.name} (prisma-deploy)",
        "tags": [wanted.tag],
    }


def firewall_body(wanted: AccountWanted) -> dict:
    def rules(rules, side: str) -> list[dict]:
        out = []
        for protocol, ports, addresses in rules:
            rule = {"protocol": protocol, side: {"addresses": list(addresses)}}
            if protocol != "icmp":
                rule["ports"] = "all" if ports == "0" else ports
            out.append(rule)
        return out

    return {
        "name": wanted.firewall_name,
        "inbound_rules": rules(wanted.inbound, "sources"),
        "outbound_rules": rules(wanted.outbound, "destinations"),
        "tags": [wanted.tag],
    }


def record_name(dns_name: str, zone: str) -> str:
    """The record's name inside its zone ('@' for the zone itself)."""
    return "@" if dns_name == zone else dns_name[: -len(zone) - 1]


def record_body(dns_name: str, zone: str, address: str) -> dict:
    return {"type": "A", "name": record_name(dns_name, zone), "data": address, "ttl": RECORD_TTL}


def droplet_resource(droplet_id: int) -> dict:
    return {"resources": [{"resource_id": str(droplet_id), "resource_type": "droplet"}]}
