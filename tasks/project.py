"""Where this project lives on the machine that runs pyinfra, its files/ (read once per
run), and how a host's name becomes a directory name under it (.secrets/<host>/,
backups/<host>/)."""

from __future__ import annotations

import functools
import re
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FILES_DIR = PROJECT_ROOT / "files"


@functools.cache
def project_file_text(name: str) -> str:
    """The text of files/<name>, read once per run: the project's files do not change
    during one, and every host's wanted files hold them."""
    return (FILES_DIR / name).read_text()


@functools.cache
def script_text(name: str) -> str:
    """files/<name>, a script sent inline (`perl -e`) on every run, without its comment
    lines; stripped once per run, like project_file_text() reads it once, though every
    host's command holds it."""
    return "\n".join(
        line for line in project_file_text(name).splitlines() if not line.lstrip().startswith("#")
    )


_UNSAFE = re.compile(r"[^A-Za-z0-9._@:+=,\[\]-]")


def host_directory_name(host_name: str) -> str:
    """A host's name as one path component of its own: every character that could leave
    or alias the directory ('/', '\\', '%', controls, ...) percent-encoded, and the names
    '.' and '..' spelled out, so two hosts never share a directory."""
    encoded = _UNSAFE.sub(
        lambda match: "".join(f"%{byte:02X}" for byte in match.group().encode()), host_name
    )
    if encoded in (".", ".."):
        return encoded.replace(".", "%2E")
    return encoded or "%"
