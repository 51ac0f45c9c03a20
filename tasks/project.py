"""Where this project lives on the machine that runs pyinfra, and how a host's name
becomes a directory name under it (.secrets/<host>/, backups/<host>/)."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FILES_DIR = PROJECT_ROOT / "files"


def host_directory_name(host_name: str) -> str:
    """A host's name as one path component: separators replaced, never empty."""
    return host_name.replace("/", "_").replace("\\", "_") or "_"
