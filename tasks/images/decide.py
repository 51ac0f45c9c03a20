"""Which services an upgrade or a rollback must recreate: pure comparisons of readings."""

from __future__ import annotations

from tasks.stack.facts import ComposeProjectState


def running_images(project: ComposeProjectState) -> dict[str, str]:
    """Image ID per service, of the containers that exist now."""
    return {container.service: container.image_id for container in project.containers}


def changed_services(project: ComposeProjectState, service_images: dict[str, str]) -> list[str]:
    """Services whose container runs another image than its reference now points at."""
    running = running_images(project)
    return sorted(
        service
        for service, reference in service_images.items()
        if project.image_id(reference) and running.get(service) != project.image_id(reference)
    )


def services_off_record(
    recorded: dict[str, tuple[str, str, str]], project: ComposeProjectState
) -> list[str]:
    """Services that do not run the image recorded for them (what a rollback recreates)."""
    running = running_images(project)
    return sorted(s for s, (image_id, _, _) in recorded.items() if running.get(s) != image_id)
