"""Value checks of the DigitalOcean settings (provision.py, destroy.py) and of the data
volume: as in checks.py, each returns the normalised value or raises ValueError."""

from __future__ import annotations

import re
from typing import Any

from tasks.settings.checks import matching
from tasks.settings.checks_network import cidr_list

MAX_DROPLETS = 50
# A host name label that starts with a letter, short enough for its volume ("<name>-data").
_DROPLET_NAME = r"[a-z]([a-z0-9-]{0,56}[a-z0-9])?"
hostname_label = matching(
    r"[a-z][a-z0-9-]{0,50}", "a host name label: a-z, 0-9 and '-', starting with a letter"
)
slug = matching(r"[a-z0-9][a-z0-9-]*", "a DigitalOcean slug such as 'fra1' or 's-1vcpu-2gb'")
non_empty_text = matching(r"\S.*", "a non-empty string")
device_path = matching(r"/dev/[A-Za-z0-9._/:-]+", "a device path under /dev")
_TAG = re.compile(r"[A-Za-z0-9:_.-]{1,255}")


def droplet_names(value: Any) -> int | list[str]:
    expected = (
        f"a count from 1 to {MAX_DROPLETS} or a list of 1 to {MAX_DROPLETS} different "
        "droplet names that are valid host names (a-z, 0-9 and '-', starting with a letter, "
        "at most 58 characters, e.g. 'prisma-fra1-01')"
    )
    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value <= MAX_DROPLETS:
            raise ValueError(expected)
        return value
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_DROPLETS:
        raise ValueError(expected)
    if len(set(value)) != len(value) or not all(
        isinstance(name, str) and re.fullmatch(_DROPLET_NAME, name) for name in value
    ):
        raise ValueError(expected)
    return value


def tag_list(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(
        isinstance(tag, str) and _TAG.fullmatch(tag) for tag in value
    ):
        raise ValueError("a list of tags (letters, digits, ':', '-', '_', '.')")
    return value


def ssh_sources(value: Any) -> list[str]:
    ranges = cidr_list(value)
    if not ranges:
        raise ValueError("a non-empty list of addresses or networks, e.g. ['203.0.113.0/24']")
    return ranges


def name_or_names(value: Any) -> list[str]:
    names = [n.strip() for n in value.split(",")] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise ValueError("a droplet name or a list of droplet names")
    return names
