"""
The record of the images that ran before an upgrade: `<stack dir>/.previous-images`, one
line per service: `<service> <image id> <image reference> <repository@digest or ->`.
"""

from __future__ import annotations

from tasks.images.decide import running_images
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


def parse_record(lines: list[str]) -> dict[str, tuple[str, str, str]]:
    """service -> (image id, reference, digest reference or '')."""
    recorded = {}
    for line in lines:
        parts = line.split()
        if len(parts) == 4:
            service, image_id, reference, digest = parts
            recorded[service] = (image_id, reference, "" if digest == "-" else digest)
    return recorded
