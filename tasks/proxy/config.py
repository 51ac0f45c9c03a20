"""
The proxy's files: Caddy's native JSON configuration, built as data and written with
json.dumps (no value can change its structure), and the CA file a private ACME server
needs.

Management paths of the Prisma 1.0 server (prisma/prisma1 at tag 1.0):
- `/cluster` and below: the cluster API (deploys, projects; `GET /cluster` is its
  playground) and `GET /cluster/schema/<project>` guarded by SCHEMA_MANAGER_SECRET
  (server/deploy/.../ClusterServer.scala, mounted as ClusterServer("cluster"));
- `/<service>/<stage>[/<x>]/private` (resetData), `/import` and `/export`: the
  data API's bulk and reset endpoints (server/api/.../ApiServer.scala).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import msgspec

from tasks.settings import Settings
from tasks.stack.layout import (
    ACME_CA_ROOT_NAME,
    PRISMA_SERVICE,
    PROXY_DIR_IN_CONTAINER,
    PROXY_STORAGE_IN_CONTAINER,
    StackPaths,
)

MANAGEMENT_PATHS = ["/cluster", "/cluster/*"]
# Akka reads up to four segments and treats a last one of these as the endpoint.
MANAGEMENT_PATH_PATTERN = r"(?i)^/[^/]*/[^/]*/([^/]*/)?(private|import|export)(/|$)"
HSTS = "max-age=31536000"
FORBIDDEN = "Forbidden: this path answers only to the admin sources (prisma_admin_sources)\n"


def _management_match(admin_sources: list[str]) -> list[dict[str, Any]]:
    """Matcher sets (any of them) for a management request from outside the admin sources."""
    sets: list[dict[str, Any]] = [
        {"path": MANAGEMENT_PATHS},
        {"path_regexp": {"pattern": MANAGEMENT_PATH_PATTERN}},
    ]
    if admin_sources:
        admins = {"not": [{"remote_ip": {"ranges": list(admin_sources)}}]}
        sets = [{**matcher, **admins} for matcher in sets]
    return sets


def _issuer(settings: Settings) -> dict[str, Any]:
    issuer: dict[str, Any] = {"module": "acme", "ca": settings.prisma_acme_ca}
    if settings.prisma_acme_email:
        issuer["email"] = settings.prisma_acme_email
    if settings.prisma_acme_ca_root:
        issuer["trusted_roots_pem_files"] = [f"{PROXY_DIR_IN_CONTAINER}/{ACME_CA_ROOT_NAME}"]
    return issuer


def _site_routes(settings: Settings) -> list[dict[str, Any]]:
    refuse = {"handler": "static_response", "status_code": 403, "body": FORBIDDEN}
    upstream = f"{PRISMA_SERVICE}:{settings.prisma_port}"
    hsts = {"handler": "headers", "response": {"set": {"Strict-Transport-Security": [HSTS]}}}
    management = _management_match(settings.prisma_admin_sources)
    return [
        {"handle": [hsts]},
        {"match": management, "handle": [refuse], "terminal": True},
        # reverse_proxy passes WebSocket upgrades (Prisma's subscriptions) as they are.
        {"handle": [{"handler": "reverse_proxy", "upstreams": [{"dial": upstream}]}]},
    ]


def proxy_config(settings: Settings) -> dict[str, Any]:
    """Caddy's configuration: HTTPS for the domain only (Caddy's automatic HTTPS adds the
    redirect from HTTP), certificates from prisma_acme_ca alone, kept in the data volume."""
    domain = settings.prisma_domain
    server = {
        "listen": [":443"],
        "protocols": ["h1", "h2"],  # no HTTP/3: UDP 443 is not published
        "routes": [
            {
                "match": [{"host": [domain]}],
                "handle": [{"handler": "subroute", "routes": _site_routes(settings)}],
                "terminal": True,
            }
        ],
    }
    policy = {"subjects": [domain], "issuers": [_issuer(settings)]}
    return {
        "admin": {"listen": "localhost:2019"},  # inside the proxy's container only
        "storage": {"module": "file_system", "root": PROXY_STORAGE_IN_CONTAINER},
        "apps": {
            "http": {"servers": {"prisma": server}},
            "tls": {"automation": {"policies": [policy]}},
        },
    }


def render_proxy_config(settings: Settings) -> str:
    return json.dumps(proxy_config(settings), indent=2, sort_keys=True) + "\n"


def proxy_files(settings: Settings) -> dict[str, str]:
    """Path on the host -> content of every file of the proxy (none without a domain)."""
    if not settings.prisma_domain:
        return {}
    paths = StackPaths.of(settings)
    files = {paths.proxy_config_file: render_proxy_config(settings)}
    if settings.prisma_acme_ca_root:
        files[paths.acme_ca_root_file] = Path(settings.prisma_acme_ca_root).read_text()
    return files


def files_digest(files: dict[str, str]) -> str:
    """What the proxy's record of its last reload holds for these files."""
    digest = hashlib.sha256()
    for path, content in sorted(files.items()):
        digest.update(f"{path}\0{len(content)}\0{content}".encode())
    return digest.hexdigest()


def https_status_url(settings: Settings) -> str:
    """GET /status through the public name (empty without a domain)."""
    return f"https://{settings.prisma_domain}/status" if settings.prisma_domain else ""


def trusted_ca_file(settings: Settings) -> str:
    """The CA file on the host that HTTPS is verified against ('' for the system's)."""
    return StackPaths.of(settings).acme_ca_root_file if settings.prisma_acme_ca_root else ""


class HttpsCheck(msgspec.Struct, frozen=True):
    """What the wait through the name needs to know (no secret: operations print it)."""

    domain: str
    acme_ca: str
    url: str  # https://<domain>/status
    ca_file: str  # on the host; '' for the system's trust store
    timeout: int
    loopback_url: str  # GET /status on the Prisma port, from the host itself
    ssh_hostname: str  # the address the deploy connects to
    paths: StackPaths

    @classmethod
    def of(cls, settings: Settings) -> HttpsCheck:
        return cls(
            settings.prisma_domain or "",
            settings.prisma_acme_ca,
            https_status_url(settings),
            trusted_ca_file(settings),
            settings.prisma_health_timeout,
            settings.health_url,
            settings.ssh_hostname,
            StackPaths.of(settings),
        )
