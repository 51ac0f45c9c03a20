"""upgrade.py's record of the images that ran, and rollback's commands."""

from __future__ import annotations

from tasks.images.commands import retag_commands
from tasks.images.decide import changed_services
from tasks.images.record import parse_record, record_lines
from tasks.stack.facts import ComposeProjectState, ContainerState

IMAGES = {"prisma-db": "mysql:5.7", "prisma-database": "prismagraphql/prisma:1.0"}
DB, OLD, NEW = ("sha256:" + digit * 64 for digit in "abc")
DIGEST = "prismagraphql/prisma@sha256:" + "d" * 64


def stack(*containers: ContainerState, images=None) -> ComposeProjectState:
    return ComposeProjectState({}, containers, images or {})


def test_upgrade_finds_services_whose_tag_moved_and_records_what_ran():
    state = stack(
        ContainerState("prisma-db", "running", "h", DB, "healthy"),
        ContainerState("prisma-database", "running", "h", OLD, "-"),
        images={"mysql:5.7": DB, "prismagraphql/prisma:1.0": NEW, DIGEST: OLD},
    )
    assert changed_services(state, IMAGES) == ["prisma-database"]
    lines = record_lines(state, IMAGES)
    assert lines == [
        f"prisma-database {OLD} prismagraphql/prisma:1.0 {DIGEST}",
        f"prisma-db {DB} mysql:5.7 -",
    ]
    recorded = parse_record(lines)
    (retag,) = retag_commands(recorded, ["prisma-database"])
    assert retag == (
        f"docker image inspect {OLD} >/dev/null 2>&1 || docker pull --quiet "
        f"{DIGEST} >/dev/null && docker tag {OLD} prismagraphql/prisma:1.0"
    )


def test_a_service_whose_container_was_gone_is_not_rolled_back_and_raises_nothing():
    state = stack(
        ContainerState("prisma-db", "running", "h", DB, "healthy"),
        images={"mysql:5.7": DB, "prismagraphql/prisma:1.0": NEW},
    )
    recorded = parse_record(record_lines(state, IMAGES))
    assert set(recorded) == {"prisma-db"}
    assert retag_commands(recorded, ["prisma-database"]) == []  # was a KeyError


def test_a_record_edited_on_the_host_never_reaches_a_shell_unchecked():
    lines = [
        "prisma-db $(touch${IFS}/tmp/pwned) mysql:5.7 -",
        f"prisma-database {OLD} 'prisma;reboot' -",
        f"prisma-db {DB} mysql:5.7 ;reboot",
        f"prisma-db {DB[:-1]} mysql:5.7 -",
        f"prisma-database {OLD} prismagraphql/prisma:1.0 -",
    ]
    assert parse_record(lines) == {"prisma-database": (OLD, "prismagraphql/prisma:1.0", "")}
