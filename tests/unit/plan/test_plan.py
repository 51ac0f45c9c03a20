"""decide_deploy: what deploy.py will change, decided once from the host's reading."""

from __future__ import annotations

import logging

import pytest
from pyinfra.api import HiddenValue

from tasks.engine.facts import DockerEngineState
from tasks.engine.packages import Platform
from tasks.firewall.facts import FirewallState
from tasks.plan import decide_deploy
from tasks.plan.decide import refuse_unfit_host
from tasks.plan.read import PartArguments, WholeHost, WholeHostState
from tasks.secrets.resolve import StackSecrets
from tasks.settings import load_settings
from tasks.stack.layout import StackPaths
from tests.unit.fake_host import path_lines

SECRETS = StackSecrets(HiddenValue("p" * 32), HiddenValue("m" * 32), HiddenValue("key"))


def test_a_fresh_host_has_work_in_every_part_and_records_the_fingerprint():
    settings = load_settings("h", {"docker_source": "distro", "prisma_firewall": True})
    fresh = WholeHostState(
        engine=DockerEngineState(Platform("debian", "13", "trixie"), systemd=True),
        firewall=FirewallState(systemd=True),
    )
    plan = decide_deploy(settings, fresh, SECRETS)
    assert plan.changes_anything
    assert plan.engine.needed and plan.firewall.needed
    assert plan.stack.problems[0].startswith("Docker changes first")
    fingerprint = plan.stack.wanted.fingerprint_to_record()
    assert fingerprint is not None and fingerprint.startswith("scrypt:")
    assert "p" * 32 not in repr(plan)  # .env is held as a HiddenValue
    assert plan.stack.wanted.env_file.unmask().count("SQL_CLIENT_PASSWORD=") == 1


def test_the_whole_host_is_read_in_one_command_and_split_back_per_part():
    fact = WholeHost()
    parts = PartArguments(url="http://x/status")
    command = fact.command(paths=StackPaths("/opt/prisma", "prisma"), parts=parts)
    # The parts in one shell after one sha256sum of every part's files, whose digests the
    # Compose record's check, last, uses too; piped into one perl that reads every
    # part's paths (kind, mode, owners) and packages, Docker's answers and GET /status,
    # and prints the shell's lines and its own in one write. No stat, no dpkg-query.
    assert command.count("sha256sum") == 1 and command.count("perl -e") == 1
    assert "stat -c" not in command and "dpkg-query -W -f" not in command.split("perl -e")[0]
    in_turn, _, reader = command.partition(" 2>/dev/null </dev/null | perl -e ")
    for path in ("/etc/docker/daemon.json", "/opt/prisma/.env", "/etc/prisma-backup/env"):
        assert f" {path} " in in_turn.split("sha256sum")[0]  # the digests' loop
        assert f" path={path} " in reader
    assert " stdin " in reader and " packages=dpkg,ca-certificates," in reader
    assert in_turn.index("sha256sum") < in_turn.index("os-release") < in_turn.index("recorded")
    # POSIX sh: pyinfra's default shell runs it (sh, dash on Debian and Ubuntu).
    assert fact.shell_executable is None and "<(" not in command
    found = fact.process(
        [
            "--- probe",
            "SHA256 (/etc/docker/daemon.json) = abc",
            "--- probe",
            "os-release ID=debian",
            "os-release VERSION_ID=13",
            "os-release VERSION_CODENAME=trixie",
            "--- probe",
            "systemd",
            "--- probe",
            "volume",
            "--- probe",
            "resolves 203.0.113.7",
            "--- probe",
            "--- probe",
            "restic 0.18.0-1 ii",
            "repository s3:http://127.0.0.1:9000/b/h",
            "--- probe",
            "hash prisma-db h1",
            "--- probe",
            *path_lines("/etc/docker/daemon.json", "file", 644),
            *path_lines("/usr/local/sbin/prisma-firewall"),
            *path_lines("/opt/prisma", "directory", 700),
            *path_lines("/opt/prisma/proxy", "directory", 755),
            "answered paths",
            "pkg dpkg 1.22.21 ii  arm64",
            "pkg docker.io 26.1.5 ii  arm64",
            "answered packages",
            "[]",
            "answered http://localhost/containers/json?all=1",
            "[]",
            "answered http://localhost/images/json",
            "OK",
            "answered status",
        ]
    )
    assert found.proxy.resolved == ("203.0.113.7",)
    # Each part finds the paths it reads among all of them.
    assert found.proxy.path("/opt/prisma/proxy").exists
    assert found.engine.path("/etc/docker/daemon.json").sha256 == "abc"
    assert not found.firewall.path("/usr/local/sbin/prisma-firewall").exists
    assert found.engine.platform == Platform("debian", "13", "trixie")
    # The engine finds its packages among the Compose project's perl's answers.
    assert found.engine.architecture == "arm64"
    assert found.engine.packages == {"docker.io": ["26.1.5"]}
    assert found.firewall.systemd and not found.engine.systemd
    assert found.stack.files.volume and found.stack.files.path("/opt/prisma").exists
    assert found.stack.project.desired_hashes == {"prisma-db": "h1"}
    assert found.stack.status_body == "OK"
    assert found.backups.restic_version == "0.18.0-1"
    assert found.backups.initialised_repository == "s3:http://127.0.0.1:9000/b/h"


