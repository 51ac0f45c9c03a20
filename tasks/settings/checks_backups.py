"""Value checks of the off-site backup settings: as in checks.py, each returns the
normalised value or raises ValueError("<what is expected>")."""

from __future__ import annotations

import re
from typing import Any

from pyinfra.api import HiddenValue

from tasks.settings.checks import matching, secret_text

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
