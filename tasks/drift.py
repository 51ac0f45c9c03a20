"""Why a running stack differs from the desired one: a pure comparison of facts."""

from __future__ import annotations

from tasks.facts import StackState


def stack_drift(state: StackState, service_images: dict[str, str]) -> list[str]:
    """Reasons the stack needs `compose up`; empty when it already matches.

    Mirrors what `docker compose up` itself would act on: a missing, stopped or
    reconfigured container, one running an image other than the one its reference
    points at now, and containers of services that are no longer in the file.
    """
    if not state.desired_hashes:
        return ["the stack has not been deployed yet"]

    reasons: list[str] = []
    for service, desired_hash in sorted(state.desired_hashes.items()):
        containers = state.containers_of(service)
        if not containers:
            reasons.append(f"{service}: no container")
            continue
        reference = service_images.get(service, "")
        local_image = state.image_id(reference)
        for container in containers:
            if container.config_hash != desired_hash:
                reasons.append(f"{service}: configuration changed")
            elif container.status != "running":
                reasons.append(f"{service}: container is {container.status}")
            elif not local_image:
                reasons.append(f"{service}: image {reference} is not on the host")
            elif container.image_id != local_image:
                reasons.append(f"{service}: image {reference} now points at another image")

    orphans = {c.service for c in state.containers if c.service not in state.desired_hashes}
    reasons.extend(f"{service}: no longer in the compose file" for service in sorted(orphans))
    return reasons
