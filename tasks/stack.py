"""The Prisma stack on a host: its files, its secrets, converged and answering."""

from __future__ import annotations

from pathlib import Path

from pyinfra import host
from pyinfra.api import HiddenValue, deploy
from pyinfra.operations import files

from tasks.commands import StackPaths
from tasks.envfile import DB_SERVICE, PRISMA_SERVICE, env_values, render_env
from tasks.facts import StackFootprint
from tasks.operations import secret_file, server_answers, stack_converged
from tasks.redaction import register_secrets
from tasks.secrets import SecretResolver, SecretStore, StackSecrets, secrets_root
from tasks.settings import Settings

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


def stack_secrets(settings: Settings) -> StackSecrets:
    """Resolve this host's secrets (generating them on a host without a stack yet)."""
    footprint = host.get_fact(StackFootprint, paths=StackPaths.of(settings))
    store = SecretStore(secrets_root(), settings.host_name)
    secrets = SecretResolver(settings, store, host_has_stack=footprint.exists).resolve()
    register_secrets(secrets.raw_values())
    return secrets


@deploy("Deploy the Prisma stack")
def deploy_stack(settings: Settings, secrets: StackSecrets) -> None:
    paths = StackPaths.of(settings)
    files.directory(
        name="Create the stack directory (0700, root)",
        path=paths.directory,
        mode="700",
        user="root",
        group="root",
    )
    files.template(
        name="Upload docker-compose.yml",
        src=str(COMPOSE_TEMPLATE),
        dest=paths.compose_file,
        mode="644",
        user="root",
        group="root",
        **compose_variables(settings),
    )
    secret_file(
        name="Upload .env (0600, root)",
        dest=paths.env_file,
        content=HiddenValue(render_env(env_values(settings, secrets))),
    )
    stack_converged(
        name="Converge the stack (compose up only where it differs)",
        paths=paths,
        service_images=service_images(settings),
    )
    server_answers(
        name="Wait until Prisma answers GET /status",
        url=settings.health_url,
        timeout=settings.prisma_health_timeout,
        paths=paths,
    )
