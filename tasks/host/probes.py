"""
Shell snippets that read a host and the shape of what they print: tagged lines
(`<tag> <rest>`), several probes run side by side, the Docker API on its socket and an
HTTP answer seen from the host itself.
"""

from __future__ import annotations

import json
import shlex
import urllib.parse
from collections.abc import Iterator

import msgspec

from tasks.project import script_text

# The Docker API read with curl on its socket: a tenth of the time of `docker` commands.
DOCKER_SOCKET_PATH = "/var/run/docker.sock"
DOCKER_SOCKET = f"--unix-socket {DOCKER_SOCKET_PATH}"
DOCKER_API = f"curl --silent --max-time 10 {DOCKER_SOCKET}"
# curl prints, after each answer of several URLs in one run, `answered <url>` (see
# api_answers()): one curl costs the host about 10 ms of CPU however many URLs it asks.
ANSWERED = "answered"
ANSWERED_WRITE_OUT = "--write-out " + shlex.quote("\\n" + ANSWERED + " %{url_effective}\\n")
_SECTION = "--- probe"
# host_read()'s labels for what it read beside the answers.
PACKAGES = "packages"
PATHS = "paths"


def tagged(lines: list[str]) -> Iterator[tuple[str, str, list[str]]]:
    """(tag, rest of the line, its words) for each line a probe printed."""
    for line in lines:
        tag, _, rest = line.strip().partition(" ")
        yield tag, rest, rest.split()


def in_one_shell(probes: list[str], reader: str) -> str:
    """The probes one after the other in this shell, each after a section line (see
    sections()), and a last section line, piped into reader (a host_read() with
    after_input), whose own answers make that last section. The reader runs beside the
    probes, waiting on dockerd and the server while they run, then prints their output
    and its own in one write: line by line, sshd sent about one SSH packet per line or
    two, each encrypted there and decrypted by paramiko. The probes run in this shell
    itself: they are mostly shell built-ins, and a subshell or a temporary file per
    probe would cost the host more than running them side by side saves (each process
    costs it a millisecond or more of CPU, on every run of every host). Before, the
    reader's answers came from the left of the pipe and the shell's were gathered on the
    right by a subshell, a command substitution and `cat`.
    POSIX sh (dash on Debian and Ubuntu); the probes' input is /dev/null, so that none
    of them reads the pipe. bash's process substitution did the same for about 2.5 ms
    more of the host's CPU per read (bash starts, and forks its subshells, slower than
    dash)."""
    section = f"echo {shlex.quote(_SECTION)}"
    in_turn = "; ".join(f"{section}; {probe}" for probe in probes)
    return f"{{ {in_turn}; {section}; }} 2>/dev/null </dev/null | {reader} 2>/dev/null"


def api_place(url: str) -> str:
    """An answered URL as api_answers() keys it: host and path, without the query."""
    parts = urllib.parse.urlsplit(url.strip())
    return parts.netloc + parts.path


def api_answers(lines: list[str]) -> dict[str, list[str]]:
    """The answers of a curl run with ANSWERED_WRITE_OUT: per api_place() of the URL, the
    lines printed before its `answered <url>` line (lines after the last one are not an
    answer)."""
    answers: dict[str, list[str]] = {}
    pending: list[str] = []
    for line in lines:
        if line.startswith(ANSWERED + " "):
            answers[api_place(line.removeprefix(ANSWERED + " "))] = pending
            pending = []
        else:
            pending.append(line)
    return answers


def api_list(lines: list[str]) -> list[dict]:
    """A Docker API list from its answer (an error's message, a cut answer or none read
    as empty)."""
    try:
        found = json.loads("".join(lines) or "[]")
    except ValueError:
        return []
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def after_answers(lines: list[str]) -> list[str]:
    """The lines printed after the last `answered <url>` line (all when none)."""
    marks = [index for index, line in enumerate(lines) if line.startswith(ANSWERED + " ")]
    return lines[marks[-1] + 1 :] if marks else lines


def one_line(lines: list[str]) -> str:
    """An HTTP body as the reports show it: its first 200 characters, on one line."""
    return "\n".join(lines)[:200].replace("\n", " ").strip()


def sections(lines: list[str], count: int) -> list[list[str]]:
    """The output of in_one_shell(), `count` sections (the reader's last), split back
    into one list per section."""
    parts: list[list[str]] = []
    for line in lines:
        if line.strip() == _SECTION:
            parts.append([])
        elif parts:
            parts[-1].append(line)
    return parts + [[] for _ in range(count - len(parts))]


def file_lines_probe(path: str, prefix: str = "") -> str:
    """Each line of a file (none when it is missing), after prefix, a last line without
    a newline included: shell built-ins only, where `sed` or `grep` would be a process
    on every run."""
    quoted = shlex.quote(path)
    return (
        f'[ -f {quoted} ] && while IFS= read -r line || [ -n "$line" ]; do '
        f'echo {shlex.quote(prefix)}"$line"; done < {quoted}'
    )


