"""Command generation of the custom operations against fresh, converged and drifted hosts."""

from __future__ import annotations

import hashlib

from pyinfra.api import FileUploadCommand, FunctionCommand, HiddenValue
from pyinfra.facts.files import File, Sha256File

from tasks.commands import StackPaths
from tasks.facts import ComposeStack, ContainerState, HttpBody, StackState
from tasks.operations import secret_file, server_answers, stack_converged
from tests.unit.fake_host import FakeFacts, plan_operation

PATHS = StackPaths("/opt/prisma", "prisma")
IMAGES = {"prisma-db": "mysql:5.7", "prisma-database": "prismagraphql/prisma:1.0"}
SECRET = 'PW="s3cr3t$"\n'
SECRET_SHA = hashlib.sha256(SECRET.encode()).hexdigest()


def converged(**overrides) -> StackState:
    containers = {
        "prisma-db": ContainerState("prisma-db", "running", "h-db", "sha256:db", "healthy"),
        "prisma-database": ContainerState("prisma-database", "running", "h-p", "sha256:p", "-"),
    }
    containers.update(overrides)
    return StackState(
        desired_hashes={"prisma-db": "h-db", "prisma-database": "h-p"},
        containers=tuple(c for c in containers.values() if c is not None),
        image_ids={"mysql:5.7": "sha256:db", "prismagraphql/prisma:1.0": "sha256:p"},
    )


def converge(state: StackState):
    return plan_operation(
        stack_converged, FakeFacts({ComposeStack: state}), paths=PATHS, service_images=IMAGES
    )


def test_converged_stack_yields_nothing():
    commands, noops = converge(converged())
    assert commands == []
    assert noops == ["the stack matches docker-compose.yml and .env"]


def test_fresh_host_runs_compose_up():
    commands, _ = converge(StackState())
    (command,) = [str(c) for c in commands]
    assert command.endswith(
        "docker compose --project-name prisma --file /opt/prisma/docker-compose.yml "
        "--env-file /opt/prisma/.env up --detach --remove-orphans --quiet-pull"
    )
    assert command.startswith("env -u PORT -u SCHEMA_MANAGER_SECRET ")


def test_each_kind_of_drift_runs_compose_up():
    drifted = [
        converged(**{"prisma-db": None}),  # removed
        converged(
            **{
                "prisma-database": ContainerState(
                    "prisma-database", "exited", "h-p", "sha256:p", "-"
                )
            }
        ),
        converged(
            **{
                "prisma-database": ContainerState(
                    "prisma-database", "running", "old", "sha256:p", "-"
                )
            }
        ),
        converged(
            **{
                "prisma-database": ContainerState(
                    "prisma-database", "running", "h-p", "sha256:old", "-"
                )
            }
        ),
        converged(extra=ContainerState("old-service", "running", "x", "sha256:x", "-")),
    ]
    for state in drifted:
        commands, _ = converge(state)
        assert len(commands) == 1, state


def test_secret_file_uploads_without_showing_content_and_sets_mode():
    facts = FakeFacts({File: None, Sha256File: None})
    commands, _ = plan_operation(
        secret_file, facts, dest="/opt/prisma/.env", content=HiddenValue(SECRET)
    )
    upload, chown, chmod = commands
    assert isinstance(upload, FileUploadCommand) and upload.dest == "/opt/prisma/.env"
    assert upload.src.read() == SECRET
    assert str(chown) == "chown root:root /opt/prisma/.env"
    assert str(chmod) == "chmod 600 /opt/prisma/.env"
    assert SECRET not in repr(upload)


def test_secret_file_unchanged_yields_nothing():
    facts = FakeFacts(
        {File: {"mode": 600, "user": "root", "group": "root"}, Sha256File: SECRET_SHA}
    )
    commands, noops = plan_operation(
        secret_file, facts, dest="/opt/prisma/.env", content=HiddenValue(SECRET)
    )
    assert commands == []
    assert noops == ["/opt/prisma/.env is up to date"]


def test_secret_file_fixes_a_loosened_mode_only():
    facts = FakeFacts(
        {File: {"mode": 644, "user": "root", "group": "root"}, Sha256File: SECRET_SHA}
    )
    commands, _ = plan_operation(
        secret_file, facts, dest="/opt/prisma/.env", content=HiddenValue(SECRET)
    )
    assert [str(c) for c in commands] == ["chmod 600 /opt/prisma/.env"]


def test_secret_file_through_sudo_precreates_a_private_temp_file():
    facts = FakeFacts({File: None, Sha256File: None})
    commands, _ = plan_operation(
        secret_file,
        facts,
        data={"_sudo": True},
        dest="/opt/prisma/.env",
        content=HiddenValue(SECRET),
    )
    precreate, upload = commands[:2]
    assert str(precreate).startswith("install -m 600 /dev/null /tmp/pyinfra-")
    assert precreate.connector_arguments == {"_sudo": False}
    assert str(precreate).endswith(upload.remote_temp_filename)


def test_server_already_answering_is_no_change():
    commands, noops = plan_operation(
        server_answers,
        FakeFacts({HttpBody: "OK"}),
        url="http://127.0.0.1:4466/status",
        timeout=30,
        paths=PATHS,
    )
    assert commands == []
    assert noops == ["http://127.0.0.1:4466/status answers OK"]


def test_server_not_answering_is_waited_for():
    commands, _ = plan_operation(
        server_answers,
        FakeFacts({HttpBody: "Bad Gateway"}),
        url="http://127.0.0.1:4466/status",
        timeout=30,
        paths=PATHS,
    )
    (wait,) = commands
    assert isinstance(wait, FunctionCommand)
    assert wait.args[:2] == ("http://127.0.0.1:4466/status", 30)
