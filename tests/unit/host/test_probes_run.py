"""
The host read's shell, run on this machine under sh (dash here, as on Debian and Ubuntu,
where the read runs) and bash: what it prints must parse back to what is there. The commands are the
deploy's own; what runs on a host end to end is tested in tests/e2e.
"""

from __future__ import annotations

import datetime
import hashlib
import http.server
import json
import os
import shlex
import shutil
import socket
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import ClassVar

import pytest

from tasks.host.paths import PathState, path_probe, paths_in
from tasks.host.probes import (
    ANSWERED_WRITE_OUT,
    DOCKER_SOCKET_PATH,
    PACKAGES,
    api_answers,
    file_lines_probe,
    host_read,
    http_get,
    http_status_curl,
    http_status_probe,
    in_one_shell,
    packages_probe,
    parse_http_status,
    sections,
)
from tasks.reports.commands import status_report
from tasks.reports.status import service_statuses
from tasks.stack.commands import compose_up, record_written
from tasks.stack.facts import (
    compose_project_probe,
    parse_compose_project,
    parse_stack_files,
    stack_files_probe,
)
from tasks.stack.layout import StackPaths
from tests.unit.unix_http import UnixHTTPServer

SHELLS = ["sh", "bash"]


def run(command: str, shell: str = "sh", env: dict[str, str] | None = None) -> list[str]:
    done = subprocess.run(
        [shell, "-c", command], capture_output=True, text=True, env=env, check=False
    )
    return done.stdout.splitlines()


def owner(path: Path) -> tuple[str, str]:
    import grp
    import pwd

    status = path.lstat()
    return pwd.getpwuid(status.st_uid).pw_name, grp.getgrgid(status.st_gid).gr_name


@pytest.mark.parametrize("shell", SHELLS)
def test_paths_are_read_with_one_perl_and_one_sha256sum(tmp_path, shell):
    directory = tmp_path / "a dir"
    directory.mkdir(mode=0o750)
    directory.chmod(0o750)
    secret = directory / ".env"
    secret.write_text("KEY=value\n")
    secret.chmod(0o600)
    link = tmp_path / "link"
    link.symlink_to(secret)
    special = tmp_path / "special"  # setuid, setgid and sticky bits, as stat's %a shows
    special.write_text("")
    special.chmod(0o7755)
    missing = tmp_path / "missing"
    paths = [str(p) for p in (directory, secret, link, special, missing)]
    probe = path_probe(paths)
    assert probe.count("perl -e") == 1 and probe.count("sha256sum") == 1
    assert "stat -c" not in probe
    lines = run(probe, shell)
    found = paths_in(lines)
    user, group = owner(secret)
    digest = hashlib.sha256(b"KEY=value\n").hexdigest()
    assert found[str(directory)] == PathState("directory", 750, user, group, "")
    assert found[str(secret)] == PathState("file", 600, user, group, digest)
    # A link: the kind and content of its target, its own mode (as stat without -L).
    assert found[str(link)].kind == "file" and found[str(link)].sha256 == digest
    assert found[str(link)].mode == 777
    assert found[str(special)].mode == 7755
    assert not found[str(missing)].exists
    # The perl prints what `stat` printed for the same paths.
    existing = " ".join(shlex.quote(path) for path in paths[:-1])
    stat = run(f"stat -c 'path-stat %n %a %U %G' -- {existing}")
    assert [line for line in lines if line.startswith("path-stat ")] == stat


@pytest.mark.parametrize("shell", SHELLS)
def test_no_sha256sum_runs_when_no_file_exists(tmp_path, shell):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    trace = tmp_path / "ran"
    for tool in ("stat", "sha256sum"):
        fake = bin_dir / tool
        fake.write_text(f"#!/bin/sh\necho {tool} >> {trace}\n")
        fake.chmod(0o755)
    (tmp_path / "y").mkdir(mode=0o755)
    (tmp_path / "y").chmod(0o755)
    probe = path_probe([str(tmp_path / "x"), str(tmp_path / "y")])
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    user, group = owner(tmp_path / "y")
    assert paths_in(run(probe, shell, env)) == {
        str(tmp_path / "x"): PathState(),
        str(tmp_path / "y"): PathState("directory", 755, user, group),
    }
    assert not trace.exists()


