"""stack_problems and the rules beside it: every difference named, nothing when none."""

from __future__ import annotations

import msgspec
import pytest
from pyinfra.api import HiddenValue

from tasks.errors import HostRefused
from tasks.host.paths import PathState, sha256_text
from tasks.settings import load_settings
from tasks.stack.decide import (
    PROVE,
    RECORD,
    VERIFY,
    StackFilesWanted,
    check_directory_is_ours,
    password_check,
    stack_drift,
    stack_problems,
)
from tasks.stack.facts import (
    ComposeProjectState,
    ContainerState,
    StackFilesState,
    StackState,
)

SETTINGS = load_settings("h", {})
COMPOSE, ENV = "services: {}\n", "PORT=4466\n"
WANTED = StackFilesWanted(COMPOSE, HiddenValue(ENV), HiddenValue("pw"), None)
IMAGES = {"mysql:5.7": "sha256:db", "prismagraphql/prisma:1.0": "sha256:p"}


def root(kind: str, mode: int, content: str = "") -> PathState:
    return PathState(kind, mode, "root", "root", sha256_text(content) if content else "")


def files(**changes) -> StackFilesState:
    paths = {
        "/opt/prisma": root("directory", 700),
        "/opt/prisma/docker-compose.yml": root("file", 644, COMPOSE),
        "/opt/prisma/.env": root("file", 600, ENV),
    }
    paths.update(changes)
    return StackFilesState(paths=paths, volume=True, has_fingerprint=True)


def container(
    service: str, image: str, status: str = "running", config: str = "h"
) -> ContainerState:
    return ContainerState(service, status, config, image, "healthy")


def project(*containers: ContainerState, hashes=None, images=None) -> ComposeProjectState:
    desired = {"prisma-db": "h", "prisma-database": "h"} if hashes is None else hashes
    return ComposeProjectState(desired, containers or RUNNING, IMAGES if images is None else images)


RUNNING = (container("prisma-db", "sha256:db"), container("prisma-database", "sha256:p"))


def test_nothing_differs_on_a_converged_host():
    assert stack_problems(SETTINGS, StackState(files(), project(), "OK"), WANTED) == []


@pytest.mark.parametrize(
    ("found", "problem"),
    [
        (StackState(files(**{"/opt/prisma": root("directory", 755)}), project(), "OK"),
         "/opt/prisma: not a 0700 directory of root's"),
        (StackState(files(**{"/opt/prisma/.env": root("file", 644, ENV)}), project(), "OK"),
         "/opt/prisma/.env: differs"),
        (StackState(files(**{"/opt/prisma/.env": root("file", 600, "X=1\n")}), project(), "OK"),
         "/opt/prisma/.env: differs"),
        (StackState(files(**{"/opt/prisma/docker-compose.yml": root("file", 600, COMPOSE)}),
                    project(), "OK"),
         "/opt/prisma/docker-compose.yml: differs"),
        (StackState(files(), project(), "503"), "http://127.0.0.1:4466/status: does not answer OK"),
        (StackState(files(), project(hashes={}), "OK"), "the stack has not been deployed yet"),
        (StackState(files(), msgspec.structs.replace(project(), compose_asked=True), "OK"),
         "/opt/prisma/.compose-hashes: does not match the files"),
    ],
)  # fmt: skip
def test_each_difference_is_named(found, problem):
    assert stack_problems(SETTINGS, found, WANTED) == [problem]


def test_a_fingerprint_to_record_or_prove_is_work():
    for check in (RECORD, PROVE):
        wanted = StackFilesWanted(COMPOSE, HiddenValue(ENV), HiddenValue("pw"), check)
        assert stack_problems(SETTINGS, StackState(files(), project(), "OK"), wanted) == [
            "the database password's fingerprint is to be recorded"
        ]
    verify = StackFilesWanted(COMPOSE, HiddenValue(ENV), HiddenValue("pw"), VERIFY)
    assert stack_problems(SETTINGS, StackState(files(), project(), "OK"), verify) == []


@pytest.mark.parametrize(
    ("containers", "images", "reasons"),
    [
        ((container("prisma-db", "sha256:db"),), None, ["prisma-database: no container"]),
        ((container("prisma-db", "sha256:db", config="old"), RUNNING[1]), None,
         ["prisma-db: configuration changed"]),
        ((container("prisma-db", "sha256:db", status="exited"), RUNNING[1]), None,
         ["prisma-db: container is exited"]),
        (RUNNING, {"prismagraphql/prisma:1.0": "sha256:p"},
         ["prisma-db: image mysql:5.7 is not on the host"]),
        ((container("prisma-db", "sha256:old"), RUNNING[1]), None,
         ["prisma-db: image mysql:5.7 now points at another image"]),
        ((*RUNNING, container("gone", "sha256:x")), None, ["gone: no longer in the compose file"]),
    ],
)  # fmt: skip
def test_drift_reasons(containers, images, reasons):
    wanted = {"prisma-db": "mysql:5.7", "prisma-database": "prismagraphql/prisma:1.0"}
    assert stack_drift(project(*containers, images=images), wanted) == reasons


def test_a_directory_holding_other_files_is_refused_naming_at_most_five():
    check_directory_is_ours(SETTINGS, StackFilesState(entries=frozenset({".env", "backups"})))
    others = frozenset({".env", *(f"f{i}" for i in range(7))})
    with pytest.raises(HostRefused) as refused:
        check_directory_is_ours(SETTINGS, StackFilesState(entries=others))
    assert str(refused.value) == (
        "host h: setting 'prisma_stack_dir' is /opt/prisma, which holds files that are not "
        "the stack's (f0, f1, f2, f3, f4, ...); choose a directory of its own (a new or an "
        "empty one)"
    )
    with pytest.raises(HostRefused, match=r"\(a, b\);"):
        check_directory_is_ours(SETTINGS, StackFilesState(entries=frozenset({"b", "a"})))
    five = frozenset(f"f{i}" for i in range(5))
    with pytest.raises(HostRefused, match=r"\(f0, f1, f2, f3, f4\);"):
        check_directory_is_ours(SETTINGS, StackFilesState(entries=five))


def test_which_password_check_a_run_needs():
    assert password_check(SETTINGS, files(), ENV) is None
    assert password_check(SETTINGS, files(), "other") == VERIFY
    assert password_check(SETTINGS, StackFilesState(volume=True), ENV) == PROVE
    assert password_check(SETTINGS, StackFilesState(), ENV) == RECORD
