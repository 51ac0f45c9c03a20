"""
The record of the images that ran before an upgrade: `<stack dir>/.previous-images`, one
line per service: `<service> <image id> <image reference> <repository@digest or ->`.
"""

from __future__ import annotations

import re

from tasks.images.decide import running_images
from tasks.settings.checks import image_reference
from tasks.stack.facts import ComposeProjectState
from tasks.stack.layout import StackPaths


def record_path(paths: StackPaths) -> str:
    return paths.previous_images_file


def record_lines(project: ComposeProjectState, service_images: dict[str, str]) -> list[str]:
    running = running_images(project)
    return [
        f"{service} {running[service]} {reference} "
        f"{project.digest_reference(running[service]) or '-'}"
        for service, reference in sorted(service_images.items())
        if service in running
    ]


_IMAGE_ID = re.compile(r"sha256:[0-9a-f]{64}")


def _valid(image_id: str, reference: str, digest: str) -> bool:
    """The record is read back from the host into shell commands: only well-formed
    image IDs and references are used (they are quoted as well)."""
    references = [reference] + ([digest] if digest else [])
    try:
        for each in references:
            image_reference(each)
    except ValueError:
        return False
    return bool(_IMAGE_ID.fullmatch(image_id))


def parse_record(lines: list[str]) -> dict[str, tuple[str, str, str]]:
    """service -> (image id, reference, digest reference or ''); malformed lines left out."""
    recorded = {}
    for line in lines:
        parts = line.split()
        if len(parts) == 4:
            service, image_id, reference, digest = parts
            digest = "" if digest == "-" else digest
            if _valid(image_id, reference, digest):
                recorded[service] = (image_id, reference, digest)
    return recorded