def host_read(
    docker_urls: tuple[str, ...] | list[str] = (),
    status_url: str = "",
    packages: tuple[str, ...] = (),
    paths: tuple[str, ...] | list[str] = (),
    after_input: bool = False,
    inspect_fields: str = "",
) -> str:
    """A perl (files/host-read.pl) that prints, each followed by its `answered` line:
    the paths' kinds and owners (`answered paths`, see tasks/host/paths.py), the
    packages (`answered packages`, see packages_probe()), then GETs each Docker API URL
    on its socket and status_url over TCP, each answer followed by `answered <url>`
    (`answered status` for status_url), as curl with ANSWERED_WRITE_OUT and then
    http_status_curl() print them. inspect_fields: a regex; then each container the
    containers' list among docker_urls names, inspected, only what matches leaving the
    host (one match a line, as `grep -oE` prints them), followed by `answered <its
    url>`. after_input: what comes on its input first, all in one write (see
    in_one_shell()). perl-base is Essential on Debian and Ubuntu: every
    supported host has perl, and one costs a host less than the processes it replaces."""
    status = [f"status={status_url}"] if status_url else []
    wanted = [f"{PACKAGES}={','.join(packages)}"] if packages else []
    arguments = [
        DOCKER_SOCKET_PATH,
        *(["stdin"] if after_input else []),
        *(f"path={path}" for path in paths),
        *wanted,
        *docker_urls,
        *status,
        *([f"inspect={inspect_fields}"] if inspect_fields else []),
    ]
    quoted = " ".join(shlex.quote(argument) for argument in arguments)
    return f"perl -e {shlex.quote(script_text('host-read.pl'))} {quoted}"


def http_get(docker_urls: list[str], status_url: str = "") -> str:
    """host_read() of Docker API URLs and status_url alone: for status.py's report and
    the Compose project's own read. It costs the host about 5 ms of CPU less than curl."""
    return host_read(docker_urls, status_url)


def packages_probe(packages: tuple[str, ...]) -> str:
    """`pkg <name> <version> <status> <architecture>` per package dpkg knows of, as
    `dpkg-query -W -f='pkg ${Package} ${Version} ${db:Status-Abbrev} ${Architecture}\\n'`
    prints them, then `answered packages` (see api_answers()), read from dpkg's status
    file by files/host-read.pl: about 0.5 ms of the host's CPU, where dpkg-query, which
    loads the whole database, costs about 4.5 ms."""
    return host_read(packages=packages)


def http_status_curl(url: str) -> str:
    """curl's options and URL to GET url from the host itself, its answer followed by
    `answered status` (bodies over 64 KiB are not read): for http_status_probe(), where
    curl is alone. deploy.py's read asks the same with http_get()."""
    marker = shlex.quote(f"\n{ANSWERED} status\n")
    return f"--silent --max-time 5 --max-filesize 65536 --write-out {marker} {shlex.quote(url)}"


def http_status_probe(url: str) -> str:
    """What GET url answers from the host itself; see parse_http_status(). Succeeds when
    nothing answers: a fact whose command fails stops the host."""
    return f"curl {http_status_curl(url)} || true"


def parse_http_status(lines: list[str]) -> str:
    """The body http_status_curl() read, on one line ('' when nothing answered)."""
    return status_body(api_answers(lines))


def status_body(answers: dict[str, list[str]]) -> str:
    """The `answered status` answer among api_answers(), on one line ('' for none)."""
    return one_line(answers.get("status", []))


class UnitState(msgspec.Struct, frozen=True):
    enabled: bool = False  # what `systemctl is-enabled` succeeds on
    active: bool = False  # what `systemctl is-active` succeeds on


_ENABLED = frozenset({"enabled", "enabled-runtime", "static", "alias", "indirect", "generated"})
_ACTIVE = frozenset({"active", "reloading", "refreshing"})


def unit_states_probe(units: list[str]) -> str:
    """`Id=`, `ActiveState=` and `UnitFileState=` per unit (full names: docker.service),
    from one `systemctl show`: one process and one call into systemd, where `is-enabled`
    and `is-active` per unit take two of each."""
    names = " ".join(shlex.quote(unit) for unit in units)
    return (
        "systemctl show --property=Id --property=ActiveState --property=UnitFileState "
        f"-- {names} 2>/dev/null"
    )


def parse_unit_states(lines: list[str]) -> dict[str, UnitState]:
    """The units unit_states_probe() printed (systemd starts each with its Id)."""
    properties: dict[str, dict[str, str]] = {}
    unit: dict[str, str] = {}
    for line in lines:
        key, equals, value = line.strip().partition("=")
        if not equals:
            continue
        if key == "Id":
            unit = properties.setdefault(value, {})
        elif key in ("ActiveState", "UnitFileState"):
            unit[key] = value
    return {
        name: UnitState(
            enabled=found.get("UnitFileState") in _ENABLED,
            active=found.get("ActiveState") in _ACTIVE,
        )
        for name, found in properties.items()
    }
