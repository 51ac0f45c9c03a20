"""The Prisma stack on a host: its files, its secrets, converged and answering."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
from pyinfra import host, logger
from pyinfra.api import deploy

from tasks.commands import StackPaths
from tasks.docker_engine import CANDIDATE_PACKAGES, ENGINE_PATHS, check_supported
from tasks.drift import stack_drift
from tasks.envfile import DB_SERVICE, PRISMA_SERVICE
from tasks.facts import HostSnapshot, HostState, StackFiles, StackFilesState
from tasks.operations import already_converged, server_answers, stack_converged, stack_files
from tasks.redaction import register_secrets
from tasks.secrets import (
    SecretResolver,
    SecretsError,
    SecretStore,
    StackSecrets,
    fingerprint_matches,
    known_secret_values,
    password_fingerprint,
    secrets_root,
)
from tasks.settings import Settings

if TYPE_CHECKING:
    from tasks.plan import DeployPlan

COMPOSE_TEMPLATE = Path(__file__).resolve().parent.parent / "files" / "docker-compose.yml.j2"


def compose_variables(settings: Settings) -> dict:
    """The values files/docker-compose.yml.j2 is rendered with (no secrets among them)."""
    address = settings.prisma_bind_address
    return {
        "db_image": settings.prisma_db_image,
        "prisma_image": settings.prisma_image,
        "db_max_connections": settings.prisma_db_max_connections,
        "db_debug_port": settings.prisma_db_debug_port,
        "published_address": f"[{address}]" if ":" in address else address,
        "port": settings.prisma_port,
        "java_heap": settings.prisma_java_heap,
    }


def service_images(settings: Settings) -> dict[str, str]:
    return {DB_SERVICE: settings.prisma_db_image, PRISMA_SERVICE: settings.prisma_image}


def render_compose_file(settings: Settings) -> str:
    template = jinja2.Template(
        COMPOSE_TEMPLATE.read_text(), undefined=jinja2.StrictUndefined, keep_trailing_newline=True
    )
    return template.render(**compose_variables(settings))


def read_host(settings: Settings) -> HostSnapshot:
    """Everything deploy.py compares, read in one round trip while the deploy is prepared;
    refuses (before anything changes) an OS this deploy cannot install Docker on."""
    host_state = host.get_fact(
        HostState,
        packages=CANDIDATE_PACKAGES,
        engine_paths=ENGINE_PATHS,
        paths=StackPaths.of(settings),
        url=settings.health_url,
    )
    check_supported(host_state.engine.platform, settings.docker_source, settings.host_name)
    return host_state


def stack_secrets(settings: Settings, files: StackFilesState | None = None) -> StackSecrets:
    """Resolve this host's secrets (generating them only on a host without a stack)."""
    paths = StackPaths.of(settings)

    @functools.cache
    def host_has_stack() -> bool:
        found = files if files is not None else host.get_fact(StackFiles, paths=paths)
        return found.of(paths.env_file).exists or found.volume

    store = SecretStore(secrets_root(), settings.host_name)
    secrets = SecretResolver(settings, store, host_has_stack).resolve()
    register_secrets(secrets.raw_values() + known_secret_values(settings))
    return secrets


def stack_problems(
    settings: Settings, snapshot: HostSnapshot, compose_file: str, env_file: str
) -> list[str]:
    """What differs from the wanted stack in the snapshot; empty when nothing."""
    paths = StackPaths.of(settings)
    directory = snapshot.files.of(paths.directory)
    problems = []
    if not directory.is_roots("directory", 700):
        problems.append(f"{paths.directory}: not a 0700 directory of root's")
    for path, content, mode in (
        (paths.compose_file, compose_file, 644),
        (paths.env_file, env_file, 600),
    ):
        current = snapshot.files.of(path)
        if not (current.is_roots("file", mode) and current.holds(content)):
            problems.append(f"{path}: differs")
    problems += stack_drift(snapshot.stack, service_images(settings))
    if snapshot.status_body != "OK":
        problems.append(f"{settings.health_url}: does not answer OK")
    return problems


def fingerprint_to_record(
    settings: Settings, secrets: StackSecrets, files: StackFilesState, env_file: str
) -> str | None:
    """Refuse a database password other than the one the volume was initialised with;
    return the fingerprint to record when none is (None: nothing to record)."""
    password = secrets.db_password.unmask()
    if files.db_fingerprint and fingerprint_matches(password, files.db_fingerprint):
        return None
    if files.db_fingerprint and files.volume:
        raise SecretsError(
            f"host {settings.host_name}: the database password differs from the one the "
            "database was initialised with (prisma_db_password, PRISMA_DB_PASSWORD or "
            f"{StackPaths.of(settings).env_file} changed?). MySQL keeps its first password: "
            "the server would be locked out. To change it, see 'The database password' in "
            "README.md; otherwise unset the new value"
        )
    # A fresh volume takes this password; an existing one is known to have it only when
    # .env stays as it is (stacks deployed before fingerprints were kept).
    if not files.volume or files.of(StackPaths.of(settings).env_file).holds(env_file):
        return password_fingerprint(password)
    return None


@deploy("Deploy the Prisma stack")
def deploy_stack(settings: Settings, plan: DeployPlan) -> None:
    """The stack's files, converged and answering; one no-change operation when the plan
    found nothing to do."""
    if not plan.stack:
        already_converged(
            name="The stack is up to date and Prisma answers",
            summary="files, containers and GET /status match",
        )
        return
    logger.debug(f"{host.print_prefix}stack needs work: {'; '.join(plan.stack)}")
    paths = StackPaths.of(settings)
    stack_files(
        name="Upload the stack: docker-compose.yml and .env (0600) in a 0700 directory",
        paths=paths,
        compose_file=plan.compose_file,
        env_file=plan.env_file,
        db_fingerprint=plan.db_fingerprint,
    )
    converge_and_wait(settings, paths)


def converge_and_wait(settings: Settings, paths: StackPaths, verb: str = "Converge") -> None:
    """`compose up` only where the running stack differs, then wait for GET /status."""
    stack_converged(
        name=f"{verb} the stack (compose up only where it differs)",
        paths=paths,
        service_images=service_images(settings),
    )
    server_answers(
        name="Wait until Prisma answers GET /status",
        url=settings.health_url,
        timeout=settings.prisma_health_timeout,
        paths=paths,
    )
