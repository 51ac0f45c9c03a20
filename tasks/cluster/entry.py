"""The cluster entry a Prisma 1 CLI needs for a host (pure).

The 1.0 CLI keeps clusters in ~/.prisma/config.yml as `clusters: {<name>: {host,
clusterSecret}}` and signs each deployment token with `clusterSecret`, the cluster's RSA
private key, as RS256 (prisma-yml's Environment.ts and Cluster.ts at the 1.0 tag). The
server checks those tokens against CLUSTER_PUBLIC_KEY.
"""

from __future__ import annotations

from tasks.settings import Settings
from tasks.yaml_text import dump_yaml

ENTRY_FILE = "prisma-cluster.yml"
HEADER = (
    "# Prisma 1 CLI cluster entry, written by prisma-deploy: merge `clusters:` into\n"
    "# ~/.prisma/config.yml. clusterSecret is the cluster's private key: keep this file 0600.\n"
)


def cluster_url(settings: Settings, address: str) -> str:
    """Where the CLI reaches the server: the address the deploy connects to, or the one
    address the port is published on."""
    if settings.prisma_bind_address not in ("0.0.0.0", "::"):
        address = settings.prisma_bind_address
    if ":" in address and not address.startswith("["):
        address = f"[{address}]"
    return f"http://{address}:{settings.prisma_port}"


def render_entry(cluster_name: str, url: str, private_key_pem: str) -> str:
    document = {"clusters": {cluster_name: {"host": url, "clusterSecret": private_key_pem}}}
    return HEADER + dump_yaml(document)
