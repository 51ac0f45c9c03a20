"""upgrade.py's record of the images that ran, and rollback's commands."""

from __future__ import annotations

from tasks.images.commands import retag_commands
from tasks.images.decide import changed_services
from tasks.images.record import parse_record, record_lines
from tasks.stack.facts import ComposeProjectState, ContainerState

IMAGES = {"prisma-db": "mysql:5.7", "prisma-database": "prismagraphql/prisma:1.0"}


def stack(*containers: ContainerState, images=None) -> ComposeProjectState:
    return ComposeProjectState({}, containers, images or {})


def test_upgrade_finds_services_whose_tag_moved_and_records_what_ran():
    state = stack(
        ContainerState("prisma-db", "running", "h", "sha256:db", "healthy"),
        ContainerState("prisma-database", "running", "h", "sha256:old", "-"),
        images={
            "mysql:5.7": "sha256:db",
            "prismagraphql/prisma:1.0": "sha256:new",
            "prismagraphql/prisma@sha256:aaa": "sha256:old",
        },
    )
    assert changed_services(state, IMAGES) == ["prisma-database"]
    lines = record_lines(state, IMAGES)
    assert lines == [
        "prisma-database sha256:old prismagraphql/prisma:1.0 prismagraphql/prisma@sha256:aaa",
        "prisma-db sha256:db mysql:5.7 -",
    ]
    recorded = parse_record(lines)
    (retag,) = retag_commands(recorded, ["prisma-database"])
    assert retag == (
        "docker image inspect sha256:old >/dev/null 2>&1 || docker pull --quiet "
        "prismagraphql/prisma@sha256:aaa >/dev/null "
        "&& docker tag sha256:old prismagraphql/prisma:1.0"
    )
