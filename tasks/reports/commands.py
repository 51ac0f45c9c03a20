"""Pure command builders of the reports: the services' logs and the status report."""

from __future__ import annotations

import shlex

from tasks.host.probes import DOCKER_API, http_status_probe
from tasks.settings import Settings
from tasks.stack.commands import compose
from tasks.stack.layout import SERVICES, StackPaths


def logs_command(paths: StackPaths, settings: Settings) -> str:
    """logs.py: the services' logs as the logs_* settings ask."""
    arguments = ["logs", "--no-color", "--timestamps", f"--tail {settings.logs_lines}"]
    if settings.logs_since:
        arguments.append(f"--since {shlex.quote(settings.logs_since)}")
    if settings.logs_follow:
        arguments.append("--follow")
    services = SERVICES if settings.logs_service == "all" else (settings.logs_service,)
    return compose(paths, *arguments, *services)


def status_report(paths: StackPaths, url: str) -> str:
    """For status.py: `inspect <json>` per container (chosen fields only: the full inspect
    output holds the environment, secrets included), `images <json>`, `status <body>`."""
    fields = (
        '{"service": {{json (index .Config.Labels "com.docker.compose.service")}}, '
        '"state": {{json .State.Status}}, '
        '"health": {{if .State.Health}}{{json .State.Health.Status}}{{else}}""{{end}}, '
        '"image": {{json .Config.Image}}, "image_id": {{json .Image}}, '
        '"started_at": {{json .State.StartedAt}}}'
    )
    return (
        "docker ps --all --quiet "
        f"--filter label=com.docker.compose.project={shlex.quote(paths.project)} "
        f"| xargs -r docker inspect --format {shlex.quote(fields)} | sed 's/^/inspect /'; "
        f"printf 'images '; {DOCKER_API} http://localhost/images/json; echo; "
        f"{http_status_probe(url)}"
    )
