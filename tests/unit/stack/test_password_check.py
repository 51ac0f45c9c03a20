"""How a run makes sure the database password is the one the volume was made with."""

from __future__ import annotations

import hashlib

import pytest
from pyinfra.api import FunctionCommand, HiddenValue

from tasks.host.paths import PathState
from tasks.settings import load_settings
from tasks.stack.decide import PROVE, RECORD, VERIFY, StackFilesWanted, password_check
from tasks.stack.facts import StackFilesState, parse_stack_files, stack_files_probe
from tasks.stack.layout import StackPaths
from tasks.stack.operations import database_password_checked
from tests.unit.fake_host import FakeFacts, plan_operation

SETTINGS = load_settings("h", {})
ENV = "ENV=1\n"
SAME_ENV = {
    "/opt/prisma/.env": PathState(
        "file", 600, "root", "root", hashlib.sha256(ENV.encode()).hexdigest()
    )
}
PATHS = StackPaths("/opt/prisma", "prisma")


@pytest.mark.parametrize(
    ("files", "env", "expected"),
    [
        (StackFilesState(), ENV, RECORD),  # a fresh host
        (StackFilesState(SAME_ENV, volume=True, has_fingerprint=True), ENV, None),
        (StackFilesState(SAME_ENV, volume=True, has_fingerprint=True), "NEW=1\n", VERIFY),
        # Docker not answering hides nothing: a fingerprint is enough to verify against.
        (StackFilesState(SAME_ENV, volume=False, has_fingerprint=True), "NEW=1\n", VERIFY),
        # A volume without a fingerprint: prove, even while .env stays the same.
        (StackFilesState(SAME_ENV, volume=True), ENV, PROVE),
        (StackFilesState(volume=True), "NEW=1\n", PROVE),
    ],
)
def test_the_check_each_host_needs(files, env, expected):
    assert password_check(SETTINGS, files, env) == expected


def test_the_volume_is_seen_without_dockers_api_and_the_fingerprint_is_never_read():
    probe = stack_files_probe(StackPaths("/opt/prisma", "prisma", "/srv/docker"))
    assert "[ -d /srv/docker/volumes/prisma_db-persistence ] ||" in probe
    assert "cat /opt/prisma/.db-password-fingerprint" not in probe  # facts are printed at -vvv
    assert "[ -f /opt/prisma/.db-password-fingerprint ] && echo db-fingerprint" in probe
    found = parse_stack_files(["db-fingerprint", "volume"])
    assert found.has_fingerprint and found.volume


def test_the_data_root_follows_the_daemon_options():
    settings = load_settings("h", {"docker_daemon_options": {"data-root": "/srv/docker"}})
    assert StackPaths.of(settings).db_volume_dir == "/srv/docker/volumes/prisma_db-persistence"


def test_only_a_fresh_database_gets_a_fingerprint_without_a_check():
    def wanted(check):
        return StackFilesWanted("c", HiddenValue("e"), HiddenValue("pw"), check)

    assert wanted(RECORD).fingerprint_to_record().startswith("scrypt:n=32768")
    assert [wanted(c).fingerprint_to_record() for c in (VERIFY, PROVE, None)] == [None] * 3


@pytest.mark.parametrize("check", [VERIFY, PROVE])
def test_verify_and_prove_run_on_the_host_with_the_password_kept_out_of_the_command(check):
    commands, _ = plan_operation(
        database_password_checked,
        FakeFacts({}),
        paths=PATHS,
        password=HiddenValue("hunter2-hunter2"),
        check=check,
    )
    (command,) = commands
    assert isinstance(command, FunctionCommand)
    assert "hunter2" not in repr(command.args)  # a HiddenValue


def test_nothing_to_check_is_no_change():
    commands, noops = plan_operation(
        database_password_checked, FakeFacts({}), paths=PATHS, password=HiddenValue("x"), check=None
    )
    assert commands == [] and noops == ["nothing to check about the database password"]
