"""Pure command builders of the reports: the services' logs and the status report.

Both read the stack's containers from Docker's API on its socket with curl, not with
the `docker` CLI: `docker compose` costs about 150 ms of CPU per run and each `docker`
command 20 to 60 ms, curl about 10 ms, and status.py and logs.py run on every host."""

from __future__ import annotations

import shlex

from tasks.host.probes import ANSWERED, ANSWERED_WRITE_OUT, DOCKER_API
from tasks.proxy.commands import certificate_probe
from tasks.settings import Settings
from tasks.stack.commands import containers_url
from tasks.stack.layout import PROXY_SERVICE, SERVICES, StackPaths

# What the status report keeps of each container's inspect document; the rest stays on
# the host (the document holds the environment, secrets included).
INSPECTED_FIELDS = r'"(StartedAt|Image)":"[^"]*"|"Health":\{"Status":"[^"]*"'


def _shown_name(paths: StackPaths, services: tuple[str, ...]) -> str:
    """Shell: $shown, how `docker compose logs` names container $name: without the
    project's prefix when Compose named it, in full when the file names it."""
    named_by_compose = "|".join(
        shlex.quote(f"{paths.project}-{service}-") + "[0-9]*" for service in services
    )
    return (
        f"case $name in {named_by_compose}) shown=${{name#{shlex.quote(paths.project)}-}};; "
        "*) shown=$name;; esac"
    )


def logged_services(settings: Settings) -> tuple[str, ...]:
    """The services whose logs logs.py shows: logs_service, or every one of the stack."""
    every = SERVICES + ((PROXY_SERVICE,) if settings.prisma_domain else ())
    return every if settings.logs_service == "all" else (settings.logs_service,)


def logs_command(paths: StackPaths, settings: Settings) -> str:
    """logs.py: the services' logs as the logs_* settings ask, one `docker logs` per
    container, each line prefixed with the container's name as `docker compose logs`
    prefixes it ("prisma-db  | "); exits non-zero when Docker or a container fails."""
    options = ["--timestamps", f"--tail {settings.logs_lines}"]
    if settings.logs_since:
        options.append(f"--since {shlex.quote(settings.logs_since)}")
    if settings.logs_follow:
        options.append("--follow")
    services = logged_services(settings)
    # Compose leaves one-off containers (`compose run`) out of the logs.
    labels = ("com.docker.compose.oneoff=False",)
    urls = " ".join(
        shlex.quote(containers_url(paths.project, *labels, f"com.docker.compose.service={s}"))
        for s in services
    )
    shown = _shown_name(paths, services)
    # Following never ends: then every container is followed at once, as Compose does.
    after_each = "&" if settings.logs_follow else ";"
    return (
        f"containers=$({DOCKER_API} --show-error --fail {urls}) || exit 1; "
        'names=$(printf \'%s\' "$containers" | grep -oP \'"Names":\\["/\\K[^"]+\'); '
        f"width=0; for name in $names; do {shown}; "
        '[ "${#shown}" -gt "$width" ] && width=${#shown}; done; '
        "failed=$(mktemp); for name in $names; do "
        f"{shown}; prefix=$(printf '%-*s | ' $((width + 1)) \"$shown\"); "
        f'{{ docker logs {" ".join(options)} "$name" 2>&1 || echo "$name" >> "$failed"; }} '
        # -u: a followed line is shown when it comes, not when sed's buffer is full.
        f'| sed -u "s/^/$prefix/" {after_each} done; wait; '
        '[ ! -s "$failed" ]; ok=$?; rm -f "$failed"; exit $ok'
    )


def status_report(paths: StackPaths, url: str, domain: str = "") -> str:
    """For status.py: the stack's containers, the images and what GET url answers (one
    curl: each answer followed by `answered <url>`); then for each container only
    INSPECTED_FIELDS of its inspect document, each on its line and followed by
    `answered <its url>`; and with a domain `certificate <not after> <issuer>` per
    certificate the proxy keeps."""
    answered = ANSWERED_WRITE_OUT
    return (
        f"listed=$({DOCKER_API} {answered} {shlex.quote(containers_url(paths.project))} "
        "http://localhost/images/json "
        # --next: the status URL is asked over TCP, not on Docker's socket.
        f"--next --silent --max-time 5 {answered} {shlex.quote(url)}); "
        'echo "$listed"; urls=; '
        'for id in $(printf \'%s\' "$listed" | grep -oP \'"Id":"\\K[0-9a-f]{64}\'); do '
        'urls="$urls http://localhost/containers/$id/json"; done; '
        f'[ -z "$urls" ] || {DOCKER_API} {answered} $urls '
        f"| grep -oE {shlex.quote(INSPECTED_FIELDS + '|^' + ANSWERED + ' .*')}; true"
    ) + (f"; {certificate_probe(paths, domain)}" if domain else "")
