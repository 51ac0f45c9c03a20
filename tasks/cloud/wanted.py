"""What the settings declare on DigitalOcean, as data (pure): droplet names, each one's
volume and DNS name, the tags, the SSH key and the Cloud Firewall's rules."""

from __future__ import annotations

import base64
import hashlib

import msgspec

from tasks.settings import Settings

ALL_ADDRESSES = ("0.0.0.0/0", "::/0")
SSH_PORT = 22


class DropletWanted(msgspec.Struct, frozen=True):
    name: str
    volume: str  # the block-storage volume holding its database
    dns_name: str | None  # the A record's full name, with prisma_domain


class PublicKey(msgspec.Struct, frozen=True):
    text: str  # "ssh-ed25519 AAAA... comment"

    @property
    def fingerprint(self) -> str:
        """DigitalOcean's fingerprint: MD5 of the key blob, colon-separated hex."""
        blob = base64.b64decode(self.text.split()[1])
        digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
        return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))

    @property
    def name(self) -> str:
        words = self.text.split()
        return "prisma-deploy" + (f" {words[2]}" if len(words) > 2 else "")


class AccountWanted(msgspec.Struct, frozen=True):
    tag: str
    droplets: tuple[DropletWanted, ...]
    region: str
    size: str
    image: str
    tags: tuple[str, ...]  # tag first
    monitoring: bool
    vpc_uuid: str | None
    volume_size: int
    key: PublicKey
    domain: str | None
    firewall_name: str
    inbound: tuple[tuple[str, str, tuple[str, ...]], ...]  # (protocol, ports, sources)
    outbound: tuple[tuple[str, str, tuple[str, ...]], ...]

    def droplet(self, name: str) -> DropletWanted:
        return next(droplet for droplet in self.droplets if droplet.name == name)


def droplet_names(settings: Settings) -> list[str]:
    if isinstance(settings.do_droplets, int):
        return [f"{settings.do_name_prefix}-{i:02d}" for i in range(1, settings.do_droplets + 1)]
    return list(settings.do_droplets)


def _dns_name(settings: Settings, name: str, several: bool) -> str | None:
    if settings.prisma_domain is None:
        return None
    return f"{name}.{settings.prisma_domain}" if several else settings.prisma_domain


def dns_names(settings: Settings, names: list[str]) -> dict[str, str | None]:
    return {name: _dns_name(settings, name, len(names) > 1) for name in names}


def firewall_rules(settings: Settings) -> tuple[tuple, tuple]:
    """The host firewall's openings, mirrored: SSH from do_ssh_sources, the Prisma port
    and prisma_firewall_extra_ports from anywhere; everything out."""
    web = sorted({settings.prisma_port, *settings.prisma_firewall_extra_ports})
    inbound = [("tcp", str(SSH_PORT), tuple(settings.do_ssh_sources))]
    inbound += [("tcp", str(port), ALL_ADDRESSES) for port in web]
    outbound = [(protocol, "0", ALL_ADDRESSES) for protocol in ("tcp", "udp")]
    outbound.append(("icmp", "0", ALL_ADDRESSES))
    return tuple(inbound), tuple(outbound)


def wanted_account(settings: Settings, tag: str, public_key: str) -> AccountWanted:
    names = droplet_names(settings)
    inbound, outbound = firewall_rules(settings)
    return AccountWanted(
        tag=tag,
        droplets=tuple(
            DropletWanted(name, f"{name}-data", _dns_name(settings, name, len(names) > 1))
            for name in names
        ),
        region=settings.do_region,
        size=settings.do_size,
        image=settings.do_image,
        tags=tuple(dict.fromkeys([tag, *settings.do_tags])),
        monitoring=settings.do_monitoring,
        vpc_uuid=settings.do_vpc_uuid,
        volume_size=settings.do_volume_size,
        key=PublicKey(public_key.strip()),
        domain=settings.prisma_domain,
        firewall_name=f"{tag}-firewall",
        inbound=inbound,
        outbound=outbound,
    )
