"""
Pure command builders of the proxy part: each returns a shell command and runs nothing.
"""

from __future__ import annotations

import shlex
from urllib.parse import urlsplit

from tasks.stack.commands import compose
from tasks.stack.layout import PROXY_CONFIG_NAME, PROXY_DIR_IN_CONTAINER, PROXY_SERVICE, StackPaths

# Interfaces of Docker's own networks: their addresses are not where the domain points.
DOCKER_INTERFACES = ("docker", "br-", "veth")


def host_addresses_probe() -> str:
    """`address <interface> <address/prefix>` per global address of the host."""
    return "ip -o addr show scope global 2>/dev/null | awk '{print \"address\", $2, $4}'"


def resolve_probe(domain: str) -> str:
    """`resolves <address>` per address the host's resolver gives for the domain."""
    return f"getent ahosts {shlex.quote(domain)} | awk '{{print \"resolves\", $1}}' | sort -u"


def certificate_probe(paths: StackPaths, domain: str) -> str:
    """`certificate <not after, ISO 8601> <issuer>` per certificate the proxy keeps for
    the domain (one per ACME directory it was ordered from)."""
    pattern = f"{shlex.quote(paths.certificates_dir)}/*/{domain}/{domain}.crt"
    return (
        f'for f in {pattern}; do [ -f "$f" ] && echo "certificate '
        '$(openssl x509 -in "$f" -noout -enddate -dateopt iso_8601 | cut -d= -f2-) '
        '$(openssl x509 -in "$f" -noout -issuer -nameopt RFC2253 | cut -d= -f2-)"; done; true'
    )


def _curl_https(url: str, ca_file: str | None) -> str:
    """curl of url through the name (TLS server name, Host, verification) on the host's
    own loopback, where the proxy's ports are published: verified against ca_file, or
    the system's trust store."""
    name = urlsplit(url).hostname or ""
    trust = f" --cacert {shlex.quote(ca_file)}" if ca_file else ""
    return (
        f"curl --silent --max-time 5 --connect-to {shlex.quote(name)}:443:127.0.0.1:443"
        f"{trust} {shlex.quote(url)}"
    )


def https_probe(url: str, ca_file: str | None) -> str:
    """`https <body>`: what GET url answers over verified HTTPS (empty when it fails)."""
    return f"echo \"https $({_curl_https(url, ca_file)} 2>/dev/null | head -c 200 | tr '\\n' ' ')\""


def wait_for_https_ok(url: str, ca_file: str | None, timeout_seconds: int) -> str:
    """Poll url until it answers exactly `OK`; exit 1 when timeout_seconds pass first."""
    return (
        f"deadline=$(( $(date +%s) + {int(timeout_seconds)} )); "
        f'while [ "$(date +%s)" -lt "$deadline" ]; do '
        f'[ "$({_curl_https(url, ca_file)} 2>/dev/null)" = OK ] && exit 0; '
        "sleep 2; done; exit 1"
    )


def https_error(url: str, ca_file: str | None) -> str:
    """`https-error <curl's error or the HTTP status>`, for an error message."""
    return (
        f'echo "https-error $({_curl_https(url, ca_file)} --show-error --output /dev/null '
        "--write-out 'HTTP %{http_code}' 2>&1 | tr '\\n' ' ')\""
    )


def reload_proxy(paths: StackPaths, digest: str) -> str:
    """Caddy's own reload (no restart, no dropped connection), retried while a proxy that
    was just created starts; then record which files it applied."""
    config = f"{PROXY_DIR_IN_CONTAINER}/{PROXY_CONFIG_NAME}"
    reload = compose(paths, "exec -T", PROXY_SERVICE, f"caddy reload --force --config {config}")
    record = shlex.quote(paths.proxy_applied_file)
    return (
        f"for attempt in $(seq 30); do {reload} && break; "
        '[ "$attempt" = 30 ] && exit 1; sleep 1; done; '
        f"echo {shlex.quote(digest)} > {record}.new && mv {record}.new {record}"
    )


def proxy_logs(paths: StackPaths, tail: int) -> str:
    return compose(paths, f"logs --no-color --timestamps --tail {int(tail)}", PROXY_SERVICE)
