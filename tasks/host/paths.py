"""Files and directories on a host as `stat` and `sha256sum` see them."""

from __future__ import annotations

import hashlib
import re
import shlex

import msgspec

from tasks.host.probes import host_read


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class PathState(msgspec.Struct, frozen=True):
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
    """Per path `path <path> <file|directory|missing>`, and for those that exist one
    `path-stat <path> <mode> <user> <group>` line, from host_read()'s perl (then
    `answered paths`); then digests_probe(). The whole host's read asks that perl for
    every part's paths along with the rest."""
    return f"{host_read(paths=paths)}; {digests_probe(paths)}"


def digests_probe(paths: list[str]) -> str:
    """A `SHA256 (<path>) = <hex>` line for each regular file among paths, from a single
    `sha256sum` (none when there is no file), left in $sums for what runs after it in
    the same shell (the Compose record's check). One process for all the paths: a
    process costs the host a millisecond or more of CPU, and the deploy reads some
    twenty paths on every run."""
    quoted = " ".join(shlex.quote(path) for path in paths)
    return (
        f'sums=; set --; for p in {quoted}; do [ -f "$p" ] && set -- "$@" "$p"; done; '
        'if [ $# -gt 0 ]; then sums=$(sha256sum --tag -- "$@" 2>/dev/null); '
        '[ -n "$sums" ] && printf \'%s\\n\' "$sums"; fi; true'
    )


def with_paths(paths: list[str] | tuple[str, ...], probe: str) -> str:
    """path_probe() of the paths, then the probe: a part's fact read on its own (the
    whole host's read probes every part's paths at once)."""
    return f"{path_probe(list(paths))}; {probe}"


_DIGEST_LINE = re.compile(r"SHA256 \((?P<path>.*)\) = (?P<digest>\S+)$")


def paths_in(lines: list[str]) -> dict[str, PathState]:
    """Every path a probe's path_probe() part printed."""
    kinds: dict[str, str] = {}
    owners: dict[str, tuple[int, str, str]] = {}
    digests: dict[str, str] = {}
    for line in lines:
        line = line.strip()
        tag, _, rest = line.partition(" ")
        if tag == "path" and " " in rest:
            path, kind = rest.rsplit(" ", 1)
            kinds[path] = kind
        elif tag == "path-stat" and rest.count(" ") >= 3:
            path, mode, user, group = rest.rsplit(" ", 3)
            if mode.isdigit():
                owners[path] = (int(mode), user, group)
        elif (digest := _DIGEST_LINE.match(line)) is not None:
            digests[digest["path"]] = digest["digest"]
    return {
        path: _path_state(kind, owners.get(path), digests.get(path, ""))
        for path, kind in kinds.items()
    }


def _path_state(kind: str, owner: tuple[int, str, str] | None, digest: str) -> PathState:
    if kind not in ("file", "directory") or owner is None:
        return MISSING  # gone between the test and stat
    return PathState(kind, *owner, digest)
