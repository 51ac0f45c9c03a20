"""
What the proxy part compares, read from the host: its files, the record of its last
reload, what the domain resolves to from the host, the host's own addresses, the
certificates it keeps for the domain, and what GET /status answers over verified HTTPS.
"""

from __future__ import annotations

import datetime
import ipaddress

import msgspec
from pyinfra.api import FactBase
from typing_extensions import override

from tasks.host.paths import MISSING, PathState, paths_in, with_paths
from tasks.host.probes import file_lines_probe, tagged
from tasks.proxy import commands
from tasks.stack.layout import StackPaths


class CertificateState(msgspec.Struct, frozen=True):
    not_after: datetime.datetime
    issuer: str


class ProxyState(msgspec.Struct, frozen=True):
    paths: dict[str, PathState] = msgspec.field(default_factory=dict)
    applied: str = ""  # digest of the files the proxy's last reload applied
    resolved: tuple[str, ...] = ()  # what the domain resolves to from the host
    addresses: tuple[str, ...] = ()  # the host's own addresses, Docker's networks aside
    certificates: tuple[CertificateState, ...] = ()
    https_body: str = ""

    def path(self, path: str) -> PathState:
        return self.paths.get(path, MISSING)

    @property
    def certificate(self) -> CertificateState | None:
        """The certificate served longest (the one in use after a change of CA)."""
        return max(self.certificates, key=lambda c: c.not_after, default=None)


def proxy_paths(paths: StackPaths) -> list[str]:
    return [paths.proxy_dir, paths.proxy_config_file, paths.acme_ca_root_file]


def proxy_state_probe(paths: StackPaths, domain: str, url: str, ca_file: str) -> str:
    """Tagged lines: `applied`; with a domain also `resolves`, `address`, `certificate`
    and `https` (see commands); the proxy's paths are probed beside (proxy_paths())."""
    probe = file_lines_probe(paths.proxy_applied_file, "applied ")
    if domain:
        probe += "; " + "; ".join(
            [
                commands.resolve_probe(domain),
                commands.host_addresses_probe(),
                commands.certificate_probe(paths, domain),
                commands.https_probe(url, ca_file or None),
            ]
        )
    return probe + "; true"


def proxy_probe(paths: StackPaths, domain: str, url: str, ca_file: str) -> str:
    """The proxy part read on its own: its paths, then proxy_state_probe()."""
    return with_paths(proxy_paths(paths), proxy_state_probe(paths, domain, url, ca_file))


def _address(text: str) -> str:
    """An address as ipaddress writes it ('' when it is not one)."""
    try:
        return str(ipaddress.ip_address(text.split("/")[0]))
    except ValueError:
        return ""


def parse_certificate(words: list[str]) -> CertificateState | None:
    """The words after `certificate`: '2026-03-01 12:00:00Z CN=Issuer,O=...'."""
    try:
        stamp = f"{words[0]}T{words[1].rstrip('Z')}+00:00"
        return CertificateState(datetime.datetime.fromisoformat(stamp), " ".join(words[2:]))
    except (IndexError, ValueError):
        return None


def parse_proxy(lines: list[str]) -> ProxyState:
    applied, body = "", ""
    resolved: set[str] = set()
    addresses: set[str] = set()
    certificates = []
    for tag, rest, words in tagged(lines):
        if tag == "applied":
            applied = rest.strip()
        elif tag == "resolves" and _address(rest.strip()):
            resolved.add(_address(rest.strip()))
        elif tag == "address" and len(words) == 2:
            if not words[0].startswith(commands.DOCKER_INTERFACES) and _address(words[1]):
                addresses.add(_address(words[1]))
        elif tag == "certificate" and parse_certificate(words):
            certificates.append(parse_certificate(words))
        elif tag == "https":
            body = rest.strip()
    return ProxyState(
        paths_in(lines),
        applied,
        tuple(sorted(resolved)),
        tuple(sorted(addresses)),
        tuple(certificates),
        body,
    )


class Proxy(FactBase[ProxyState]):
    """The proxy's files and record, the domain's addresses, its certificate, HTTPS."""

    @override
    def command(self, paths: StackPaths, domain: str, url: str, ca_file: str) -> str:
        return proxy_probe(paths, domain, url, ca_file)

    @override
    @staticmethod
    def default() -> ProxyState:
        return ProxyState()

    @override
    def process(self, output) -> ProxyState:
        return parse_proxy(output)
