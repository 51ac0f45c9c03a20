"""The Prisma stack on a host: its files, its secrets, converged and answering."""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2
from pyinfra import host
from pyinfra.api import HiddenValue, deploy

from tasks.commands import StackPaths
from tasks.envfile import DB_SERVICE, PRISMA_SERVICE, env_values, render_env
from tasks.facts import StackFiles
from tasks.operations import server_answers, stack_converged, stack_files
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


def render_compose_file(settings: Settings) -> str:
    template = jinja2.Template(
        COMPOSE_TEMPLATE.read_text(), undefined=jinja2.StrictUndefined, keep_trailing_newline=True
    )
    return template.render(**compose_variables(settings))


def stack_secrets(settings: Settings) -> StackSecrets:
    """Resolve this host's secrets (generating them only on a host without a stack)."""
    paths = StackPaths.of(settings)

    @functools.cache
    def host_has_stack() -> bool:
        files = host.get_fact(StackFiles, paths=paths)
        return files.of(paths.env_file).exists or files.volume

    store = SecretStore(secrets_root(), settings.host_name)
    secrets = SecretResolver(settings, store, host_has_stack).resolve()
    register_secrets(secrets.raw_values())
    return secrets


@deploy("Deploy the Prisma stack")
def deploy_stack(settings: Settings, secrets: StackSecrets) -> None:
    paths = StackPaths.of(settings)
    stack_files(
        name="Upload the stack: docker-compose.yml and .env (0600) in a 0700 directory",
        paths=paths,
        compose_file=render_compose_file(settings),
        env_file=HiddenValue(render_env(env_values(settings, secrets))),
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
