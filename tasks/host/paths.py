"""Files and directories on a host as `stat` and `sha256sum` see them."""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class PathState:
    """A path as `stat` sees it; mode in pyinfra's style (0o640 is 640)."""

    kind: str = "missing"  # "file", "directory" or "missing"
    mode: int = 0
    user: str = ""
    group: str = ""
    sha256: str = ""

    @property
    def exists(self) -> bool:
        return self.kind != "missing"

    def has_content(self, content: str) -> bool:
        return self.sha256 == sha256_text(content)

    def is_owned_by_root(self, kind: str, mode: int) -> bool:
        """A `kind` ("file" or "directory") of root:root with exactly this mode."""
        return (self.kind, self.mode, self.user, self.group) == (kind, mode, "root", "root")


MISSING = PathState()


def path_probe(paths: list[str]) -> str:
    """`path <path> <file|directory|missing> <mode> <user> <group> <sha256|->` per path."""
    quoted = " ".join(shlex.quote(path) for path in paths)
    return (
        f"for p in {quoted}; do "
        'if [ -d "$p" ]; then kind=directory; elif [ -e "$p" ]; then kind=file; '
        'else echo "path $p missing"; continue; fi; '
        'sum=-; [ "$kind" = file ] && sum=$(sha256sum "$p" | cut -d" " -f1); '
        'echo "path $p $kind $(stat -c "%a %U %G" "$p") $sum"; '
        "done"
    )


def parse_path(words: list[str]) -> tuple[str, PathState]:
    """The words after `path` in a line of path_probe()."""
    if len(words) == 6:
        path, kind, mode, user, group, digest = words
        return path, PathState(kind, int(mode), user, group, "" if digest == "-" else digest)
    return words[0], MISSING


def paths_in(lines: list[str]) -> dict[str, PathState]:
    """Every path a probe's path_probe() part printed."""
    return dict(parse_path(line.split()[1:]) for line in lines if line.startswith("path "))
