"""
Shell snippets that read a host and the shape of what they print: tagged lines
(`<tag> <rest>`), several probes run side by side, the Docker API on its socket and an
HTTP answer seen from the host itself.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator

# The Docker API read with curl on its socket: a tenth of the time of `docker` commands.
DOCKER_API = "curl --silent --max-time 10 --unix-socket /var/run/docker.sock"
_SECTION = "--- probe"


def tagged(lines: list[str]) -> Iterator[tuple[str, str, list[str]]]:
    """(tag, rest of the line, its words) for each line a probe printed."""
    for line in lines:
        tag, _, rest = line.strip().partition(" ")
        yield tag, rest, rest.split()


def in_parallel(probes: list[str]) -> str:
    """Run probes concurrently and print their outputs in order, each after a section line
    (see sections()): reading a host is mostly waiting on docker, systemd and iptables,
    which need not wait on each other."""
    jobs = " ".join(
        f'({probe}) > "$t/{index:02d}" 2>/dev/null &' for index, probe in enumerate(probes)
    )
    return (
        f"t=$(mktemp -d) && {{ {jobs} wait; "
        f'for part in "$t"/*; do echo {shlex.quote(_SECTION)}; cat "$part"; done; rm -rf "$t"; }}'
    )


def sections(lines: list[str], count: int) -> list[list[str]]:
    """The output of in_parallel() of `count` probes, split back into one list per probe."""
    parts: list[list[str]] = []
    for line in lines:
        if line.strip() == _SECTION:
            parts.append([])
        elif parts:
            parts[-1].append(line)
    return parts + [[] for _ in range(count - len(parts))]


def http_status_probe(url: str) -> str:
    """`status <body>`: what GET url answers from the host itself (empty when nothing)."""
    return (
        f'echo "status $(curl --silent --max-time 5 {shlex.quote(url)} 2>/dev/null '
        "| head -c 200 | tr '\\n' ' ')\""
    )


def parse_http_status(lines: list[str]) -> str:
    return next((rest.strip() for tag, rest, _ in tagged(lines) if tag == "status"), "")
