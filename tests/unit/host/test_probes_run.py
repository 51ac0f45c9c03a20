"""
The host read's shell, run on this machine (sh is dash here as on Debian; the whole read
runs under bash): what it prints must parse back to what is there. The commands are the
deploy's own; what runs on a host end to end is tested in tests/e2e.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tasks.host.paths import PathState, path_probe, paths_in
from tasks.host.probes import (
    file_lines_probe,
    http_status_probe,
    in_one_shell,
    parse_http_status,
    sections,
)
from tasks.stack.commands import compose_up
from tasks.stack.facts import (
    compose_project_probe,
    parse_compose_project,
    parse_stack_files,
    stack_files_probe,
)
from tasks.stack.layout import StackPaths

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
def test_paths_are_read_with_one_stat_and_one_sha256sum(tmp_path, shell):
    directory = tmp_path / "a dir"
    directory.mkdir(mode=0o750)
    directory.chmod(0o750)
    secret = directory / ".env"
    secret.write_text("KEY=value\n")
    secret.chmod(0o600)
    link = tmp_path / "link"
    link.symlink_to(secret)
    missing = tmp_path / "missing"
    paths = [str(p) for p in (directory, secret, link, missing)]
    probe = path_probe(paths)
    assert probe.count("stat -c") == 1 and probe.count("sha256sum") == 1
    found = paths_in(run(probe, shell))
    user, group = owner(secret)
    digest = hashlib.sha256(b"KEY=value\n").hexdigest()
    assert found[str(directory)] == PathState("directory", 750, user, group, "")
    assert found[str(secret)] == PathState("file", 600, user, group, digest)
    # A link: the kind and content of its target, its own mode (as before: stat without -L).
    assert found[str(link)].kind == "file" and found[str(link)].sha256 == digest
    assert found[str(link)].mode == 777
    assert not found[str(missing)].exists


@pytest.mark.parametrize("shell", SHELLS)
def test_no_process_runs_when_no_path_exists(tmp_path, shell):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    trace = tmp_path / "ran"
    for tool in ("stat", "sha256sum"):
        fake = bin_dir / tool
        fake.write_text(f"#!/bin/sh\necho {tool} >> {trace}\n")
        fake.chmod(0o755)
    probe = path_probe([str(tmp_path / "x"), str(tmp_path / "y")])
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    assert paths_in(run(probe, shell, env)) == {
        str(tmp_path / "x"): PathState(),
        str(tmp_path / "y"): PathState(),
    }
    assert not trace.exists()


def test_probes_come_back_in_order_the_background_ones_last_and_beside_the_others(tmp_path):
    started = shlex.quote(str(tmp_path / "background started"))
    # The background probes start first; the second probe waits until they have (at
    # most 10 s): it would never see it if the probes ran one after the other.
    background = ["echo in the background", f"touch {started}; echo background too"]
    waits = f"i=0; while [ ! -e {started} ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done"
    probes = ["echo first", f"{waits}; [ -e {started} ] && echo saw it; echo oops >&2", "true"]
    lines = run(in_one_shell(probes, background), "bash")
    assert sections(lines, 5) == [
        ["first"],
        ["saw it"],
        [],
        ["in the background"],
        ["background too"],
    ]


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
    record = Path(paths.hashes_file).read_text()
    for tampered in (
        record.replace("recorded ", "recorded 0", 1),  # a digest that is not the file's
        record + f"recorded {'0' * 64}  /elsewhere\n",  # a third file
        "\n".join(line for line in record.splitlines() if "/.env" not in line) + "\n",
        record.replace("  ", " "),  # not sha256sum's line
    ):
        Path(paths.hashes_file).write_text(tampered)
        read = parse_compose_project(run(compose_project_probe(paths), "sh", env))
        assert read.desired_hashes == {"prisma-db": "h-new"}, tampered  # Compose asked
    Path(paths.hashes_file).write_text(record)
    Path(paths.env_file).write_text("A=2\n")
    read = parse_compose_project(run(compose_project_probe(paths), "sh", env))
    assert read.desired_hashes == {"prisma-db": "h-new"}  # the files changed: Compose asked


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="needs dpkg")
def test_the_engine_probe_reads_this_machines_architecture_and_memory():
    from tasks.engine.facts import engine_probe, parse_engine

    found = parse_engine(run(engine_probe(), "sh"))
    native = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True)
    assert found.architecture == native.stdout.strip()
    assert found.memory_bytes > 0 and found.platform.distro


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


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_status_is_asked_in_the_same_curl_as_dockers_answers(tmp_path):
    paths = StackPaths(str(tmp_path), "prisma-unit")
    body = tmp_path / "status"
    body.write_text("OK\n")
    probe = compose_project_probe(paths, status_url=body.as_uri())
    assert probe.count("curl ") == 1
    lines = run(probe, "sh")
    assert parse_http_status(lines) == "OK"
    assert parse_compose_project(lines).desired_hashes == {}  # no files, no record
    down = compose_project_probe(paths, status_url="http://127.0.0.1:9/status")
    assert parse_http_status(run(down, "sh")) == ""


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
def test_the_whole_read_runs_under_bash_and_comes_back_per_part(tmp_path):
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
            ["bash", "-c", command], capture_output=True, text=True, env=env, check=False
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
