"""The stack's files uploaded, its containers converged, the server answering."""

from __future__ import annotations

from tasks.pyinfra_helpers import converged_already, part_deploy
from tasks.settings import Settings
from tasks.stack.decide import PROVE, VERIFY, StackFilesWanted
from tasks.stack.facts import StackState
from tasks.stack.layout import StackPaths, service_images
from tasks.stack.operations import (
    database_password_checked,
    server_answers,
    stack_converged,
    stack_files,
)
from tasks.work import Work


@part_deploy("Deploy the Prisma stack")
def deploy_stack(settings: Settings, work: Work[StackState, StackFilesWanted]) -> None:
    """The stack's files, converged and answering; one no-change operation when the plan
    found nothing to do."""
    if converged_already(
        work,
        "stack",
        "The stack is up to date and Prisma answers",
        "files, containers and GET /status match",
    ):
        return
    paths = StackPaths.of(settings)
    stack_files(
        name="Upload the stack: docker-compose.yml and .env (0600) in a 0700 directory",
        paths=paths,
        compose_file=work.wanted.compose_file,
        env_file=work.wanted.env_file,
        db_fingerprint=work.wanted.fingerprint_to_record(),
    )
    converge_and_wait(settings, verb="Converge")


@part_deploy("Check the database password")
def check_database_password(settings: Settings, work: Work[StackState, StackFilesWanted]) -> None:
    """Before anything on the host changes: the password .env is to get must be the one
    the database was initialised with. Nothing to check: no operation at all."""
    if work.wanted.password_check in (VERIFY, PROVE):
        database_password_checked(
            name="Check the database password against the database",
            paths=StackPaths.of(settings),
            password=work.wanted.db_password,
            check=work.wanted.password_check,
        )


def converge_and_wait(settings: Settings, verb: str) -> None:
    """`compose up` only where the running stack differs, then wait for GET /status."""
    paths = StackPaths.of(settings)
    stack_converged(
        name=f"{verb} the stack (compose up only where it differs)",
        paths=paths,
        service_images=service_images(settings),
    )
    wait_for_server(settings)


def wait_for_server(settings: Settings) -> None:
    server_answers(
        name="Wait until Prisma answers GET /status",
        url=settings.health_url,
        timeout=settings.prisma_health_timeout,
        paths=StackPaths.of(settings),
    )
