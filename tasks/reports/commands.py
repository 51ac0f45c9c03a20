"""Pure command builders of the reports: the services' logs and the status report.

Both read the stack's containers from Docker's API on its socket, not with the
`docker` CLI: `docker compose` costs about 150 ms of CPU per run and each `docker`
command 20 to 60 ms, and status.py and logs.py run on every host. The logs stream
through curl (about 10 ms); the status report asks with deploy.py's perl
(files/http-get.pl, a few ms), which reads whole answers only."""

from __future__ import annotations

import shlex

from tasks.host.probes import ANSWERED, DOCKER_API, DOCKER_SOCKET, http_get
from tasks.project import script_text
from tasks.proxy.commands import certificate_probe
from tasks.settings import Settings
from tasks.stack.commands import containers_url
from tasks.stack.layout import PROXY_SERVICE, SERVICES, StackPaths

# What the status report keeps of each container's inspect document; the rest stays on
# the host (the document holds the environment, secrets included).
INSPECTED_FIELDS = r'"(StartedAt|Image)":"[^"]*"|"Health":\{"Status":"[^"]*"'
# After each answer of a logs read, what files/demux-logs.pl ends it on.
ANSWERED_STATUS = "--write-out " + shlex.quote("\\n" + ANSWERED + " %{http_code}\\n")


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


def demux_logs_script() -> str:
    """files/demux-logs.pl, which removes the 8-byte frames of Docker's log streams and
    prefixes each line (perl-base is Essential on Debian and Ubuntu: every supported host
    has perl)."""
    return script_text("demux-logs.pl")


# How --since is given to Docker's API: seconds since the epoch.
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _since_seconds(since: str) -> str:
    """Shell: $since, logs_since in seconds since the epoch, as `docker logs --since`
    reads it on the host (a timestamp without a zone in the host's time)."""
    if since[-1] in _DURATION_SECONDS:
        seconds = int(since[:-1]) * _DURATION_SECONDS[since[-1]]
        return f"since=$(( $(date +%s) - {seconds} ))"
    return f"since=$(date -d {shlex.quote(since)} +%s) || exit 1"


def _logs_url(settings: Settings) -> str:
    """Shell: the logs URL of container $name, as the logs_* settings ask."""
    query = f"stdout=1&stderr=1&timestamps=1&tail={int(settings.logs_lines)}"
    if settings.logs_since:
        query += "&since=$since"
    if settings.logs_follow:
        query += "&follow=1"
    return f'"http://localhost/containers/$name/logs?{query}"'


def logs_command(paths: StackPaths, settings: Settings) -> str:
    """logs.py: the services' logs as the logs_* settings ask, read from Docker's API
    (one curl for all containers; one per container when followed, since following
    never ends), each line prefixed with the container's name as `docker compose logs`
    prefixes it ("prisma-db  | "); exits non-zero when Docker or a container fails.
    `docker logs` cost the host about 20 ms of CPU per container, curl and perl about
    15 ms for all of them."""
    services = logged_services(settings)
    # Compose leaves one-off containers (`compose run`) out of the logs.
    labels = ("com.docker.compose.oneoff=False",)
    urls = " ".join(
        shlex.quote(containers_url(paths.project, *labels, f"com.docker.compose.service={s}"))
        for s in services
    )
    shown = _shown_name(paths, services)
    # No --max-time: a followed log has no end, and a long one takes its time.
    read = f"curl --silent --show-error {DOCKER_SOCKET} {ANSWERED_STATUS}"
    demux = f"perl -e {shlex.quote(demux_logs_script())}"
    each = (
        # Each followed by its own curl and perl, side by side; the run ends with them.
        # --no-buffer: a followed line is shown when it comes, not when curl's buffer is full.
        f"pids=; for name in $names; do {shown}; {read} --no-buffer {_logs_url(settings)} "
        f'| {demux} "$width" "$shown" & pids="$pids $!"; done; '
        "failed=0; for pid in $pids; do wait $pid || failed=1; done; exit $failed"
        if settings.logs_follow
        else f"set --; shown_names=; for name in $names; do {shown}; "
        f'shown_names="$shown_names $shown"; set -- "$@" {_logs_url(settings)}; done; '
        f'[ $# -eq 0 ] || {read} "$@" | {demux} "$width" $shown_names'
    )
    since = f"{_since_seconds(settings.logs_since)}; " if settings.logs_since else ""
    return (
        f"containers=$({DOCKER_API} --show-error --fail {urls}) || exit 1; "
        'names=$(printf \'%s\' "$containers" | grep -oP \'"Names":\\["/\\K[^"]+\'); '
        f"width=0; for name in $names; do {shown}; "
        '[ "${#shown}" -gt "$width" ] && width=${#shown}; done; width=$((width + 1)); '
        f"{since}{each}"
    )


def status_report(paths: StackPaths, url: str, domain: str = "") -> str:
    """For status.py: the stack's containers, the images and what GET url answers (one
    http_get(), as deploy.py's read: each answer followed by `answered <url>`, and
    `answered status` for url); then for each container only INSPECTED_FIELDS of its
    inspect document, each on its line and followed by `answered <its url>` (a second
    http_get()); and with a domain `certificate <not after> <issuer>` per certificate
    the proxy keeps."""
    listed = http_get([containers_url(paths.project), "http://localhost/images/json"], url)
    return (
        f"listed=$({listed}); "
        'echo "$listed"; urls=; '
        'for id in $(printf \'%s\' "$listed" | grep -oP \'"Id":"\\K[0-9a-f]{64}\'); do '
        'urls="$urls http://localhost/containers/$id/json"; done; '
        f'[ -z "$urls" ] || {http_get([])} $urls '
        f"| grep -oE {shlex.quote(INSPECTED_FIELDS + '|^' + ANSWERED + ' .*')}; true"
    ) + (f"; {certificate_probe(paths, domain)}" if domain else "")