@pytest.mark.parametrize("shell", SHELLS)
def test_probes_come_back_in_order_the_readers_answers_last_and_beside_them(tmp_path, shell):
    started = tmp_path / "reader started"
    with _serving(tmp_path, {"/started": (200, b"yes", "")}) as (socket_path, _port):
        # The reader starts beside the probes; the second probe waits until it has
        # answered (at most 10 s): it would never see it if they ran one after the other.
        reader = _on(socket_path, host_read(["http://localhost/started"], after_input=True))
        reader = f"{{ touch {shlex.quote(str(started))}; {reader}; }}"
        waits = (
            f"i=0; while [ ! -e {shlex.quote(str(started))} ] && [ $i -lt 1000 ]; "
            "do sleep 0.01; i=$((i+1)); done"
        )
        # The third probe reads its input: the reader's input is not there to take.
        probes = [
            "echo first",
            f"{waits}; [ -e {shlex.quote(str(started))} ] && echo saw it; echo oops >&2",
            "cat >/dev/null",
        ]
        lines = run(in_one_shell(probes, reader), shell)
    assert sections(lines, 4) == [
        ["first"],
        ["saw it"],
        [],
        ["yes", "answered http://localhost/started"],
    ]


@pytest.mark.skipif(
    shutil.which("strace") is None and not os.environ.get("CI"),
    reason="needs strace (scripts/test installs it; CI requires it)",
)
def test_the_reader_prints_its_input_first_and_everything_in_one_write(tmp_path):
    """strace shows the perl's writes: one, however many lines its input and its own
    answers have (line by line, sshd sent an SSH packet for every line or two)."""
    trace = tmp_path / "trace"
    reader = host_read(paths=[str(tmp_path)], after_input=True)
    command = f"seq 1 200 | strace -f -e trace=write -o {shlex.quote(str(trace))} {reader}"
    lines = run(command)
    assert lines[:200] == [str(number) for number in range(1, 201)]
    assert lines[200:] == [f"path {tmp_path} directory", *lines[201:-1], "answered paths"]
    writes = [line for line in trace.read_text().splitlines() if " write(1, " in line]
    assert len(writes) == 1, writes


@pytest.mark.parametrize("shell", SHELLS)
def test_a_files_lines_are_printed_after_a_prefix(tmp_path, shell):
    record = tmp_path / "applied"
    assert run(file_lines_probe(str(record), "applied "), shell) == []
    record.write_text("abc def\n  spaced\n")
    assert run(file_lines_probe(str(record), "applied "), shell) == [
        "applied abc def",
        "applied   spaced",
    ]
    record.write_text("first\nno newline at the end")
    assert run(file_lines_probe(str(record), "applied "), shell) == [
        "applied first",
        "applied no newline at the end",
    ]


@pytest.mark.parametrize("shell", SHELLS)
def test_a_body_is_read_on_one_line_and_nothing_when_nothing_answers(tmp_path, shell):
    body = tmp_path / "body"
    body.write_text("line one\nline * two\n" + "x" * 300)
    answer = parse_http_status(run(http_status_probe(body.as_uri()), shell))
    assert answer.startswith("line one line * two xxx") and len(answer) == 200
    assert parse_http_status(run(http_status_probe("http://127.0.0.1:9/status"), shell)) == ""
    nothing = subprocess.run([shell, "-c", http_status_probe("http://127.0.0.1:9/status")])
    assert nothing.returncode == 0  # a fact whose command fails stops the host


