"""The reserved IP of each droplet, kept on this machine beside the secrets: a reserved IP
carries no name or tag, so a droplet created again finds the one it had by this record
(or, on a machine without it, through its DNS record when prisma_domain is set)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from tasks.secrets.store import secrets_root

FILE_NAME = "digitalocean-reserved-ips.json"


def kept_ips_file(environ: Mapping[str, str] = os.environ) -> Path:
    return secrets_root(environ) / FILE_NAME


def read_kept_ips(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    try:
        return json.loads(kept_ips_file(environ).read_text())
    except FileNotFoundError:
        return {}


def remember_ip(droplet: str, address: str | None, environ: Mapping[str, str] = os.environ) -> None:
    """Record (or, with None, forget) the reserved IP of a droplet."""
    path = kept_ips_file(environ)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    kept = read_kept_ips(environ)
    if address is None:
        kept.pop(droplet, None)
    else:
        kept[droplet] = address
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(kept, indent=2, sort_keys=True) + "\n")
    temp.replace(path)
