"""
Pure command builders: each returns the shell command for one action on the host and
runs nothing. Deploy functions and operations decide where and when to run them; unit
tests assert the exact strings.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from tasks.envfile import DB_SERVICE, ENV_KEYS, PRISMA_SERVICE
from tasks.settings import Settings

COMPOSE_FILE_NAME = "docker-compose.yml"
ENV_FILE_NAME = ".env"
DB_VOLUME_NAME = "db-persistence"
SERVICES = (DB_SERVICE, PRISMA_SERVICE)


@dataclass(frozen=True)
class StackPaths:
    """Where one host's stack lives, and how Compose is invoked on it."""

    directory: str
    project: str

    @classmethod
    def of(cls, settings: Settings) -> StackPaths:
        return cls(settings.prisma_stack_dir, settings.prisma_project_name)

    @property
    def compose_file(self) -> str:
        return f"{self.directory}/{COMPOSE_FILE_NAME}"

    @property
    def env_file(self) -> str:
        return f"{self.directory}/{ENV_FILE_NAME}"

    @property
    def db_volume(self) -> str:
        return f"{self.project}_{DB_VOLUME_NAME}"


def compose(paths: StackPaths, *arguments: str) -> str:
    """`docker compose` on this stack, with .env winning over the caller's environment.

    Compose lets exported shell variables override .env; a developer's `PORT=3000`
    would silently move the server. `env -u` drops exactly the variables .env defines.
    """
    unset = " ".join(f"-u {key}" for key in ENV_KEYS)
    return " ".join(
        [
            f"env {unset} docker compose",
            f"--project-name {shlex.quote(paths.project)}",
            f"--file {shlex.quote(paths.compose_file)}",
            f"--env-file {shlex.quote(paths.env_file)}",
            *arguments,
        ]
    )


def compose_up(paths: StackPaths) -> str:
    return compose(paths, "up --detach --remove-orphans --quiet-pull")


def compose_logs(paths: StackPaths, tail: int) -> str:
    return compose(paths, f"logs --no-color --timestamps --tail {int(tail)}", *SERVICES)


def stack_state(paths: StackPaths, image_refs: list[str]) -> str:
    """One round trip reading what the converge operation compares, as tagged lines:

    `hash <service> <hash>`: the config hash Compose wants (from the files on the host);
    `container <service> <status> <config-hash label> <image id> <health>`: what runs;
    `image <ref> <id or ->`: the image each configured reference points at locally.
    """
    container_format = (
        'container {{index .Config.Labels "com.docker.compose.service"}} {{.State.Status}} '
        '{{index .Config.Labels "com.docker.compose.config-hash"}} {{.Image}} '
        "{{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}}"
    )
    refs = " ".join(shlex.quote(ref) for ref in image_refs)
    return (
        f"if [ -f {shlex.quote(paths.compose_file)} ] && [ -f {shlex.quote(paths.env_file)} ]; "
        f"then {compose(paths, 'config --hash', shlex.quote('*'))} | sed 's/^/hash /' || exit 1; "
        "fi; "
        "docker ps --all --quiet "
        f"--filter label=com.docker.compose.project={shlex.quote(paths.project)} "
        f"| xargs -r docker inspect --format {shlex.quote(container_format)}; "
        f"for ref in {refs}; do "
        'printf "image %s %s\\n" "$ref" '
        '"$(docker image inspect --format "{{.Id}}" "$ref" 2>/dev/null || echo -)"; '
        "done"
    )


def stack_footprint(paths: StackPaths) -> str:
    """Whether the host already has this stack's .env or data volume (prints 'env', 'volume')."""
    return (
        f"if [ -f {shlex.quote(paths.env_file)} ]; then echo env; fi; "
        f"if docker volume inspect {shlex.quote(paths.db_volume)} >/dev/null 2>&1; "
        "then echo volume; fi; true"
    )


def wait_for_ok(url: str, timeout_seconds: int) -> str:
    """Poll url until it answers exactly `OK`; exit 1 when timeout_seconds pass first."""
    quoted = shlex.quote(url)
    return (
        f"deadline=$(( $(date +%s) + {int(timeout_seconds)} )); "
        f'while [ "$(date +%s)" -lt "$deadline" ]; do '
        f'[ "$(curl --silent --max-time 5 {quoted} 2>/dev/null)" = OK ] && exit 0; '
        "sleep 2; done; exit 1"
    )


def http_body(url: str) -> str:
    return f"curl --silent --max-time 5 {shlex.quote(url)} 2>/dev/null || true"


def http_answer(url: str) -> str:
    """The body and status code url answers with, for an error message."""
    return (
        f"curl --silent --max-time 5 --write-out ' (HTTP %{{http_code}})' {shlex.quote(url)} "
        "2>/dev/null || true"
    )