@pytest.mark.parametrize("shell", SHELLS)
def test_the_stack_directorys_entries_dot_files_and_dangling_links_included(tmp_path, shell):
    paths = StackPaths(str(tmp_path), "prisma")
    (tmp_path / "docker-compose.yml").write_text("services: {}\n")
    (tmp_path / ".env").write_text("A=1\n")
    (tmp_path / "..odd").write_text("")
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere")
    found = parse_stack_files(run(stack_files_probe(paths), shell))
    assert found.entries == {"docker-compose.yml", ".env", "..odd", "gone"}
    assert found.path(paths.env_file).has_content("A=1\n")


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs coreutils")
def test_compose_is_asked_for_hashes_only_when_the_files_left_the_record(tmp_path):
    """compose_up() writes the record the host read keys on: they must agree, or every
    run pays for `docker compose config`."""
    paths = StackPaths(str(tmp_path), "prisma")
    Path(paths.compose_file).write_text("services: {}\n")
    Path(paths.env_file).write_text("A=1\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(
        '#!/bin/sh\ncase "$*" in *"config --hash"*) echo "prisma-db h-compose";; esac\n'
    )
    docker.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    assert run(compose_up(paths), "sh", env) == []
    Path(docker).write_text(
        '#!/bin/sh\ncase "$*" in *"config --hash"*) echo "prisma-db h-new";; esac\n'
    )
    read = parse_compose_project(run(compose_project_probe(paths), "sh", env))
    assert read.desired_hashes == {"prisma-db": "h-compose"}  # from the record
    assert not read.compose_asked
    record = Path(paths.hashes_file).read_text()
    assert [line.split()[0] for line in record.splitlines()] == ["hash", "recorded", "recorded"]
    # A record from before 2026-11-29 has a line of both files' digest: still taken.
    Path(paths.hashes_file).write_text(f"files {'0' * 64}\n{record}")
    read = parse_compose_project(run(compose_project_probe(paths), "sh", env))
    assert read.desired_hashes == {"prisma-db": "h-compose"}
    for tampered in (
        record.replace("recorded ", "recorded 0", 1),  # a digest that is not the file's
        record + f"recorded {'0' * 64}  /elsewhere\n",  # a third file
        "\n".join(line for line in record.splitlines() if "/.env" not in line) + "\n",
        record.replace("  ", " "),  # not sha256sum's line
    ):
        Path(paths.hashes_file).write_text(tampered)
        read = parse_compose_project(run(compose_project_probe(paths), "sh", env))
        assert read.desired_hashes == {"prisma-db": "h-new"}, tampered  # Compose asked
        assert read.compose_asked, tampered  # and the deploy will write the record again
    Path(paths.hashes_file).write_text(record)
    Path(paths.env_file).write_text("A=2\n")
    read = parse_compose_project(run(compose_project_probe(paths), "sh", env))
    assert read.desired_hashes == {"prisma-db": "h-new"}  # the files changed: Compose asked
    assert read.compose_asked
    # stack_converged()'s record alone, where the containers match: read from it again.
    assert run(record_written(paths), "sh", env) == []
    read = parse_compose_project(run(compose_project_probe(paths), "sh", env))
    assert read.desired_hashes == {"prisma-db": "h-new"} and not read.compose_asked


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="needs dpkg")
def test_the_engine_probe_reads_this_machines_architecture_and_memory():
    from tasks.engine.facts import engine_probe, parse_engine

    found = parse_engine(run(engine_probe(), "sh"))
    native = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True)
    assert found.architecture == native.stdout.strip()
    assert found.memory_bytes > 0 and found.platform.distro


