"""Tests written for mutants that survived the first mutation run (scripts/mutation):
each pins a behaviour the suite had left open."""

from __future__ import annotations

import pytest
import yaml

from tasks.engine.commands import APT_LOCKS, apt_lock_holders
from tasks.engine.decide import engine_problems
from tasks.engine.facts import DockerEngineState
from tasks.engine.packages import Platform
from tasks.errors import HostRefused
from tasks.firewall.decide import firewall_problems
from tasks.firewall.facts import FirewallState
from tasks.images.commands import retag_commands
from tasks.images.decide import services_off_record
from tasks.plan.decide import refuse_unfit_host
from tasks.plan.read import WholeHostState
from tasks.settings import load_settings
from tasks.settings.checks import stack_directory, swap_size
from tasks.stack.compose_file import HEADER, compose_document, render_compose_file
from tasks.stack.decide import check_directory_is_ours, stack_drift
from tasks.stack.envfile import env_values, quote_env_value
from tasks.stack.facts import ComposeProjectState, ContainerState, StackFilesState, StackState
from tests.unit.plan.test_plan import SECRETS

TRIXIE = Platform("debian", "13", "trixie")


def test_services_off_record():
    running = ComposeProjectState(
        {},
        (
            ContainerState("a", "running", "h", "sha256:1", ""),
            ContainerState("b", "running", "h", "sha256:9", ""),
        ),
        {},
    )
    recorded = {"b": ("sha256:2", "r", ""), "a": ("sha256:1", "r", ""), "c": ("sha256:3", "r", "")}
    assert services_off_record(recorded, running) == ["b", "c"]


def test_a_service_without_a_record_does_not_stop_the_retags_after_it():
    assert retag_commands({"s": ("sha256:1", "r:1", "")}, ["u", "s"]) == [
        "docker image inspect sha256:1 >/dev/null 2>&1 && docker tag sha256:1 r:1"
    ]


def test_engine_problems_name_each_difference():
    official = load_settings("h", {"docker_version": "27.3.1"})
    engine = DockerEngineState(TRIXIE, "amd64", dpkg_interrupted=True)
    problems = engine_problems(engine, official)
    assert "docker-ce=5:27.3.1-1~debian.13~trixie: not installed" in problems
    assert "/etc/apt/keyrings/docker.asc: missing" in problems
    assert "/etc/apt/sources.list.d/docker.sources: differs" in problems
    assert problems[-3:] == [
        "docker service: not enabled",
        "docker service: not running",
        "dpkg: an earlier run was interrupted",
    ]


def test_the_apt_lock_probe_names_every_lock():
    assert apt_lock_holders().endswith(" " + " ".join(APT_LOCKS))
    assert " /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock " in apt_lock_holders()


def test_a_firewall_without_systemd_is_refused_with_the_way_out():
    settings = load_settings("h", {"prisma_firewall": True})
    with pytest.raises(HostRefused) as refused:
        firewall_problems(settings, FirewallState(systemd=False), {})
    assert str(refused.value) == (
        "host h: prisma_firewall needs systemd to apply its rules at every boot, and this "
        "host does not run it; set prisma_firewall=false"
    )


def test_a_foreign_directory_is_refused_by_the_plan_with_the_host_named():
    found = WholeHostState(stack=StackState(files=StackFilesState(entries=frozenset({"x"}))))
    with pytest.raises(HostRefused, match=r"^host h: setting 'prisma_stack_dir'"):
        refuse_unfit_host(load_settings("h", {}), found)


def test_six_foreign_entries_are_shown_as_five_and_more():
    with pytest.raises(HostRefused, match=r"\(f0, f1, f2, f3, f4, \.\.\.\)"):
        check_directory_is_ours(
            load_settings("h", {}), StackFilesState(entries=frozenset(f"f{i}" for i in range(6)))
        )


def test_stack_directory_message_and_case():
    assert stack_directory("/Opt/Prisma") == "/Opt/Prisma"
    with pytest.raises(ValueError) as refused:
        stack_directory("/etc")
    assert str(refused.value) == (
        "a normalised absolute path of a directory of its own, such as '/opt/prisma' "
        "(no '..', '.', '//' or trailing '/'; not a system directory such as /etc or /usr)"
    )


def test_a_swap_size_just_over_64g_is_refused():
    with pytest.raises(ValueError):
        swap_size("65600M")


