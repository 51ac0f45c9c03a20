"""Pure command builders of upgrade and rollback."""

from __future__ import annotations

import shlex

from tasks.images.record import record_path
from tasks.stack.layout import StackPaths


def write_record_command(paths: StackPaths, lines: list[str]) -> str:
    quoted = " ".join(shlex.quote(line) for line in lines)
    return f"printf '%s\\n' {quoted} > {shlex.quote(record_path(paths))}"


def retag_commands(recorded: dict[str, tuple[str, str, str]], services: list[str]) -> list[str]:
    """Point each service's reference back at its recorded image (pulled by digest if gone)."""
    result = []
    for service in services:
        image_id, reference, digest = recorded[service]
        fetch = f"docker image inspect {image_id} >/dev/null 2>&1"
        if digest:
            fetch += f" || docker pull --quiet {shlex.quote(digest)} >/dev/null"
        result.append(f"{fetch} && docker tag {image_id} {shlex.quote(reference)}")
    return result