DPKG_QUERY = "dpkg-query -W -f='pkg ${Package} ${Version} ${db:Status-Abbrev} ${Architecture}\\n' "
# A status file as dpkg writes it: one stanza per package (and architecture), a blank
# line between; continuation lines start with a space.
DPKG_STATUS = """\
Package: dpkg
Status: install ok installed
Maintainer: m
Architecture: arm64
Version: 1.22.21
Description: the package manager

Package: docker.io
Status: install ok installed
Maintainer: m
Architecture: arm64
Version: 26.1.5+dfsg1-9
Description: a description
 that goes on, Package: runc

Package: containerd
Status: deinstall ok config-files
Maintainer: m
Architecture: arm64
Version: 1.7.24

Package: runc
Status: install reinstreq half-configured
Maintainer: m
Architecture: arm64
Version: 1.1.15

Package: curl
Status: install ok installed
Maintainer: m
Architecture: arm64
Multi-Arch: same
Version: 8.14.1

Package: curl
Status: install ok installed
Maintainer: m
Architecture: armhf
Multi-Arch: same
Version: 8.14.1

Package: unasked
Status: install ok installed
Maintainer: m
Architecture: all
Version: 1
"""


def package_lines_of(lines: list[str]) -> list[str]:
    """The `pkg` lines of a packages_probe(), as the whole host's read finds them."""
    return api_answers(lines).get(PACKAGES, [])


ASKED = ("dpkg", "docker.io", "containerd", "runc", "curl", "docker-ce")


def _dpkg_database(tmp_path: Path) -> dict[str, str]:
    """A dpkg database of DPKG_STATUS, and the environment that points dpkg-query (and
    the packages probe) at it."""
    database = tmp_path / "dpkg"
    (database / "updates").mkdir(parents=True)
    (database / "info").mkdir()
    (database / "status").write_text(DPKG_STATUS)
    return {**os.environ, "DPKG_ADMINDIR": str(database)}


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="needs dpkg")
def test_the_packages_probe_prints_what_dpkg_query_prints(tmp_path):
    """Read from the status file, as dpkg-query reads it: installed, config files only,
    half-configured and needing a reinstall, two architectures of one package; not the
    package no one asked for, nor one only named in another's description."""
    env = _dpkg_database(tmp_path)
    asked = run(packages_probe(ASKED), env=env)
    assert package_lines_of(asked) == [line for line in asked if line.startswith("pkg ")]
    dpkg_query = run(DPKG_QUERY + " ".join(ASKED), env=env)
    assert sorted(package_lines_of(asked)) == sorted(dpkg_query)
    assert "pkg runc 1.1.15 iFR arm64" in dpkg_query  # the status letters, as dpkg's
    from tasks.engine.facts import parse_engine

    engine = parse_engine(asked)
    assert engine.architecture == "arm64"
    assert engine.packages == {"docker.io": ["26.1.5+dfsg1-9"], "curl": ["8.14.1", "8.14.1"]}


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="needs dpkg")
def test_the_packages_probe_asks_dpkg_query_while_dpkg_has_work_left(tmp_path):
    """An interrupted dpkg leaves stanzas in updates/ that the status file does not hold
    yet: dpkg-query applies them, and so the probe asks it then."""
    env = _dpkg_database(tmp_path)
    update = DPKG_STATUS.split("\n\n")[1].replace("ok installed", "ok unpacked")
    update = update.replace("26.1.5+dfsg1-9", "27.0")
    (Path(env["DPKG_ADMINDIR"]) / "updates" / "0000").write_text(update + "\n")
    asked = package_lines_of(run(packages_probe(ASKED), env=env))
    assert "pkg docker.io 27.0 iU  arm64" in asked
    assert sorted(asked) == sorted(run(DPKG_QUERY + " ".join(ASKED), env=env))


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="needs dpkg")
def test_the_packages_probe_reads_this_machines_database_as_dpkg_query_does():
    """On a real database: every package the status file holds, as dpkg-query prints
    it (dpkg-query also lists names other packages only mention, as `un`)."""
    names = ("dpkg", "python3", "perl-base", "docker-ce", "no-such-package")
    dpkg_query = run(DPKG_QUERY + " ".join(names))
    held = [line for line in dpkg_query if not line.endswith(" un  ")]
    assert any(line.startswith("pkg dpkg ") for line in held)
    assert sorted(package_lines_of(run(packages_probe(names)))) == sorted(held)


