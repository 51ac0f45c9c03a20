"""Command generation of the custom operations against fresh, converged and drifted hosts."""

from __future__ import annotations

import hashlib

import msgspec
from pyinfra.api import FileUploadCommand, FunctionCommand, HiddenValue

from tasks.host.facts import HttpBody
from tasks.host.paths import MISSING, PathState
from tasks.stack.facts import (
    ComposeProject,
    ComposeProjectState,
    ContainerState,
    StackFiles,
    StackFilesState,
)
from tasks.stack.layout import StackPaths
from tasks.stack.operations import server_answers, stack_converged, stack_files
from tests.unit.fake_host import FakeFacts, plan_operation

PATHS = StackPaths("/opt/prisma", "prisma")
IMAGES = {"prisma-db": "mysql:5.7", "prisma-database": "prismagraphql/prisma:1.0"}
SECRET = 'PW="s3cr3t$"\n'
SECRET_SHA = hashlib.sha256(SECRET.encode()).hexdigest()


def converged(**overrides) -> ComposeProjectState:
    containers = {
        "prisma-db": ContainerState("prisma-db", "running", "h-db", "sha256:db", "healthy"),
        "prisma-database": ContainerState("prisma-database", "running", "h-p", "sha256:p", "-"),
    }
    containers.update(overrides)
    return ComposeProjectState(
        desired_hashes={"prisma-db": "h-db", "prisma-database": "h-p"},
        containers=tuple(c for c in containers.values() if c is not None),
        image_ids={"mysql:5.7": "sha256:db", "prismagraphql/prisma:1.0": "sha256:p"},
    )


def converge(state: ComposeProjectState):
    return plan_operation(
        stack_converged, FakeFacts({ComposeProject: state}), paths=PATHS, service_images=IMAGES
    )


def test_converged_stack_yields_nothing():
    commands, noops = converge(converged())
    assert commands == []
    assert noops == ["the stack matches docker-compose.yml and .env"]


def test_fresh_host_runs_compose_up():
    commands, _ = converge(ComposeProjectState())
    (command,) = [str(c) for c in commands]
    assert command.startswith("env -u PORT -u SCHEMA_MANAGER_SECRET ")
    assert (
        "docker compose --project-name prisma --file /opt/prisma/docker-compose.yml "
        "--env-file /opt/prisma/.env up --detach --remove-orphans --quiet-pull && "
    ) in command
    assert command.endswith(
        "> /opt/prisma/.compose-hashes.new && mv /opt/prisma/.compose-hashes.new "
        "/opt/prisma/.compose-hashes"
    )


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
        assert " up --detach " in str(commands[0]), state


def test_a_record_that_left_the_files_is_written_again_without_compose_up():
    """Where the read had to ask `compose config` and the containers match, only the
    record is written: no container touched, and the next read uses it again."""
    state = msgspec.structs.replace(converged(), compose_asked=True)
    commands, noops = converge(state)
    (command,) = [str(c) for c in commands]
    assert noops == []
    assert " up " not in command
    assert "config --hash" in command and "sha256sum /opt/prisma/docker-compose.yml" in command
    assert command.endswith("&& mv /opt/prisma/.compose-hashes.new /opt/prisma/.compose-hashes")
    # Drift as well: compose up, which writes the record after it.
    drifted = msgspec.structs.replace(converged(**{"prisma-db": None}), compose_asked=True)
    (command,) = [str(c) for c in converge(drifted)[0]]
    assert " up --detach " in command and command.endswith("/opt/prisma/.compose-hashes")


COMPOSE = "services: {}\n"


def files_state(directory=None, compose=None, env=None) -> StackFilesState:
    return StackFilesState(
        {
            "/opt/prisma": directory or MISSING,
            "/opt/prisma/docker-compose.yml": compose or MISSING,
            "/opt/prisma/.env": env or MISSING,
        }
    )


IN_SYNC = files_state(
    PathState("directory", 700, "root", "root"),
    PathState("file", 644, "root", "root", hashlib.sha256(COMPOSE.encode()).hexdigest()),
    PathState("file", 600, "root", "root", SECRET_SHA),
)


def sync_files(state: StackFilesState, data: dict | None = None):
    return plan_operation(
        stack_files,
        FakeFacts({StackFiles: state}),
        data=data,
        paths=PATHS,
        compose_file=COMPOSE,
        env_file=HiddenValue(SECRET),
    )


def test_fresh_host_gets_private_directory_and_files():
    commands, _ = sync_files(files_state())
    rendered = [str(c) for c in commands]
    assert (
        rendered[0]
        == "mkdir -p /opt/prisma && chown root:root /opt/prisma && chmod 700 /opt/prisma"
    )
    uploads = [c for c in commands if isinstance(c, FileUploadCommand)]
    assert [u.dest for u in uploads] == ["/opt/prisma/docker-compose.yml", "/opt/prisma/.env"]
    assert uploads[1].src.read() == SECRET
    compose_mode = (
        "chown root:root /opt/prisma/docker-compose.yml && chmod 644 /opt/prisma/docker-compose.yml"
    )
    assert compose_mode in rendered
    assert rendered[-1] == "chown root:root /opt/prisma/.env && chmod 600 /opt/prisma/.env"
    assert not any(SECRET.strip() in text for text in rendered)


def test_files_in_sync_yield_nothing():
    commands, noops = sync_files(IN_SYNC)
    assert commands == []
    assert noops == ["/opt/prisma, its compose file and .env are up to date"]


def test_a_loosened_env_mode_is_fixed_alone():
    loose = files_state(
        IN_SYNC.path("/opt/prisma"),
        IN_SYNC.path("/opt/prisma/docker-compose.yml"),
        PathState("file", 644, "root", "root", SECRET_SHA),
    )
    commands, _ = sync_files(loose)
    assert [str(c) for c in commands] == ["chmod 600 /opt/prisma/.env"]


def test_changed_env_through_sudo_uses_a_private_temp_file():
    changed = files_state(
        IN_SYNC.path("/opt/prisma"),
        IN_SYNC.path("/opt/prisma/docker-compose.yml"),
        PathState("file", 600, "root", "root", "old"),
    )
    commands, _ = sync_files(changed, data={"_sudo": True})
    precreate, upload = commands[:2]
    assert str(precreate).startswith("install -m 600 /dev/null /tmp/pyinfra-")
    assert precreate.connector_arguments == {"_sudo": False}
    assert str(precreate).endswith(upload.remote_temp_filename)
    assert upload.dest == "/opt/prisma/.env"


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
