"""logs.py's command and status.py's rows, table and JSON."""

from __future__ import annotations

import datetime
import http.server
import json
import re
import struct
import subprocess
import threading
import urllib.parse
from pathlib import Path
from typing import ClassVar

import pytest

from tasks.host.probes import DOCKER_SOCKET_PATH
from tasks.proxy.commands import certificate_probe
from tasks.reports.commands import logs_command, status_report
from tasks.reports.status import service_statuses, status_document, status_table
from tasks.settings import load_settings
from tasks.stack.layout import StackPaths
from tests.unit.unix_http import UnixHTTPServer

PATHS = StackPaths("/opt/prisma", "prisma")


def test_logs_command_follows_the_settings():
    settings = load_settings(
        "h",
        {"logs_service": "prisma-db", "logs_lines": 5, "logs_since": "10m", "logs_follow": True},
    )
    command = logs_command(PATHS, settings)
    assert '"stdout=1&stderr=1&timestamps=1&tail=5&since=$since&follow=1"' in command
    assert "since=$(( $(date +%s) - 600 ))" in command
    assert "%3Dprisma-db%22" in command and "prisma-database" not in command
    both = logs_command(PATHS, load_settings("h", {}))
    assert '"stdout=1&stderr=1&timestamps=1&tail=100"' in both
    assert "%3Dprisma-db%22" in both and "%3Dprisma-database%22" in both
    assert "&follow" not in both and "since=" not in both
    # One perl lists the containers and reads their logs: no curl, no grep, no docker.
    assert both.count("perl ") == 1
    assert not any(tool in both for tool in ("curl", "grep", "docker logs"))
    stamp = logs_command(PATHS, load_settings("h", {"logs_since": "2026-11-28T10:00:00"}))
    assert "since=$(date -d 2026-11-28T10:00:00 +%s) || exit 1" in stamp
    # Each service's list: the project's containers of that service, one-off ones left out.
    lists = re.findall(r"'http://localhost/containers/json\?all=1&filters=([^']*)'", both)
    assert [json.loads(urllib.parse.unquote(found)) for found in lists] == [
        {"label": [f"com.docker.compose.{key}" for key in ("project=prisma", "oneoff=False", s)]}
        for s in ("service=prisma-db", "service=prisma-database")
    ]


def test_the_status_report_reads_the_certificates_only_with_a_domain():
    with_domain = status_report(PATHS, "u", "prisma.example.com")
    assert with_domain.endswith(f"; {certificate_probe(PATHS, 'prisma.example.com')}")
    assert "certificate" not in status_report(PATHS, "u")