def test_a_failed_compose_up_fails_the_command_and_leaves_the_record(tmp_path):
    paths = StackPaths(str(tmp_path), "prisma")
    Path(paths.compose_file).write_text("services: {}\n")
    Path(paths.env_file).write_text("A=1\n")
    Path(paths.hashes_file).write_text("files old\nhash prisma-db h-old\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text('#!/bin/sh\ncase "$*" in *" up "*) exit 1;; *) echo "prisma-db h";; esac\n')
    docker.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    done = subprocess.run(["sh", "-c", compose_up(paths)], env=env, check=False)
    assert done.returncode != 0
    assert Path(paths.hashes_file).read_text() == "files old\nhash prisma-db h-old\n"


class _Answers(http.server.BaseHTTPRequestHandler):
    """Fixed answers by path, as Docker's API and Prisma give them (Content-Length, or
    none and the connection closed, or kept open after the body as HTTP/1.1 may)."""

    answers: ClassVar[dict[str, tuple[int, bytes, str]]] = {}

    def do_GET(self) -> None:
        code, body, how = self.answers.get(self.path.split("?")[0], (404, b'{"message":"?"}', ""))
        if how == "too-late":
            time.sleep(8)  # longer than the reader waits
        self.send_response(code)
        if how != "no-length":
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if how == "keep-open":
            self.wfile.flush()
            time.sleep(8)  # longer than the reader waits: it must stop at Content-Length

    def log_message(self, *args) -> None:
        pass

    def address_string(self) -> str:
        return "unix"


@contextmanager
def _serving(tmp_path: Path, answers: dict[str, tuple[int, bytes, str]]):
    """A Docker API on a socket in tmp_path and an HTTP server on 127.0.0.1, both giving
    answers; yields (socket path, TCP port)."""
    _Answers.answers = answers
    socket_path = str(tmp_path / "docker.sock")
    servers = [
        UnixHTTPServer(socket_path, _Answers),
        http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answers),
    ]
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield socket_path, servers[1].server_address[1]
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


CONTAINERS = [{"State": "running", "Status": "Up (healthy)", "Labels": {}}]
IMAGES = [{"Id": "sha256:1", "RepoTags": ["prisma:1.34"]}]
DOCKER_ANSWERS = {
    "/containers/json": (200, json.dumps(CONTAINERS).encode(), ""),
    "/images/json": (200, json.dumps(IMAGES).encode(), "no-length"),
}


def _on(socket_path: str, probe: str) -> str:
    assert probe.count(DOCKER_SOCKET_PATH) == 1
    return probe.replace(DOCKER_SOCKET_PATH, socket_path)


@pytest.mark.parametrize("shell", SHELLS)
def test_one_perl_reads_dockers_answers_and_the_status(tmp_path, shell):
    paths = StackPaths(str(tmp_path), "prisma-unit")
    answers = {**DOCKER_ANSWERS, "/status": (200, b"OK", "keep-open")}
    with _serving(tmp_path, answers) as (socket_path, port):
        probe = compose_project_probe(paths, status_url=f"http://127.0.0.1:{port}/status")
        assert probe.count("perl ") == 1 and "curl" not in probe
        started = time.monotonic()
        lines = run(_on(socket_path, probe), shell)
        assert time.monotonic() - started < 4  # the kept-open answer ended at its length
    assert parse_http_status(lines) == "OK"
    project = parse_compose_project(lines)
    assert [c.status for c in project.containers] == ["running"]
    assert project.containers[0].health == "healthy"
    assert project.image_id("prisma:1.34") == "sha256:1"
    assert project.desired_hashes == {}  # no files, no record


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_perl_prints_what_curl_printed_for_the_same_answers(tmp_path):
    """What the read printed with curl before: the parsers are unchanged."""
    answers = {**DOCKER_ANSWERS, "/status": (503, b"Not yet\nready", "")}
    urls = ["http://localhost/containers/json?all=1", "http://localhost/images/json"]
    with _serving(tmp_path, answers) as (socket_path, port):
        status = f"http://127.0.0.1:{port}/status"
        curl = (
            f"curl --silent --max-time 10 --unix-socket {socket_path} {ANSWERED_WRITE_OUT} "
            f"{' '.join(shlex.quote(url) for url in urls)} --next {http_status_curl(status)}"
        )
        assert run(_on(socket_path, http_get(urls, status))) == run(curl)


