"""
Pure command builders: each returns the shell command for one action on the host and
runs nothing. Deploy functions and operations decide where and when to run them; unit
tests assert the exact strings.
"""

from __future__ import annotations

import json
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
    def hashes_file(self) -> str:
        """Record of the last converge: the files' digest and Compose's config hashes."""
        return f"{self.directory}/.compose-hashes"

    @property
    def fingerprint_file(self) -> str:
        """The database password's fingerprint, recorded when the volume was initialised."""
        return f"{self.directory}/.db-password-fingerprint"

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


def _files_digest(paths: StackPaths) -> str:
    files = f"{shlex.quote(paths.compose_file)} {shlex.quote(paths.env_file)}"
    return f"$(cat {files} 2>/dev/null | sha256sum | cut -c1-64)"


def _desired_hashes(paths: StackPaths) -> str:
    return f"{compose(paths, 'config --hash', shlex.quote('*'))} | sed 's/^/hash /'"


def compose_up(paths: StackPaths) -> str:
    """`compose up`, then record which files it converged to and the hashes it used.

    The record lets the next run skip `compose config` (the slowest part of reading the
    stack) while docker-compose.yml and .env stay byte for byte the same, and tells a
    file edited on the host by hand from one this deploy changed.
    """
    record = shlex.quote(paths.hashes_file)
    files = f"{shlex.quote(paths.compose_file)} {shlex.quote(paths.env_file)}"
    return (
        f"{compose(paths, 'up --detach --remove-orphans --quiet-pull')} && "
        f'{{ echo "files {_files_digest(paths)}"; {_desired_hashes(paths)}; '
        f"sha256sum {files} | sed 's/^/recorded /'; }} > {record}.new "
        f"&& mv {record}.new {record}"
    )


def compose_logs(paths: StackPaths, tail: int) -> str:
    return compose(paths, f"logs --no-color --timestamps --tail {int(tail)}", *SERVICES)


DOCKER_API = "curl --silent --max-time 10 --unix-socket /var/run/docker.sock"


def stack_state(paths: StackPaths) -> str:
    """What the converge operation compares, as tagged lines:

    `hash <service> <hash>`: the config hash Compose wants for the files on the host
    (from the record of the last converge while the files are unchanged);
    `containers <json>`: the project's containers, from the Docker API;
    `images <json>`: the local images, from the Docker API.

    The API is read with curl on the socket: a tenth of the time of `docker` commands.
    """
    record = shlex.quote(paths.hashes_file)
    project_filter = json.dumps({"label": [f"com.docker.compose.project={paths.project}"]})
    return (
        f'if [ -f {record} ] && [ "$(head -n 1 {record})" = "files {_files_digest(paths)}" ]; '
        f"then tail -n +2 {record}; "
        f"elif [ -f {shlex.quote(paths.compose_file)} ] && [ -f {shlex.quote(paths.env_file)} ]; "
        f"then {_desired_hashes(paths)}; fi; "
        f"printf 'containers '; {DOCKER_API} -G http://localhost/containers/json "
        f"--data-urlencode all=1 --data-urlencode {shlex.quote('filters=' + project_filter)}; "
        f"printf '\\nimages '; {DOCKER_API} http://localhost/images/json; echo"
    )


def path_states(paths: list[str]) -> str:
    """`path <path> <file|directory|missing> <mode> <user> <group> <sha256|->` per path."""
    quoted = " ".join(shlex.quote(path) for path in paths)
    return (
        f"for p in {quoted}; do "
        'if [ -d "$p" ]; then kind=directory; elif [ -e "$p" ]; then kind=file; '
        'else echo "path $p missing"; continue; fi; '
        'sum=-; [ "$kind" = file ] && sum=$(sha256sum "$p" | cut -d" " -f1); '
        'echo "path $p $kind $(stat -c "%a %U %G" "$p") $sum"; '
        "done"
    )


def stack_files_state(paths: StackPaths) -> str:
    """The stack's directory, compose file and .env, and whether its data volume exists."""
    return (
        path_states([paths.directory, paths.compose_file, paths.env_file])
        + f"; grep -s '^recorded ' {shlex.quote(paths.hashes_file)}"
        + f"; [ -f {shlex.quote(paths.fingerprint_file)} ] "
        + f'&& echo "db-fingerprint $(cat {shlex.quote(paths.fingerprint_file)})"'
        + f"; [ \"$({DOCKER_API} --output /dev/null --write-out '%{{http_code}}' "
        f'http://localhost/volumes/{paths.db_volume})" = 200 ] && echo volume; true'
    )


