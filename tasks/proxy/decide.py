"""What differs between the proxy as read and as wanted, and whether the domain points
at the host: pure comparisons of readings."""

from __future__ import annotations

import ipaddress

from tasks.errors import HostRefused
from tasks.proxy.config import files_digest, https_status_url
from tasks.proxy.facts import ProxyState
from tasks.settings import Settings
from tasks.stack.layout import StackPaths


def expected_addresses(ssh_hostname: str, found: ProxyState) -> list[str]:
    """Where the domain may point: the host's own addresses (Docker's networks aside)
    and the address the deploy connects to, when that is an address (a reserved IP)."""
    expected = set(found.addresses)
    try:
        connected = ipaddress.ip_address(ssh_hostname.strip("[]"))
        if not connected.is_loopback:
            expected.add(str(connected))
    except ValueError:
        pass
    return sorted(expected)


def domain_problem(domain: str, ssh_hostname: str, found: ProxyState) -> str | None:
    """Why the domain does not point at this host, from the host's own resolver; None
    when every address it resolves to (loopback from /etc/hosts aside) is the host's."""
    expected = expected_addresses(ssh_hostname, found)
    wanted = ", ".join(expected) or "none found"
    resolved = [a for a in found.resolved if not ipaddress.ip_address(a).is_loopback]
    if not resolved:
        return (
            f"prisma_domain {domain} does not resolve to any address from the host (no A or "
            f"AAAA record); point it at this host ({wanted})"
        )
    elsewhere = [address for address in resolved if address not in expected]
    if elsewhere:
        return (
            f"prisma_domain {domain} resolves to {', '.join(resolved)}, and "
            f"{', '.join(elsewhere)} is not this host's ({wanted}); point its A/AAAA "
            "records at this host only"
        )
    return None


def check_domain_points_here(settings: Settings, found: ProxyState) -> None:
    """Refuse, before any change and so before any ACME order, a domain that does not
    point at the host: the order would fail, and count against the CA's rate limits."""
    if not settings.prisma_domain:
        return
    problem = domain_problem(settings.prisma_domain, settings.ssh_hostname, found)
    if problem:
        raise HostRefused(
            f"host {settings.host_name}: {problem}. No certificate was ordered and nothing "
            "on the host changed"
        )


def _holds(found: ProxyState, path: str, content: str) -> bool:
    current = found.path(path)
    return current.is_owned_by_root("file", 644) and current.has_content(content)


def proxy_problems(settings: Settings, found: ProxyState, wanted: dict[str, str]) -> list[str]:
    """What differs from the wanted proxy (wanted: path -> content; empty without a
    domain, when the proxy's files must go); empty when nothing."""
    paths = StackPaths.of(settings)
    if not wanted:
        return (
            [f"{paths.proxy_dir}: left from a domain"] if found.path(paths.proxy_dir).exists else []
        )
    problems = [
        f"{path}: differs" for path, content in wanted.items() if not _holds(found, path, content)
    ]
    if paths.acme_ca_root_file not in wanted and found.path(paths.acme_ca_root_file).exists:
        problems.append(f"{paths.acme_ca_root_file}: no longer wanted")
    if found.applied != files_digest(wanted):
        problems.append("the proxy has not applied these files")
    if found.https_body != "OK":
        problems.append(f"{https_status_url(settings)}: does not answer OK")
    return problems