@pytest.mark.parametrize(
    ("answer", "shown"),
    [
        ((200, b"OK", "no-length"), "OK"),
        ((500, b"Internal error", ""), "Internal error"),  # shown, as curl without --fail
        ((200, b"x" * 65536, ""), "x" * 200),
        ((200, b"x" * 65537, ""), ""),  # over 64 KiB: not read, as curl --max-filesize
        ((200, b"x" * 65537, "no-length"), ""),
    ],
)
def test_the_status_answer_is_shown_as_curl_showed_it(tmp_path, answer, shown):
    with _serving(tmp_path, {"/status": answer}) as (socket_path, port):
        probe = http_get([], f"http://127.0.0.1:{port}/status")
        assert parse_http_status(run(_on(socket_path, probe))) == shown


def test_an_answer_that_does_not_come_in_time_is_not_waited_for(tmp_path):
    with _serving(tmp_path, {"/status": (200, b"OK", "too-late")}) as (socket_path, port):
        started = time.monotonic()
        lines = run(_on(socket_path, http_get([], f"http://127.0.0.1:{port}/status")))
        assert 4.5 < time.monotonic() - started < 7.5  # its 5 s, as curl's --max-time 5
    assert lines == ["", "answered status"]


def _compact(document: object) -> bytes:
    """JSON as Docker's API writes it, without spaces: the report picks fields and IDs
    out of the text."""
    return json.dumps(document, separators=(",", ":")).encode()


def test_the_status_report_reads_the_stack_with_one_perl_and_keeps_the_secrets_home(tmp_path):
    """status.py's command: the list, the images and GET /status, then each container's
    inspection, of which only the chosen fields leave the host."""
    container = "a" * 64
    listed = [
        {"Id": container, "Image": "mysql:5.7", "ImageID": "sha256:1", "State": "running",
         "Labels": {"com.docker.compose.service": "prisma-db"}},
    ]  # fmt: skip
    inspected = {
        "Id": container,
        "Image": "sha256:1",
        "State": {"StartedAt": "2026-11-28T10:59:00.5Z", "Health": {"Status": "healthy"}},
        "Config": {"Image": "mysql:5.7", "Env": ["MYSQL_ROOT_PASSWORD=never-printed"]},
    }
    images = [{"Id": "sha256:1", "RepoDigests": ["mysql@sha256:d"]}]
    answers = {
        "/containers/json": (200, _compact(listed), ""),
        "/images/json": (200, _compact(images), "no-length"),
        f"/containers/{container}/json": (200, _compact(inspected), ""),
        "/status": (200, b"OK", "keep-open"),
    }  # fmt: skip
    with _serving(tmp_path, answers) as (socket_path, port):
        command = status_report(
            StackPaths(str(tmp_path), "prisma"), f"http://127.0.0.1:{port}/status"
        )
        assert command.count("perl ") == 1 and "curl" not in command and "| grep" not in command
        lines = run(command.replace(DOCKER_SOCKET_PATH, socket_path))
        # The control: the whole inspection, unfiltered, holds the secret.
        whole = run(
            _on(socket_path, f"{http_get([])} http://localhost/containers/{container}/json")
        )
    assert any("never-printed" in line for line in whole)
    now = datetime.datetime(2026, 11, 28, 12, 0, 0, tzinfo=datetime.timezone.utc)
    rows, body = service_statuses(lines, now)
    assert body == "OK"
    assert [(r.service, r.state, r.image, r.digest, r.health) for r in rows] == [
        ("prisma-db", "running", "mysql:5.7", "sha256:d", "healthy")
    ]
    assert not any("never-printed" in line for line in lines)