def engine_state(packages: list[str], paths: list[str]) -> str:
    """OS release, architecture, installed packages, config files and Docker's service."""
    package_format = "pkg ${Package} ${Version} ${db:Status-Abbrev}\\n"
    return (
        '( . /etc/os-release 2>/dev/null; echo "os ${ID:--} ${VERSION_ID:--} '
        '${VERSION_CODENAME:--}" ); '
        'echo "arch $(dpkg --print-architecture 2>/dev/null || echo -)"; '
        f"dpkg-query -W -f='{package_format}' {' '.join(packages)} 2>/dev/null; "
        f"{path_states(paths)}; "
        # dpkg leaves work in updates/ when it was interrupted (a killed run, a reboot).
        '[ -n "$(ls -A /var/lib/dpkg/updates 2>/dev/null)" ] && echo dpkg-interrupted; '
        "if [ -d /run/systemd/system ]; then echo init systemd; "
        "systemctl is-enabled --quiet docker 2>/dev/null && echo enabled; "
        "systemctl is-active --quiet docker 2>/dev/null && echo active; "
        "else echo init sysv; "
        "ls /etc/rc2.d/S*docker >/dev/null 2>&1 && echo enabled; "
        "service docker status >/dev/null 2>&1 && echo active; "
        "fi; true"
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


def http_status_line(url: str) -> str:
    """`status <body>`: what GET url answers from the host itself (empty when nothing)."""
    return (
        f'echo "status $(curl --silent --max-time 5 {shlex.quote(url)} 2>/dev/null '
        "| head -c 200 | tr '\\n' ' ')\""
    )


def http_answer(url: str) -> str:
    """The body and status code url answers with, for an error message."""
    return (
        f"curl --silent --max-time 5 --write-out ' (HTTP %{{http_code}})' {shlex.quote(url)} "
        "2>/dev/null || true"
    )


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
        f"{http_status_line(url)}"
    )


FIREWALL_SCRIPT = "/usr/local/sbin/prisma-firewall"
FIREWALL_UNIT = "/etc/systemd/system/prisma-firewall.service"
FIREWALL_CONFIG = "/etc/default/prisma-firewall"
FIREWALL_PATHS = [FIREWALL_SCRIPT, FIREWALL_UNIT, FIREWALL_CONFIG]


def firewall_state() -> str:
    """The firewall's files, its service, and `fw-rules` when its chains are hooked in."""
    return (
        f"{path_states(FIREWALL_PATHS)}; "
        "systemctl is-enabled --quiet prisma-firewall 2>/dev/null && echo fw-enabled; "
        "systemctl is-active --quiet prisma-firewall 2>/dev/null && echo fw-active; "
        "iptables -w -C INPUT -j PRISMA-INPUT 2>/dev/null "
        "&& iptables -w -C DOCKER-USER -j PRISMA-DOCKER 2>/dev/null && echo fw-rules; true"
    )


APT_LOCKS = (
    "/var/lib/dpkg/lock-frontend",
    "/var/lib/dpkg/lock",
    "/var/lib/apt/lists/lock",
    "/var/cache/apt/archives/lock",
)
# perl-base is essential on Debian and Ubuntu; F_GETLK asks the kernel who holds the
# same fcntl locks apt and dpkg take, without taking them. struct flock as on LP64.
_LOCK_PROBE = r"""use Fcntl;
for my $file (@ARGV) {
    open(my $handle, ">>", $file) or next;
    my $lock = pack("s s x4 q q i x4", F_WRLCK, 0, 0, 0, 0);
    fcntl($handle, F_GETLK, $lock) or next;
    my ($type, $whence, $start, $length, $pid) = unpack("s s x4 q q i x4", $lock);
    next if $type == F_UNLCK;
    my $name = "?";
    if (open(my $comm, "<", "/proc/$pid/comm")) { $name = <$comm>; chomp $name; }
    print "apt-lock $file $pid $name\n";
}"""


def apt_lock_holders() -> str:
    """`apt-lock <file> <pid> <process name>` for each apt/dpkg lock another process holds."""
    return f"perl -e {shlex.quote(_LOCK_PROBE)} {' '.join(APT_LOCKS)}"


def wait_for_apt_locks(timeout_seconds: int) -> str:
    """Wait until no apt/dpkg lock is held; print the holders and exit 1 after the timeout."""
    return (
        f"deadline=$(( $(date +%s) + {int(timeout_seconds)} )); "
        f'while held=$({apt_lock_holders()}); [ -n "$held" ]; do '
        f'if [ "$(date +%s)" -ge "$deadline" ]; then echo "$held"; exit 1; fi; sleep 2; done'
    )


def in_parallel(parts: list[str]) -> str:
    """Run shell snippets concurrently and print their outputs in order: reading a host
    is mostly waiting on docker, systemd and iptables, which need not wait on each other."""
    jobs = " ".join(f'({part}) > "$t/{index}" 2>/dev/null &' for index, part in enumerate(parts))
    return f't=$(mktemp -d) && {{ {jobs} wait; cat "$t"/*; rm -rf "$t"; }}'