# Stand-in for Docker's API on its socket, answering as Docker does (HTTP/1.1, bodies
# in chunks): each service's container list (prisma-db named in the compose file,
# prisma-database named by Compose) and, for each container's logs, Docker's framed
# stream of two lines (the first on stderr, the second cut in two frames); or a 404
# with Docker's message for the container named FAIL, a stream cut off before its last
# chunk for CUT, and a TTY's unframed log for TTY. With follow=1 it answers once every
# container's log is being read (up to 5 s): read one after the other, the first would
# wait in vain.
class _DockerLogs(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fail = cut = tty = ""
    following: ClassVar[threading.Barrier] = threading.Barrier(2)

    def chunked(self, code: int, pieces: list[bytes], last: bool = True) -> None:
        self.send_response(code)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in pieces:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.flush()
        if last:
            self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        if path == "/containers/json":
            filters = urllib.parse.unquote(query)
            name = "prisma-db" if 'service=prisma-db"' in filters else "prisma-prisma-database-1"
            listed = [{"Id": "1", "Names": [f"/{name}"]}]
            self.chunked(200, [json.dumps(listed, separators=(",", ":")).encode()])
            return
        name = path.split("/")[2]
        if "follow=1" in query:
            self.following.wait(timeout=5)
        if name == self.fail:
            self.chunked(404, [b'{"message":"No such container: ' + name.encode() + b'"}'])
        elif name == self.tty:
            self.chunked(200, [b"2026-11-29T10:00:00.1Z one\r\n2026-11-29T10:00:00.2Z two\r\n"])
        else:
            self.chunked(
                200,
                [
                    _frame(2, f"2026-11-29T10:00:00.000000001Z first of {name}\n".encode()),
                    _frame(1, b"2026-11-29T10:00:00.000000002Z second"),
                    _frame(1, f" of {name}\n".encode()),
                ],
                last=name != self.cut,
            )

    def log_message(self, *args) -> None:
        pass

    def address_string(self) -> str:
        return "unix"


def _frame(stream: int, data: bytes) -> bytes:
    return struct.pack(">BxxxI", stream, len(data)) + data


def _logs_on_fake_docker(
    tmp_path: Path, settings: dict, fail: str = "", cut: str = "", tty: str = ""
) -> tuple[int, str, str]:
    """logs.py's command run by sh against the stand-in: (exit status, stdout, stderr)."""
    _DockerLogs.fail, _DockerLogs.cut, _DockerLogs.tty = fail, cut, tty
    _DockerLogs.following = threading.Barrier(2)
    socket_path = str(tmp_path / "docker.sock")
    server = UnixHTTPServer(socket_path, _DockerLogs)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    command = logs_command(PATHS, load_settings("h", settings))
    assert command.count(DOCKER_SOCKET_PATH) == 1
    try:
        done = subprocess.run(
            ["sh", "-c", command.replace(DOCKER_SOCKET_PATH, socket_path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        server.shutdown()
        server.server_close()
        Path(socket_path).unlink()
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("follow", [False, True])
def test_logs_lines_are_prefixed_as_compose_prefixes_them(tmp_path, follow):
    status, output, errors = _logs_on_fake_docker(tmp_path, {"logs_follow": follow})
    assert status == 0, errors
    # Compose pads every name to the longest shown name plus one, then " | "; the
    # frames' headers are gone and a line cut in two frames is one line.
    assert sorted(output.splitlines()) == [
        "prisma-database-1  | 2026-11-29T10:00:00.000000001Z first of prisma-prisma-database-1",
        "prisma-database-1  | 2026-11-29T10:00:00.000000002Z second of prisma-prisma-database-1",
        "prisma-db          | 2026-11-29T10:00:00.000000001Z first of prisma-db",
        "prisma-db          | 2026-11-29T10:00:00.000000002Z second of prisma-db",
    ]
    status, output, _ = _logs_on_fake_docker(tmp_path, {"logs_service": "prisma-db"})
    assert status == 0 and output.splitlines()[0].startswith("prisma-db  | 2026-"), output


@pytest.mark.parametrize("follow", [False, True])
def test_logs_fail_when_a_container_cannot_be_read_or_docker_does_not_answer(tmp_path, follow):
    settings = {"logs_follow": follow}
    status, output, _ = _logs_on_fake_docker(tmp_path, settings, fail="prisma-db")
    assert status != 0
    assert "prisma-db          | Error response from daemon: No such container: prisma-db" in (
        output
    )
    assert "prisma-database-1  | 2026-11-29T10:00:00.000000001Z first" in output
    command = logs_command(PATHS, load_settings("h", settings))
    nowhere = command.replace(DOCKER_SOCKET_PATH, str(tmp_path / "none.sock"))
    no_docker = subprocess.run(["sh", "-c", nowhere], capture_output=True, text=True, timeout=30)
    assert no_docker.returncode != 0 and no_docker.stdout == ""
    assert no_docker.stderr == f"Docker did not answer on {tmp_path / 'none.sock'}\n"


def test_a_log_cut_off_before_its_end_fails(tmp_path):
    """A connection to Docker that ends before the log's last chunk (Docker stopped,
    the reader killed) is not the end of the log: the run fails and says so."""
    status, output, _ = _logs_on_fake_docker(tmp_path, {}, cut="prisma-db")
    assert status == 1
    assert "prisma-db          | the log was cut off: Docker's answer ended early" in output
    assert "prisma-db          | 2026-11-29T10:00:00.000000002Z second of prisma-db" in output
    # The control: read whole, the same log passes.
    assert _logs_on_fake_docker(tmp_path, {})[0] == 0


def test_a_log_stream_without_frames_is_shown_as_it_is(tmp_path):
    """A container with a TTY: Docker sends its log as it is, without frames."""
    status, output, _ = _logs_on_fake_docker(
        tmp_path, {"logs_service": "prisma-db"}, tty="prisma-db"
    )
    assert status == 0
    assert output.splitlines() == [
        "prisma-db  | 2026-11-29T10:00:00.1Z one",
        "prisma-db  | 2026-11-29T10:00:00.2Z two",
    ]


def _answered(path: str) -> str:
    return f"answered http://localhost{path}"


def test_status_rows_and_outputs():
    now = datetime.datetime(2026, 11, 28, 12, 0, 0, tzinfo=datetime.timezone.utc)
    labels = {"com.docker.compose.project": "prisma"}
    # The list names a container's image by its ID once the tag has moved to another
    # image: the reference the container was created from comes from its inspection.
    listed = [
        {"Id": "a" * 64, "Image": "sha256:1", "ImageID": "sha256:1", "State": "running",
         "Labels": {**labels, "com.docker.compose.service": "prisma-db"}},
        {"Id": "b" * 64, "Image": "prismagraphql/prisma:1.0", "ImageID": "sha256:2",
         "State": "exited", "Labels": {**labels, "com.docker.compose.service": "prisma-database"}},
        # removed between the list and its inspection: no row
        {"Id": "c" * 64, "Image": "x", "ImageID": "sha256:3", "State": "running", "Labels": {}},
    ]  # fmt: skip
    images = [{"Id": "sha256:1", "RepoDigests": ["mysql@sha256:abc"]}]
    filters = urllib.parse.quote('{"label":["com.docker.compose.project=prisma"]}')
    rows, body = service_statuses(
        [
            json.dumps(listed),
            "",
            f"answered http://localhost/containers/json?all=1&filters={filters}",
            json.dumps(images),
            "",
            _answered("/images/json"),
            "OK",
            "answered status",
            '"StartedAt":"2026-11-28T10:59:00.123456789Z"',
            '"Health":{"Status":"healthy"',
            '"Image":"sha256:1"',
            '"Image":"mysql:5.7"',
            _answered(f"/containers/{'a' * 64}/json"),
            '"StartedAt":"2026-11-28T10:59:00.123456789Z"',
            '"Image":"sha256:2"',
            '"Image":"prismagraphql/prisma:1.0"',
            _answered(f"/containers/{'b' * 64}/json"),
            _answered(f"/containers/{'c' * 64}/json"),
        ],
        now,
    )
    assert body == "OK"
    assert [(r.service, r.state, r.image, r.digest, r.uptime_seconds, r.health) for r in rows] == [
        ("prisma-database", "exited", "prismagraphql/prisma:1.0", "", None, "-"),
        ("prisma-db", "running", "mysql:5.7", "sha256:abc", 3660, "healthy"),
    ]
    table = status_table("h", rows, body, "http://127.0.0.1:4466/status")
    assert "1h 1m" in table and "GET http://127.0.0.1:4466/status: OK" in table
    document = json.loads(status_document("h", rows, body, "u"))
    assert document["status_ok"] is True and document["services"][1]["uptime_seconds"] == 3660
    assert document["services"][1]["started_at"] == "2026-11-28T10:59:00.123456789Z"


def test_without_docker_the_status_has_no_rows_and_a_body_fits_one_line():
    now = datetime.datetime.now(datetime.timezone.utc)
    unanswered = ["", _answered("/containers/json"), "", _answered("/images/json")]
    assert service_statuses([*unanswered, "", "answered status"], now) == ([], "")
    error = ["<html>", "x" * 300, "", "answered status"]
    assert service_statuses([*unanswered, *error], now) == ([], "<html> " + "x" * 193)


def test_with_a_domain_the_status_shows_the_certificates_issuer_and_expiry():
    from tasks.reports.status import certificate_status

    now = datetime.datetime(2026, 11, 28, tzinfo=datetime.timezone.utc)
    lines = ["status OK", "certificate 2027-02-26 00:00:00Z CN=Pebble Intermediate CA 1a2b"]
    certificate = certificate_status(lines, "prisma.example.com", now)
    table = status_table("h", [], "OK", "u", certificate)
    assert table.endswith(
        "certificate for prisma.example.com: issued by CN=Pebble Intermediate CA 1a2b, "
        "expires 2027-02-26T00:00:00+00:00 (in 90 days)"
    )
    document = json.loads(status_document("h", [], "OK", "u", certificate))
    assert document["certificate"]["days_left"] == 90
    none_yet = certificate_status(["status OK"], "prisma.example.com", now)
    assert "none issued yet" in status_table("h", [], "OK", "u", none_yet)
    assert certificate_status(lines, "", now) is None
    assert json.loads(status_document("h", [], "OK", "u"))["certificate"] is None


def test_a_report_checks_for_the_stack_in_its_own_command_with_deployed_stacks_words(tmp_path):
    """logs.py and status.py ask no fact first: their one command checks, and says what
    deployed_stack() says where deploy.py never ran."""
    from tasks.reports.commands import found_no_stack, when_deployed
    from tasks.stack.commands import no_stack_reason

    paths = StackPaths(str(tmp_path / "a stack"), "prisma")
    command = when_deployed(paths, "echo read")
    for present in ([], ["docker-compose.yml"], [".env"]):
        Path(paths.directory).mkdir(exist_ok=True)
        for name in present:
            (Path(paths.directory) / name).write_text("")
        ran = subprocess.run(["sh", "-c", command], capture_output=True, text=True)
        assert (ran.returncode, ran.stdout) == (1, "")
        assert found_no_stack(paths, ran.stderr.splitlines())
        assert (
            no_stack_reason(paths) == f"no Prisma stack in {tmp_path}/a stack; run deploy.py first"
        )
        for name in present:
            (Path(paths.directory) / name).unlink()
    # The control: with both files there the command runs, and no stack is missing.
    for name in ("docker-compose.yml", ".env"):
        (Path(paths.directory) / name).write_text("")
    ran = subprocess.run(["sh", "-c", command], capture_output=True, text=True)
    assert (ran.returncode, ran.stdout) == (0, "read\n")
    assert not found_no_stack(paths, ran.stderr.splitlines())


def test_logs_and_status_ask_no_fact_before_their_command():
    """Their one round trip per host is their own command (see the test above)."""
    from tasks.actions.reports import report_status, show_logs
    from tests.unit.fake_host import FakeFacts, plan

    asked = []

    class Recorded(FakeFacts):
        def get(self, fact_class, **kwargs):
            asked.append(fact_class.__name__)
            return super().get(fact_class, **kwargs)

    settings = load_settings("testhost", {})
    for report in (show_logs, report_status):
        (operation,) = plan(report, Recorded(), settings)
        assert operation.commands == []  # they run their command themselves, when executing
    assert asked == []


def test_the_stack_deployed_check_starts_no_process(tmp_path):
    """Through pyinfra's own fact machinery, on this machine (@local)."""
    from pyinfra.api import Config, Inventory, State
    from pyinfra.api.connect import connect_all

    from tasks.stack.facts import StackDeployed

    paths = StackPaths(str(tmp_path), "prisma")
    command = StackDeployed().command(paths)
    assert "echo" in command and not any(tool in command for tool in ("stat", "ls ", "test "))
    state = State(Inventory((["@local"], {})), Config())
    connect_all(state)
    host = state.inventory.get_host("@local")

    def found() -> bool:
        return host.get_fact(StackDeployed, paths=paths)

    assert found() is False
    (tmp_path / "docker-compose.yml").write_text("")
    assert found() is False
    (tmp_path / ".env").write_text("")
    assert found() is True