def test_drift_goes_on_after_a_missing_container_and_without_an_image_reference():
    exited = ContainerState("prisma-db", "exited", "h", "sha256:1", "")
    project = ComposeProjectState({"prisma-database": "h", "prisma-db": "h"}, (exited,), {})
    assert stack_drift(project, {"prisma-db": "mysql:5.7"}) == [
        "prisma-database: no container",
        "prisma-db: container is exited",
    ]
    running = ContainerState("prisma-db", "running", "h", "sha256:1", "")
    project = ComposeProjectState({"prisma-db": "h"}, (running,), {":latest": "sha256:x"})
    # No reference for the service: the empty one, which Docker lists as ":latest".
    assert stack_drift(project, {}) == ["prisma-db: image  now points at another image"]


def test_env_file_details():
    values = env_values(load_settings("h", {}), SECRETS)
    assert values["SQL_CLIENT_PORT"] == values["SQL_INTERNAL_PORT"] == "3306"
    with pytest.raises(ValueError, match=r"^a \.env value cannot contain a NUL character$"):
        quote_env_value("a\x00b")
    assert quote_env_value("x\\x00") == '"x\\\\x00"'


def test_the_compose_file_is_block_style_in_the_bases_order_on_long_lines():
    settings = load_settings("h", {})
    database = compose_document(settings)["services"]["prisma-db"]
    assert list(database)[:3] == ["image", "container_name", "networks"]
    text = render_compose_file(settings)
    assert text.startswith(HEADER + "services:\n  prisma-db:\n    image: mysql:5.7\n")
    assert "    command:\n    - mysqld\n    - --max-connections=1000\n" in text
    sql_mode = next(line for line in text.splitlines() if "--sql-mode=" in line)
    assert sql_mode.endswith("POSTGRESQL,TRADITIONAL")
    assert yaml.safe_load(text)["services"]["prisma-db"]["command"][2] == sql_mode[6:]


def test_the_database_service_has_exactly_the_keys_compose_knows():
    database = compose_document(load_settings("h", {}))["services"]["prisma-db"]
    assert set(database) == {
        "image", "container_name", "mem_limit", "networks", "restart", "command",
        "environment", "volumes", "healthcheck",
    }  # fmt: skip
    assert database["container_name"] == "prisma-db"


def test_long_values_stay_on_one_line():
    text = render_compose_file(load_settings("h", {}))
    (line,) = [line for line in text.splitlines() if "MYSQL_PWD=" in line]
    assert line.rstrip().endswith("--silent >/dev/null")


def test_a_plan_with_a_fingerprint_checks_the_password_only_when_env_changes():
    from tasks.host.paths import PathState, sha256_text
    from tasks.plan import decide_deploy
    from tasks.stack.decide import VERIFY
    from tasks.stack.envfile import render_env
    from tests.unit.plan.test_plan import _converged_engine

    settings = load_settings("h", {"docker_source": "distro"})
    env_file = render_env(env_values(settings, SECRETS))
    for content, check in ((env_file, None), ("old", VERIFY)):
        env = PathState("file", 600, "root", "root", sha256_text(content))
        files = StackFilesState({"/opt/prisma/.env": env}, volume=True, has_fingerprint=True)
        found = WholeHostState(engine=_converged_engine(settings), stack=StackState(files=files))
        assert decide_deploy(settings, found, SECRETS).stack.wanted.password_check == check


def test_plan_deploy_uses_the_stack_files_it_read_to_refuse_generating_secrets(
    tmp_path, monkeypatch
):
    from pyinfra.context import ctx_host, ctx_state

    from tasks.plan.decide import plan_deploy
    from tasks.plan.read import WholeHost
    from tasks.redaction import UNMASKED_VARIABLE
    from tasks.secrets.resolve import SecretsError
    from tests.unit.fake_host import FakeFacts, fake_state
    from tests.unit.plan.test_plan import _converged_engine

    monkeypatch.setenv("PRISMA_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv(UNMASKED_VARIABLE, "1")
    settings = load_settings("testhost", {"docker_source": "distro"})
    # The whole-host reading shows a data volume; a separate StackFiles reading would not.
    found = WholeHostState(
        engine=_converged_engine(settings), stack=StackState(files=StackFilesState(volume=True))
    )
    with fake_state(FakeFacts({WholeHost: found})) as (state, host):  # noqa: SIM117
        with ctx_state.use(state), ctx_host.use(host), pytest.raises(SecretsError):
            plan_deploy(settings)
