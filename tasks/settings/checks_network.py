"""Value checks of the network settings: DNS names, e-mail addresses, https URLs, CA
files and address ranges (the HTTPS proxy, the DigitalOcean firewall). As in checks.py,
each returns the normalised value or raises ValueError("<what is expected>")."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

_DNS_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def dns_name(value: Any) -> str:
    """A host name for a certificate: lowercased, without a trailing dot."""
    expected = (
        "a DNS name such as 'prisma.example.com' (two or more dot-separated labels of "
        "letters, digits and '-', not an IP address)"
    )
    if not isinstance(value, str):
        raise ValueError(expected)
    name = value.lower().removesuffix(".")
    labels = name.split(".")
    valid = all(_DNS_LABEL.fullmatch(label) for label in labels)
    if not valid or len(labels) < 2 or len(name) > 253 or labels[-1].isdigit():
        raise ValueError(expected)
    return name


def email_address(value: Any) -> str:
    expected = "an email address such as 'ops@example.com' (for the ACME account)"
    if not isinstance(value, str) or value.count("@") != 1:
        raise ValueError(expected)
    local, domain = value.split("@")
    if not re.fullmatch(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}", local):
        raise ValueError(expected)
    try:
        dns_name(domain)
    except ValueError:
        raise ValueError(expected) from None
    return value


def https_url(value: Any) -> str:
    from urllib.parse import urlsplit

    expected = "an https:// URL such as 'https://acme-v02.api.letsencrypt.org/directory'"
    if not isinstance(value, str) or not value.isprintable() or " " in value:
        raise ValueError(expected)
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        raise ValueError(expected) from None
    if parts.scheme != "https" or not parts.hostname or "@" in parts.netloc:
        raise ValueError(expected)
    return value


def pem_certificates_file(value: Any) -> str:
    """A local file of PEM CA certificates (read while the run is prepared)."""
    from pathlib import Path

    from cryptography import x509

    expected = "a path on this machine to a file of PEM CA certificates"
    if not isinstance(value, str) or not value:
        raise ValueError(expected)
    try:
        x509.load_pem_x509_certificates(Path(value).expanduser().read_bytes())
    except (OSError, ValueError):
        raise ValueError(expected) from None
    return str(Path(value).expanduser())


def cidr_list(value: Any) -> list[str]:
    expected = "a list of IP addresses or CIDR ranges, e.g. ['203.0.113.0/24', '2001:db8::/32']"
    if not isinstance(value, list):
        raise ValueError(expected)
    ranges = []
    for item in value:
        if not isinstance(item, str) or "%" in item:
            raise ValueError(f"{expected}; {item!r} is not one")
        try:
            ranges.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ValueError(f"{expected}; {item!r} does not parse") from None
    return ranges
