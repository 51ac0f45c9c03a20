"""Pure command builders of upgrade and rollback."""

from __future__ import annotations

import shlex

from tasks.images.record import record_path
from tasks.stack.layout import StackPaths


def write_record_command(paths: StackPaths, lines: list[str]) -> str:
    quoted = " ".join(shlex.quote(line) for line in lines)
    return f"printf '%s\\n' {quoted} > {shlex.quote(record_path(paths))}"


def retag_commands(recorded: dict[str, tuple[str, str, str]], services: list[str]) -> list[str]:
    """Point each service's reference back at its recorded image (pulled by digest if
    gone); a service with no recorded image (its container was gone) is left as it is."""
    result = []
    for service in services:
        if service not in recorded:
            continue
        image_id, reference, digest = (shlex.quote(part) for part in recorded[service])
        fetch = f"docker image inspect {image_id} >/dev/null 2>&1"
        if digest != "''":
            fetch += f" || docker pull --quiet {digest} >/dev/null"
        result.append(f"{fetch} && docker tag {image_id} {reference}")
    return result
