"""Pure command builders of the reports: the services' logs and the status report.

Both read the stack's containers from Docker's API on its socket, not with the
`docker` CLI: `docker compose` costs about 150 ms of CPU per run and each `docker`
command 20 to 60 ms, and status.py and logs.py run on every host. The logs are read by
a perl of their own (files/docker-logs.pl), which streams them; the status report asks
with deploy.py's perl (files/host-read.pl), which reads whole answers only. curl would
cost the host about 10 ms of CPU more each time: it loads some 35 libraries."""

from __future__ import annotations

import shlex

from tasks.host.probes import DOCKER_SOCKET_PATH, host_read
from tasks.project import script_text
from tasks.proxy.commands import certificate_probe
from tasks.settings import Settings
from tasks.stack.commands import (
    compose_project_urls,
    containers_url,
    deployed_condition,
    no_stack_reason,
)
from tasks.stack.layout import PROXY_SERVICE, SERVICES, StackPaths

# What the status report keeps of each container's inspect document; the rest stays on
# the host (the document holds the environment, secrets included).
INSPECTED_FIELDS = r'"(StartedAt|Image)":"[^"]*"|"Health":\{"Status":"[^"]*"'


def logged_services(settings: Settings) -> tuple[str, ...]:
    """The services whose logs logs.py shows: logs_service, or every one of the stack."""
    every = SERVICES + ((PROXY_SERVICE,) if settings.prisma_domain else ())
    return every if settings.logs_service == "all" else (settings.logs_service,)


def docker_logs_script() -> str:
    """files/docker-logs.pl, which lists each service's containers, reads their logs from
    Docker's API, removes the 8-byte frames of Docker's log streams and prefixes each line
    (perl-base is Essential on Debian and Ubuntu: every supported host has perl)."""
    return script_text("docker-logs.pl")


# How --since is given to Docker's API: seconds since the epoch.
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _since_seconds(since: str) -> str:
    """Shell: $since, logs_since in seconds since the epoch, as `docker logs --since`
    reads it on the host (a timestamp without a zone in the host's time)."""
    if since[-1] in _DURATION_SECONDS:
        seconds = int(since[:-1]) * _DURATION_SECONDS[since[-1]]
        return f"since=$(( $(date +%s) - {seconds} ))"
    return f"since=$(date -d {shlex.quote(since)} +%s) || exit 1"


def _logs_query(settings: Settings) -> str:
    """Shell: the query of every container's logs URL, as the logs_* settings ask."""
    query = f"stdout=1&stderr=1&timestamps=1&tail={int(settings.logs_lines)}"
    if settings.logs_since:
        query += "&since=$since"
    if settings.logs_follow:
        query += "&follow=1"
    return f'"{query}"'


def logs_command(paths: StackPaths, settings: Settings) -> str:
    """logs.py: the services' logs as the logs_* settings ask, read from Docker's API by
    one perl (files/docker-logs.pl: the containers of each service, then their logs, side
    by side when followed, since following never ends), each line prefixed with the
    container's name as `docker compose logs` prefixes it ("prisma-db  | "); exits
    non-zero when Docker or a container fails. `docker logs` cost the host about 20 ms
    of CPU per container; two curls, a grep and a perl about 33 ms for all of them; the
    one perl about 9."""
    # Compose leaves one-off containers (`compose run`) out of the logs.
    labels = ("com.docker.compose.oneoff=False",)
    urls = {
        service: containers_url(paths.project, *labels, f"com.docker.compose.service={service}")
        for service in logged_services(settings)
    }
    lists = " ".join(f"{shlex.quote(service)} {shlex.quote(url)}" for service, url in urls.items())
    since = f"{_since_seconds(settings.logs_since)}; " if settings.logs_since else ""
    return (
        f"{since}exec perl -e {shlex.quote(docker_logs_script())} {DOCKER_SOCKET_PATH} "
        f"{shlex.quote(paths.project)} {_logs_query(settings)} {lists}"
    )


def status_report(paths: StackPaths, url: str, domain: str = "") -> str:
    """For status.py: the stack's containers, the images and what GET url answers, each
    answer followed by `answered <url>` (`answered status` for url), then each
    container's INSPECTED_FIELDS alone, followed by `answered <its url>`: one
    host_read(), as deploy.py's read. With a domain, `certificate <not after> <issuer>`
    per certificate the proxy keeps. Two perls, two greps and a subshell did the same
    for about 9 ms more of the host's CPU."""
    read = host_read(compose_project_urls(paths), url, inspect_fields=INSPECTED_FIELDS)
    return f"{read}; true" + (f"; {certificate_probe(paths, domain)}" if domain else "")


def when_deployed(paths: StackPaths, command: str) -> str:
    """command, where deploy.py ran; elsewhere no_stack_reason() on stderr and exit
    status 1 (see found_no_stack()). A report checks in its own round trip: a fact
    checking first took one more, about 10 ms of each host's CPU."""
    reason = shlex.quote(no_stack_reason(paths))
    return f"if {deployed_condition(paths)}; then {command}; else echo {reason} >&2; exit 1; fi"


def found_no_stack(paths: StackPaths, stderr_lines: list[str]) -> bool:
    """Whether a when_deployed() command stopped because deploy.py never ran there."""
    return no_stack_reason(paths) in (line.strip() for line in stderr_lines)