def test_a_heap_the_host_cannot_hold_is_refused_before_anything_changes():
    import pytest

    from tasks.errors import HostRefused

    settings = load_settings("h", {"prisma_java_heap": "4G"})
    small = WholeHostState(
        engine=DockerEngineState(Platform("debian", "13", "trixie"), memory_bytes=2 * 1024**3)
    )
    with pytest.raises(HostRefused, match=r"'prisma_java_heap' is 4G: the stack needs 4.88 GiB"):
        refuse_unfit_host(settings, small)
    big = WholeHostState(
        engine=DockerEngineState(Platform("debian", "13", "trixie"), memory_bytes=8 * 1024**3)
    )
    refuse_unfit_host(settings, big)


def _converged_engine(settings) -> DockerEngineState:
    from tasks.engine.config_files import DAEMON_JSON, daemon_config
    from tasks.host.paths import PathState, sha256_text

    installed = {name: ["1"] for name in ("ca-certificates", "curl", "docker.io", "docker-compose")}
    daemon = PathState("file", 644, "root", "root", sha256_text(daemon_config(settings)))
    return DockerEngineState(
        Platform("debian", "13", "trixie"),
        "amd64",
        installed,
        {DAEMON_JSON: daemon},
        systemd=True,
        enabled=True,
        active=True,
        memory_bytes=8 * 1024**3,
    )


def test_with_docker_in_place_the_stack_is_compared_and_each_part_gets_its_reading():
    from tasks.engine.decide import engine_problems
    from tasks.firewall.files import wanted_files
    from tasks.stack.compose_file import render_compose_file
    from tasks.stack.decide import RECORD
    from tasks.stack.envfile import env_values, render_env

    for firewall in (False, True):
        settings = load_settings("h", {"docker_source": "distro", "prisma_firewall": firewall})
        found = WholeHostState(
            engine=_converged_engine(settings), firewall=FirewallState(systemd=True)
        )
        assert engine_problems(found.engine, settings) == []
        plan = decide_deploy(settings, found, SECRETS)
        assert plan.engine.found is found.engine and plan.engine.wanted is None
        assert not plan.engine.needed
        assert plan.firewall.found is found.firewall
        assert plan.firewall.wanted == (wanted_files(settings) if firewall else {})
        assert plan.stack.found is found.stack
        assert plan.stack.problems[0] == "/opt/prisma: not a 0700 directory of root's"
        assert "the stack has not been deployed yet" in plan.stack.problems
        wanted = plan.stack.wanted
        assert wanted.compose_file == render_compose_file(settings)
        assert wanted.env_file.unmask() == render_env(env_values(settings, SECRETS))
        assert wanted.db_password is SECRETS.db_password
        assert wanted.password_check == RECORD
        assert plan.changes_anything


def test_nothing_to_do_is_no_work_anywhere():
    from msgspec.structs import replace

    from tasks.work import Work

    settings = load_settings("h", {"docker_source": "distro"})
    plan = decide_deploy(settings, WholeHostState(engine=_converged_engine(settings)), SECRETS)
    quiet = replace(
        plan,
        stack=Work(plan.stack.found, plan.stack.wanted, ()),
        firewall=Work(plan.firewall.found, {}, ()),
    )
    assert not quiet.changes_anything


