"""Value checks of settings: each returns the normalised value or raises
ValueError("<what is expected>"), which the loader turns into an error naming the setting."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable
from typing import Any

from pyinfra.api import HiddenValue

Check = Callable[[Any], Any]


def integer(low: int, high: int) -> Check:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"an integer from {low} to {high}")
        return value

    return check


port = integer(1, 65535)


def one_of(*choices: str) -> Check:
    def check(value: Any) -> str:
        if value not in choices:
            raise ValueError("one of " + ", ".join(repr(choice) for choice in choices))
        return value

    return check


def matching(pattern: str, expected: str) -> Check:
    compiled = re.compile(pattern)

    def check(value: Any) -> str:
        if not isinstance(value, str) or not compiled.fullmatch(value):
            raise ValueError(expected)
        return value

    return check


def optional(inner: Check) -> Check:
    def check(value: Any) -> Any:
        return None if value is None else inner(value)

    return check


def boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("true or false")
    return value


def port_list(value: Any) -> list[int]:
    if not isinstance(value, list):
        raise ValueError("a list of ports, e.g. [9100]")
    return [port(item) for item in value]


def ip_address(value: Any) -> str:
    expected = "an IPv4 or IPv6 address without a zone ID, e.g. '0.0.0.0' or '127.0.0.1'"
    # Python accepts any text after '%' as an IPv6 zone ID: quotes, newlines, anything.
    if not isinstance(value, str) or "%" in value:
        raise ValueError(expected)
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(expected) from None


# Values from the Prisma 1.1 Docker document and its examples: public, never secret.
KNOWN_DEFAULT_SECRETS = frozenset(
    {"MUCHSECRET", "SECRET_1", "SECRET_2", "graphcool", "PUBLIC_KEY", "secret", "password"}
)


def secret_text(value: Any) -> HiddenValue:
    raw = value.unmask() if isinstance(value, HiddenValue) else value
    if not isinstance(raw, str) or not raw or "\x00" in raw:
        raise ValueError("a non-empty string without NUL characters")
    if raw in KNOWN_DEFAULT_SECRETS:
        raise ValueError(
            "a secret of your own, not a published example value (leave it unset to generate one)"
        )
    return HiddenValue(raw)


def long_secret(min_length: int) -> Check:
    def check(value: Any) -> HiddenValue:
        text = secret_text(value)
        if len(text.unmask()) < min_length:
            raise ValueError(f"at least {min_length} characters: it guards the management API")
        return text

    return check


def json_object(value: Any) -> dict:
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise ValueError("a mapping with string keys")
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise ValueError("a mapping that can be written as JSON") from None
    return value


def daemon_options(value: Any) -> dict:
    options = json_object(value)
    for key in sorted(options):
        if key in FORBIDDEN_DAEMON_OPTIONS:
            raise ValueError(f"a mapping without the key {key!r}: {FORBIDDEN_DAEMON_OPTIONS[key]}")
    return options


def pem_public_key(value: Any) -> HiddenValue:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    text = secret_text(value)
    try:
        load_pem_public_key(text.unmask().encode())
    except ValueError:
        raise ValueError("a PEM public key ('-----BEGIN PUBLIC KEY-----' ...)") from None
    return text


# Docker image reference: [registry[:port]/]path[:tag][@sha256:digest], as Docker parses it.
_IMAGE_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_REFERENCE = (
    rf"(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?{_IMAGE_COMPONENT}(?:/{_IMAGE_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?"
)
image_reference = matching(
    _IMAGE_REFERENCE, "a Docker image reference such as 'mysql:5.7' or 'registry:5000/prisma:1.0'"
)
# Directories of the system, and everything above them: the deploy makes its stack
# directory root's and 0700, which would break any of these.
SYSTEM_DIRECTORIES = frozenset(
    {"/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media",
     "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr",
     "/usr/bin", "/usr/lib", "/usr/local", "/usr/local/bin", "/usr/local/sbin", "/usr/sbin",
     "/usr/share", "/var", "/var/lib", "/var/lib/docker", "/var/log", "/var/tmp"}
)  # fmt: skip
# Virtual or emptied at boot: a stack there would not survive.
VOLATILE_DIRECTORIES = ("/proc", "/sys", "/dev", "/run", "/tmp", "/var/tmp", "/boot")


def stack_directory(value: Any) -> str:
    expected = (
        "a normalised absolute path of a directory of its own, such as '/opt/prisma' "
        "(no '..', '.', '//' or trailing '/'; not a system directory such as /etc or /usr)"
    )
    # Each component starts with a letter, digit or '_': no '.', '..', '//' or '-x'.
    if not isinstance(value, str) or not re.fullmatch(r"(/[A-Za-z0-9_][A-Za-z0-9._-]*)+", value):
        raise ValueError(expected)
    inside_volatile = any(value.startswith(root + "/") for root in VOLATILE_DIRECTORIES)
    if value in SYSTEM_DIRECTORIES or inside_volatile:
        raise ValueError(expected)
    return value


# daemon.json keys that would open Docker to the network or switch off the filtering the
# firewall relies on (Docker's own iptables rules, DOCKER-USER), with the reason.
FORBIDDEN_DAEMON_OPTIONS = {
    "hosts": "it can expose the Docker API on the network (root on the host for anyone)",
    "tls": "it configures a Docker API on the network",
    "tlsverify": "it configures a Docker API on the network",
    "iptables": "it turns off Docker's iptables rules, and with them the DOCKER-USER firewall",
    "ip6tables": "it changes Docker's IPv6 rules, which the firewall hooks into",
    "firewall-backend": "the firewall hooks into Docker's iptables chains",
    "userland-proxy": "the firewall filters published ports where Docker's rules route them",
    "userland-proxy-path": "the firewall filters published ports where Docker's rules route them",
    "ip": "it changes the address published ports bind to; use prisma_bind_address",
    "bridge": "the stack's containers must stay on Docker's own bridges",
    "icc": "it changes how containers on Docker's bridges reach each other",
}  # fmt: skip
compose_project = matching(
    r"[a-z0-9][a-z0-9_-]*", "a Compose project name: lowercase letters, digits, '_' and '-'"
)
_JAVA_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def java_heap_bytes(size: str) -> int:
    """A -Xmx size ('512m', '1G', '2097152') in bytes."""
    unit = size[-1].lower() if size[-1].isalpha() else ""
    return int(size.rstrip("kKmMgG")) * _JAVA_UNITS[unit]


def java_memory(value: Any) -> str:
    expected = "a Java heap size from 64m to 1024g, such as '1G' or '512m'"
    if not isinstance(value, str) or not re.fullmatch(r"[1-9][0-9]{0,12}[kKmMgG]?", value):
        raise ValueError(expected)
    if not 64 * 1024**2 <= java_heap_bytes(value) <= 1024**4:
        raise ValueError(expected)
    return value


log_size = matching(r"[1-9][0-9]*[kmg]", "a size such as '10m', '500k' or '1g'")
docker_version = matching(
    r"[0-9A-Za-z.:~+-]+", "a Docker version such as '27.3.1' (or a full apt version string)"
)
database_name = matching(r"[A-Za-z0-9_]{1,64}", "a database name of letters, digits and '_'")
log_start = matching(
    r"[0-9]+[smhd]|[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]+(Z|[+-][0-9:]+)?)?",
    "a duration such as '10m' or a timestamp such as '2026-11-28T10:00:00'",
)
host_name = matching(r".+", "the host's name")
dump_file = matching(r".+\.sql\.gz", "a path to a .sql.gz file made by backup.py")
snapshot = matching(r"latest|[0-9a-f]{8,64}", "'latest' or a snapshot ID (8 to 64 hex digits)")
# systemd calendar events ('daily', 'Mon..Fri *-*-* 03:00', '*-*-* 03:00:00 Europe/Berlin');
# the host's systemd-analyze has the last word, this only keeps the unit file well formed.
calendar = matching(
    r"[A-Za-z0-9*:,./~+_ -]{1,200}",
    "a systemd calendar event such as 'daily' or '*-*-* 03:00:00'",
)
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]+")


def http_url(value: Any) -> str:
    """An http(s) URL with a host, in characters that need no quoting anywhere."""
    from urllib.parse import urlsplit

    expected = "an http or https URL such as 'https://hc-ping.com/<uuid>'"
    if not isinstance(value, str) or not _URL_CHARACTERS.fullmatch(value):
        raise ValueError(expected)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(expected)
    return value


# restic's other backends, given as restic takes them (restic checks the rest).
_RESTIC_BACKENDS = ("sftp:", "rest:", "b2:", "azure:", "gs:", "swift:", "rclone:")
_S3_EXPECTED = (
    "an S3 repository 's3:https://<endpoint>/<bucket>[/<path>]' (e.g. "
    "'s3:https://fra1.digitaloceanspaces.com/my-backups'), another restic repository URL "
    f"({', '.join(_RESTIC_BACKENDS)}...) or an absolute path"
)


def restic_repository(value: Any) -> str:
    if not isinstance(value, str) or not _URL_CHARACTERS.fullmatch(value):
        raise ValueError(_S3_EXPECTED)
    if value.startswith(("s3:", "rest:")):
        endpoint = value.split(":", 1)[1]
        try:
            http_url(endpoint)
        except ValueError:
            raise ValueError(_S3_EXPECTED) from None
        bucket = endpoint.split("/")[3] if endpoint.count("/") >= 3 else ""
        if value.startswith("s3:") and len(bucket) < 3:
            raise ValueError(_S3_EXPECTED)
        return value.rstrip("/")
    if value.startswith(_RESTIC_BACKENDS) and len(value.split(":", 1)[1]) > 0:
        return value.rstrip("/")
    if value.startswith("/") and len(value) > 1:
        return value.rstrip("/")
    raise ValueError(_S3_EXPECTED)


def secret_token(value: Any) -> HiddenValue:
    """A secret without whitespace (an access key): it goes into an INI file."""
    text = secret_text(value)
    if any(character.isspace() for character in text.unmask()):
        raise ValueError("a non-empty string without spaces or line breaks")
    return text
