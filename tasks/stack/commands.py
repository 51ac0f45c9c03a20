"""
Pure command builders of the stack: each returns the shell command for one action on the
host and runs nothing. Operations decide where and when to run them; unit tests assert
the exact strings.
"""

from __future__ import annotations

import json
import shlex
import urllib.parse

from tasks.stack.envfile import ENV_KEYS
from tasks.stack.layout import DB_CONTAINER, SERVICES, StackPaths


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


def deployed_condition(paths: StackPaths) -> str:
    """Shell, in built-ins alone: true where deploy.py ran (docker-compose.yml and .env
    both there). The lifecycle files need it before they act on the stack."""
    return f"[ -e {shlex.quote(paths.compose_file)} ] && [ -e {shlex.quote(paths.env_file)} ]"


def no_stack_reason(paths: StackPaths) -> str:
    """Why a lifecycle file stops on a host where deploy.py never ran."""
    return f"no Prisma stack in {paths.directory}; run deploy.py first"


def containers_url(project: str, *labels: str) -> str:
    """Docker API: the project's containers, stopped ones too, with these labels as well."""
    every = [f"com.docker.compose.project={project}", *labels]
    filters = json.dumps({"label": every}, separators=(",", ":"))
    return f"http://localhost/containers/json?all=1&filters={urllib.parse.quote(filters)}"


def compose_project_urls(paths: StackPaths) -> list[str]:
    """The Docker API URLs of the project's containers and of the host's images: what
    deploy.py's read and status.py's report ask."""
    return [containers_url(paths.project), "http://localhost/images/json"]


def desired_hashes(paths: StackPaths) -> str:
    """`hash <service> <config hash>` lines: what Compose wants for the files on the host."""
    return f"{compose(paths, 'config --hash', shlex.quote('*'))} | sed 's/^/hash /'"


def compose_up(paths: StackPaths) -> str:
    """`compose up`, then record_written()."""
    up = compose(paths, "up --detach --remove-orphans --quiet-pull")
    return f"{up} && {record_written(paths)}"


def record_written(paths: StackPaths) -> str:
    """Record which files the stack converged to and the hashes Compose wants for them.

    The record lets the next run skip `compose config` (the slowest part of reading the
    stack) while docker-compose.yml and .env stay byte for byte the same, and tells a
    file edited on the host by hand from one this deploy changed. compose_up() writes it;
    stack_converged() writes it alone where the containers match and it does not.
    """
    record = shlex.quote(paths.hashes_file)
    files = f"{shlex.quote(paths.compose_file)} {shlex.quote(paths.env_file)}"
    return (
        f"{{ {desired_hashes(paths)}; sha256sum {files} | sed 's/^/recorded /'; }} > {record}.new "
        f"&& mv {record}.new {record}"
    )


def recorded_hashes(paths: StackPaths, digests_read: bool = False) -> str:
    """Shell: the record's `hash` lines, and recorded=1, while each of its two `recorded`
    lines (what sha256sum printed for the files after compose_up()'s last success) is
    what `sha256sum --tag` says of them now: in $sums when digests_read (a path_probe()
    of both files ran before in this shell), else from a sha256sum of its own. A record
    written before 2026-11-29 also has a `files <digest>` line (both files together),
    which nothing reads any more."""
    record = shlex.quote(paths.hashes_file)
    files = f"{shlex.quote(paths.compose_file)} {shlex.quote(paths.env_file)}"
    digests = "" if digests_read else f"sums=$(sha256sum --tag -- {files} 2>/dev/null); "
    # 64 hex digits, two spaces and a path, as sha256sum prints a file's line.
    summed = '"recorded "' + "?" * 64 + '"  "?*'
    return (
        f"recorded=; if [ -f {record} ]; then {digests}same=0; other=; "
        f"while IFS= read -r line; do case $line in {summed}) "
        "digest=${line#recorded }; file=${digest#*  }; digest=${digest%%  *}; "
        'case $sums in *"SHA256 ($file) = $digest"*) same=$((same + 1));; '
        "*) other=1;; esac;; "
        '"recorded "*) other=1;; '
        f"esac; done < {record}; "
        '[ "$same" = 2 ] && [ -z "$other" ] && recorded=1 && '
        "while IFS= read -r line; do case $line in "
        f'"hash "*) echo "$line";; esac; done < {record}; fi'
    )


def compose_logs(paths: StackPaths, tail: int) -> str:
    """The last `tail` lines of both services (for an error message)."""
    return compose(paths, f"logs --no-color --timestamps --tail {int(tail)}", *SERVICES)


def wait_for_ok(url: str, timeout_seconds: int) -> str:
    """Poll url until it answers exactly `OK`; exit 1 when timeout_seconds pass first."""
    quoted = shlex.quote(url)
    return (
        f"deadline=$(( $(date +%s) + {int(timeout_seconds)} )); "
        f'while [ "$(date +%s)" -lt "$deadline" ]; do '
        f'[ "$(curl --silent --max-time 5 {quoted} 2>/dev/null)" = OK ] && exit 0; '
        "sleep 0.5; done; exit 1"
    )


def http_answer(url: str) -> str:
    """The body and status code url answers with, for an error message."""
    return (
        f"curl --silent --max-time 5 --write-out ' (HTTP %{{http_code}})' {shlex.quote(url)} "
        "2>/dev/null || true"
    )


def database_login(password_file: str) -> str:
    """Log in to the running database as root with the password in password_file (read
    inside the container from stdin: never on a command line), then remove the file."""
    quoted = shlex.quote(password_file)
    login = 'MYSQL_PWD="$(cat)" exec mysql --user=root --batch --skip-column-names -e "SELECT 1"'
    return (
        f"docker exec -i {DB_CONTAINER} sh -c {shlex.quote(login)} < {quoted}; "
        f"status=$?; rm -f {quoted}; exit $status"
    )