def test_plan_deploy_reads_the_host_once_refuses_unfit_hosts_and_keeps_new_secrets(
    tmp_path, monkeypatch
):
    import pytest
    from pyinfra.context import ctx_host, ctx_state

    from tasks.errors import HostRefused
    from tasks.plan.decide import plan_deploy
    from tasks.redaction import UNMASKED_VARIABLE
    from tests.unit.fake_host import FakeFacts, fake_state

    monkeypatch.setenv("PRISMA_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv(UNMASKED_VARIABLE, "1")  # no stream wrapping inside the test run
    settings = load_settings("testhost", {"docker_source": "distro"})
    asked = []

    def whole_host(**kwargs):
        asked.append(kwargs)
        return WholeHostState(engine=_converged_engine(settings))

    small = load_settings("testhost", {"docker_source": "distro", "prisma_java_heap": "9G"})
    with fake_state(FakeFacts({WholeHost: whole_host})) as (state, host):  # noqa: SIM117
        with ctx_state.use(state), ctx_host.use(host):
            plan = plan_deploy(settings)
            with pytest.raises(HostRefused, match="'prisma_java_heap' is 9G"):
                plan_deploy(small)
    assert asked[0]["paths"] == StackPaths("/opt/prisma", "prisma")
    assert asked[0]["parts"].url == settings.health_url
    assert plan.engine.found == _converged_engine(settings)
    stored = (tmp_path / "testhost" / "db_password").read_text()
    assert plan.stack.wanted.db_password.unmask() == stored
    assert f'SQL_CLIENT_PASSWORD="{stored}"' in plan.stack.wanted.env_file.unmask()


def _parts_reported(changes_anything: bool) -> list[str]:
    from pyinfra.api import deploy

    from tasks.engine.deploy import install_docker
    from tasks.firewall.deploy import configure_firewall
    from tasks.pyinfra_helpers import no_operation_when_converged
    from tasks.work import Work
    from tests.unit.fake_host import FakeFacts, plan

    settings = load_settings("h", {"docker_source": "distro"})

    @deploy("Deploy")
    def two_converged_parts() -> None:
        with no_operation_when_converged(changes_anything):
            install_docker(settings, Work(DockerEngineState(), None, ()))
            configure_firewall(settings, Work(FirewallState(), {}, ()))

    return [f"{op.name} {op.commands}" for op in plan(two_converged_parts, FakeFacts({}))]


def test_a_host_with_nothing_to_change_gets_no_operation_and_one_line(caplog):
    """No operation (pyinfra walks the stack for each it queues), and one line at the
    default verbosity that names every part checked."""
    with caplog.at_level(logging.INFO, logger="pyinfra"):
        assert _parts_reported(changes_anything=False) == []
    said = [record.getMessage() for record in caplog.records]
    assert [line for line in said if "Nothing to change" in line] == [
        "[testhost] Nothing to change: Docker is installed, configured and running; "
        "The firewall is off as set"
    ]
    # With work elsewhere on the host, each converged part reports itself.
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="pyinfra"):
        assert _parts_reported(changes_anything=True) == [
            "Deploy | Install Docker | Docker is installed, configured and running []",
            "Deploy | Configure the firewall | The firewall is off as set []",
        ]
    assert not [record for record in caplog.records if "Nothing to change" in record.getMessage()]


def test_converged_parts_skip_pyinfras_deploy_wrapper_and_may_queue_nothing(monkeypatch):
    """On a host whose plan changes nothing, the parts run without pyinfra's @deploy
    (whose global-argument read each call cost every converged host); a part that queued
    an operation there anyway is a bug, and stops the run."""
    import sys

    import pyinfra.api.arguments as arguments
    from pyinfra import host as current_host
    from pyinfra.api import deploy

    from tasks.engine.deploy import install_docker
    from tasks.pyinfra_helpers import already_converged, no_operation_when_converged, part_deploy
    from tasks.work import Work
    from tests.unit.fake_host import FakeFacts, plan

    settings = load_settings("h", {"docker_source": "distro"})
    reads = []
    real_pop = arguments.pop_global_arguments

    def counted_pop(*args, **kwargs):
        reads.append(1)
        return real_pop(*args, **kwargs)

    monkeypatch.setattr(sys.modules["pyinfra.api.deploy"], "pop_global_arguments", counted_pop)

    @part_deploy("Faulty part")
    def queues_anyway() -> None:
        already_converged(name="an operation", summary="-")

    @deploy("Deploy")
    def converged(faulty: bool) -> None:
        with no_operation_when_converged(changes_anything=False):
            install_docker(settings, Work(DockerEngineState(), None, ()))
            assert current_host.name == "testhost"
            if faulty:
                queues_anyway()

    assert [op.name for op in plan(converged, FakeFacts({}), False)] == []
    assert len(reads) == 1  # the outer @deploy's own, none for install_docker
    with pytest.raises(RuntimeError, match="Faulty part: an operation queued on a host"):
        plan(converged, FakeFacts({}), True)