def test_nothing_answering_reads_as_no_answers(tmp_path):
    with _serving(tmp_path, {}) as (_, port):
        pass  # closed: the port answers no more
    lines = run(
        _on(
            str(tmp_path / "none.sock"),
            compose_project_probe(
                StackPaths(str(tmp_path), "p"), status_url=f"http://127.0.0.1:{port}/status"
            ),
        )
    )
    assert parse_http_status(lines) == ""
    assert parse_compose_project(lines).containers == ()
    assert [line for line in lines if line.startswith("answered")] == [
        "answered http://localhost/containers/json?all=1&filters=%7B%22label%22%3A%5B%22com."
        "docker.compose.project%3Dp%22%5D%7D",
        "answered http://localhost/images/json",
        "answered status",
    ]


def test_an_ipv6_status_url_is_asked_over_ipv6(tmp_path):
    class Server6(http.server.ThreadingHTTPServer):
        address_family = socket.AF_INET6

    try:
        server = Server6(("::1", 0), _Answers)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    _Answers.answers = {"/status": (200, b"OK", "")}
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        probe = http_get([], f"http://[::1]:{server.server_address[1]}/status")
        assert parse_http_status(run(probe)) == "OK"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("shell", SHELLS)
def test_systemd_is_asked_about_docker_only_when_files_do_not_prove_it_running(tmp_path, shell):
    from tasks.engine.facts import docker_unit_probe
    from tasks.host.probes import UnitState, parse_unit_states

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    systemctl = bin_dir / "systemctl"
    systemctl.write_text(
        "#!/bin/sh\necho Id=docker.service; echo ActiveState=inactive; "
        "echo UnitFileState=disabled\n"
    )
    systemctl.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    unit, wanted, mask = tmp_path / "docker.service", tmp_path / "wanted", tmp_path / "mask"
    unit.write_text("[Unit]\n")
    wanted.symlink_to(unit)
    pid_file, proc = tmp_path / "docker.pid", tmp_path / "proc"
    pid_file.write_text("4242")  # dockerd writes it without a newline
    (proc / "4242").mkdir(parents=True)
    comm, cgroup = proc / "4242" / "comm", proc / "4242" / "cgroup"
    comm.write_text("dockerd\n")
    cgroup.write_text("1:name=systemd:/docker/abc/system.slice/docker.service\n")
    probe = docker_unit_probe(str(wanted), (str(mask),), str(pid_file), str(proc))

    def docker_unit() -> UnitState:
        return parse_unit_states(run(probe, shell, env))["docker.service"]

    assert docker_unit() == UnitState(enabled=True, active=True)  # systemctl not asked
    asked = UnitState(enabled=False, active=False)  # what the fake systemctl answers
    for break_it, mend in (
        (lambda: mask.symlink_to("/dev/null"), mask.unlink),
        (wanted.unlink, lambda: wanted.symlink_to(unit)),
        (unit.unlink, lambda: unit.write_text("")),  # a dangling link
        (pid_file.unlink, lambda: pid_file.write_text("4242")),
        (lambda: pid_file.write_text(""), lambda: pid_file.write_text("4242")),
        (lambda: pid_file.write_text("4343"), lambda: pid_file.write_text("4242")),  # gone
        (lambda: comm.write_text("sleep\n"), lambda: comm.write_text("dockerd\n")),
        (
            lambda: cgroup.write_text("0::/user.slice\n"),
            lambda: cgroup.write_text("0::/x/docker.service\n"),
        ),
    ):
        break_it()
        assert docker_unit() == asked
        mend()
        assert docker_unit() == UnitState(enabled=True, active=True)


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="needs dpkg")
@pytest.mark.parametrize("shell", SHELLS)
def test_the_whole_read_comes_back_per_part(tmp_path, shell):
    from tasks.plan.read import PartArguments, WholeHost, WholeHostState

    paths = StackPaths(str(tmp_path / "stack"), "prisma-unit")
    (tmp_path / "stack").mkdir()
    Path(paths.compose_file).write_text("services: {}\n")
    Path(paths.env_file).write_text("A=1\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"  # what Compose says the files want
    docker.write_text('#!/bin/sh\ncase "$*" in *"config --hash"*) echo "prisma-db h";; esac\n')
    docker.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    fact = WholeHost()
    command = fact.command(paths=paths, parts=PartArguments(url="http://127.0.0.1:9/status"))

    def read() -> WholeHostState:
        done = subprocess.run(
            [shell, "-c", command], capture_output=True, text=True, env=env, check=False
        )
        assert done.returncode == 0 and done.stderr == ""
        return fact.process(done.stdout.splitlines())

    found = read()
    assert found.engine.platform.distro and found.engine.architecture and found.engine.memory_bytes
    assert found.stack.files.path(paths.env_file).has_content("A=1\n")
    assert found.stack.files.entries == {"docker-compose.yml", ".env"}
    assert found.stack.status_body == ""  # nothing answers there
    assert found.stack.project.desired_hashes == {"prisma-db": "h"}  # no record: Compose
    assert run(compose_up(paths), "sh", env) == []
    docker.write_text('#!/bin/sh\ncase "$*" in *"config --hash"*) echo "prisma-db new";; esac\n')
    # The record's check uses the digests of the one sha256sum of every path.
    assert read().stack.project.desired_hashes == {"prisma-db": "h"}  # from the record
    Path(paths.env_file).write_text("A=2\n")
    assert read().stack.project.desired_hashes == {"prisma-db": "new"}  # files changed


@pytest.mark.skipif(
    shutil.which("shellcheck") is None and not os.environ.get("CI"),
    reason="needs shellcheck (scripts/test installs it; CI requires it)",
)
def test_the_whole_read_is_posix_sh_in_every_branch():
    """The tests above run the branches a test machine reaches; shellcheck reads all of
    them, with every part on (HTTPS proxy, data volume, off-site backups), for what POSIX
    sh does not have. `test -ef` is allowed: dash, Debian's and Ubuntu's sh, has it."""
    from tasks.plan.read import PartArguments, WholeHost
    from tasks.proxy.config import HttpsCheck
    from tasks.settings import load_settings

    settings = load_settings(
        "posix",
        {
            "prisma_domain": "api.example.com",
            "prisma_data_device": "/dev/disk/by-id/scsi-0DO_Volume_data",
            "backup_repository": "s3:https://s3.example.com/bucket/prisma",
        },
    )
    parts = PartArguments(
        url=settings.health_url,
        https=HttpsCheck.of(settings),
        device=settings.prisma_data_device or "",
        mount=settings.prisma_data_mount,
        schedules=(settings.backup_schedule, settings.backup_verify_schedule),
    )
    command = WholeHost().command(paths=StackPaths.of(settings), parts=parts)
    for probe in ("perl -e", "https://api.example.com", "scsi-0DO_Volume_data", "restic"):
        assert probe in command, probe
    checked = _shellcheck_sh(command, "--exclude=SC3013")
    assert checked.returncode == 0, checked.stdout
    # The positive control: the bash read of before is refused.
    bash_read = 'exec 3< <(echo beside); everything=$(echo first; cat <&3); echo "$everything"'
    refused = _shellcheck_sh(bash_read)
    assert refused.returncode != 0 and "SC3001" in refused.stdout


def _shellcheck_sh(script: str, *options: str) -> subprocess.CompletedProcess:
    """shellcheck's warnings and errors on script as POSIX sh."""
    return subprocess.run(
        ["shellcheck", "--shell=sh", "--severity=warning", *options, "-"],
        input=script,
        capture_output=True,
        text=True,
        check=False,
    )
