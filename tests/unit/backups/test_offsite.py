"""Off-site backups: settings, secrets, the files built as data, what differs, the probe,
the script's commands and status.py's lines. The script itself runs end to end."""

from __future__ import annotations

import configparser
import datetime
import subprocess

import pytest
from pyinfra.api import HiddenValue

from tasks.backups.commands import offsite_command, offsite_status_probe
from tasks.backups.decide import offsite_problems
from tasks.backups.facts import OffsiteBackupsState, offsite_backups_probe, parse_offsite_backups
from tasks.backups.files import (
    CONFIG_DIR,
    ENV_FILE,
    PATHS,
    TIMERS,
    env_file,
    host_repository,
    render_unit,
    s3_credentials,
    units,
    wanted_files,
)
from tasks.backups.status import backup_table_lines, read_backup_status
from tasks.errors import HostRefused
from tasks.host.paths import PathState, sha256_text
from tasks.secrets.offsite import BackupSecrets, BackupSecretsError, resolve_backup_secrets
from tasks.secrets.store import REPOSITORY_PASSWORD_FILE, SecretStore
from tasks.settings import SettingsError, load_settings
from tests.unit.fake_host import path_lines

REPOSITORY = "s3:https://fra1.digitaloceanspaces.com/prisma-backups"
ON = {"backup_repository": REPOSITORY}
SECRETS = BackupSecrets(HiddenValue("r" * 43), HiddenValue("KEYID"), HiddenValue("s" * 40))


# --- Settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "repository",
    [
        "s3:fra1.digitaloceanspaces.com/bucket",  # an endpoint that is not a URL
        "s3:https://fra1.digitaloceanspaces.com/b",  # no bucket of 3+ characters
        "s3:ftp://host/bucket",
        "s3:https://host/bucket with space",
        "https://host/bucket",
        "relative/path",
        "rest:not-a-url",
    ],
)
def test_a_repository_that_is_not_a_url_is_refused(repository):
    with pytest.raises(SettingsError, match="setting 'backup_repository' must be an S3"):
        load_settings("h", {"backup_repository": repository})


@pytest.mark.parametrize(
    "repository",
    [REPOSITORY, "s3:http://127.0.0.1:9000/bucket/sub", "/srv/restic", "sftp:u@h:/r", "b2:b:p"],
)
def test_restic_repositories_are_accepted(repository):
    assert load_settings("h", {"backup_repository": repository}).backup_repository == repository


def test_a_retention_of_zero_everywhere_is_refused():
    zero = {"backup_keep_daily": 0, "backup_keep_weekly": 0, "backup_keep_monthly": 0}
    with pytest.raises(SettingsError, match="are all 0, which would keep no snapshot"):
        load_settings("h", zero)
    assert load_settings("h", {**zero, "backup_keep_monthly": 1}).backup_keep_monthly == 1


def test_a_schedule_that_cannot_be_a_calendar_event_is_refused_locally():
    with pytest.raises(SettingsError, match="backup_schedule"):
        load_settings("h", {"backup_schedule": "daily\nExecStart=/bin/evil"})
    assert load_settings("h", {"backup_schedule": "Mon..Fri *-*-* 03:00"}).backup_schedule


def test_restore_snapshot_needs_a_repository_and_excludes_restore_file():
    with pytest.raises(SettingsError, match="restore_snapshot needs backup_repository"):
        load_settings("h", {"restore_snapshot": "latest"})
    with pytest.raises(SettingsError, match="not both"):
        load_settings("h", {**ON, "restore_snapshot": "latest", "restore_file": "a.sql.gz"})
    with pytest.raises(SettingsError, match="restore_snapshot"):
        load_settings("h", {**ON, "restore_snapshot": "latest; rm -rf /"})
    assert load_settings("h", {**ON, "restore_snapshot": "1a2b3c4d"}).restore_snapshot


# --- Secrets ------------------------------------------------------------------------------


def test_the_repository_password_is_generated_once_and_kept(tmp_path):
    settings = load_settings("h", ON)
    store = SecretStore(tmp_path, "h")
    environ = {"PRISMA_BACKUP_S3_ACCESS_KEY_ID": "K", "PRISMA_BACKUP_S3_SECRET_ACCESS_KEY": "S"}
    first = resolve_backup_secrets(settings, store, lambda: False, environ)
    again = resolve_backup_secrets(settings, store, lambda: True, environ)
    assert first.repository_password.unmask() == again.repository_password.unmask()
    assert len(first.repository_password.unmask()) >= 40
    assert oct((store.path / REPOSITORY_PASSWORD_FILE).stat().st_mode & 0o777) == "0o600"
    assert first.s3_access_key_id.unmask() == "K"


def test_no_password_is_generated_for_a_host_that_has_a_repository(tmp_path):
    settings = load_settings("h", {"backup_repository": "/srv/restic"})
    with pytest.raises(BackupSecretsError, match="already has off-site backups configured"):
        resolve_backup_secrets(settings, SecretStore(tmp_path, "h"), lambda: True, {})
    assert not (tmp_path / "h" / REPOSITORY_PASSWORD_FILE).exists()


def test_an_s3_repository_needs_both_keys_and_keys_without_spaces(tmp_path):
    settings = load_settings("h", ON)
    store = SecretStore(tmp_path, "h")
    with pytest.raises(BackupSecretsError, match="needs both keys"):
        resolve_backup_secrets(settings, store, lambda: False, {})
    with pytest.raises(BackupSecretsError, match="needs both keys"):
        resolve_backup_secrets(
            settings, store, lambda: False, {"PRISMA_BACKUP_S3_ACCESS_KEY_ID": "K"}
        )
    spaced = {
        "PRISMA_BACKUP_S3_ACCESS_KEY_ID": "K",
        "PRISMA_BACKUP_S3_SECRET_ACCESS_KEY": "with space",
    }
    with pytest.raises(BackupSecretsError, match="value not shown") as refused:
        resolve_backup_secrets(settings, store, lambda: False, spaced)
    assert "with space" not in str(refused.value)


# --- Files, built as data -------------------------------------------------------------------


def test_the_env_file_keeps_every_value_exactly_when_sourced(tmp_path):
    hostile = "h'$(touch /tmp/pwned)`x`\"; echo"
    settings = load_settings(hostile, ON)
    path = tmp_path / "env"
    path.write_text(env_file(settings, with_s3_keys=True))
    sourced = subprocess.run(
        ["bash", "-c", f'. {path}; printf "%s\\n%s" "$BACKUP_HOST" "$RESTIC_REPOSITORY"'],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert sourced == f"{hostile}\n{host_repository(settings)}"
    assert host_repository(load_settings("a/b", ON)) == f"{REPOSITORY}/a_b"


def test_the_s3_keys_are_an_ini_file_and_secrets_are_hidden():
    parsed = configparser.ConfigParser(interpolation=None)
    parsed.read_string(s3_credentials("KEY%ID", "se=cr%et"))
    assert dict(parsed["default"]) == {
        "aws_access_key_id": "KEY%ID",
        "aws_secret_access_key": "se=cr%et",
    }
    wanted = wanted_files(load_settings("h", ON), SECRETS)
    assert {path for path, file in wanted.items() if file.mode == 600} == {
        ENV_FILE,
        f"{CONFIG_DIR}/repository-password",
        f"{CONFIG_DIR}/s3-credentials",
    }
    assert "r" * 43 not in repr(wanted)
    no_keys = wanted_files(
        load_settings("h", {"backup_repository": "/srv/r"}), SECRETS.__class__(HiddenValue("p"))
    )
    assert f"{CONFIG_DIR}/s3-credentials" not in no_keys


def test_the_timers_are_persistent_randomised_and_on_schedule():
    settings = load_settings(
        "h", {**ON, "backup_schedule": "*-*-* 02:30:00", "backup_randomized_delay": 600}
    )
    timer = units(settings)["prisma-backup.timer"]
    assert "OnCalendar=*-*-* 02:30:00\n" in timer
    assert "RandomizedDelaySec=600\n" in timer and "Persistent=true\n" in timer
    assert "OnCalendar=Sun *-*-* 05:00:00\n" in units(settings)["prisma-backup-verify.timer"]
    service = units(settings)["prisma-backup.service"]
    assert "ExecStart=/usr/local/sbin/prisma-backup backup timer\n" in service
    with pytest.raises(ValueError, match="cannot span lines"):
        render_unit({"Timer": {"OnCalendar": "daily\nExecStart=x"}})


# --- What differs, and the probe --------------------------------------------------------


def converged(settings) -> OffsiteBackupsState:
    wanted = wanted_files(settings, SECRETS)
    paths = {
        path: PathState("file", file.mode, "root", "root", sha256_text(file.content.unmask()))
        for path, file in wanted.items()
    }
    paths[CONFIG_DIR] = PathState("directory", 700, "root", "root")
    return OffsiteBackupsState(
        paths, "0.18.0-1", TIMERS, TIMERS, host_repository(settings), bad_schedules=()
    )


def test_a_converged_host_has_nothing_to_do_and_each_drift_is_seen():
    settings = load_settings("h", ON)
    wanted = wanted_files(settings, SECRETS)
    found = converged(settings)
    assert offsite_problems(settings, found, wanted) == []
    changed = load_settings("h", {**ON, "backup_keep_daily": 3})
    assert offsite_problems(changed, found, wanted_files(changed, SECRETS)) == [
        f"{ENV_FILE}: differs"
    ]
    stopped = OffsiteBackupsState(found.paths, "0.18.0-1", TIMERS, (), found.initialised_repository)
    assert len(offsite_problems(settings, stopped, wanted)) == 2
    fresh = OffsiteBackupsState()
    problems = offsite_problems(settings, fresh, wanted)
    assert "restic: not installed" in problems
    assert f"{host_repository(settings)}: not initialised from this host yet" in problems


def test_a_schedule_the_host_refuses_stops_the_host():
    settings = load_settings("h", {**ON, "backup_schedule": "every full moon"})
    found = OffsiteBackupsState(bad_schedules=("every full moon",))
    with pytest.raises(HostRefused, match="not a calendar event systemd understands"):
        offsite_problems(settings, found, wanted_files(settings, SECRETS))
    probe = offsite_backups_probe(("every full moon", "daily"))
    assert "systemd-analyze calendar -- 'every full moon'" in probe
    assert parse_offsite_backups(["bad-schedule every full moon"]).bad_schedules == (
        "every full moon",
    )


def test_turned_off_only_leftovers_are_work():
    off = load_settings("h", {})
    assert offsite_problems(off, OffsiteBackupsState(), {}) == []
    left = OffsiteBackupsState({PATHS[0]: PathState("file", 755, "root", "root", "x")})
    assert offsite_problems(off, left, {}) == [f"{PATHS[0]}: left from off-site backups"]


def test_the_probe_output_is_parsed():
    found = parse_offsite_backups(
        [
            *path_lines("/etc/prisma-backup", "directory", 700),
            "restic 0.18.0-1+b4 ii ",
            "Id=prisma-backup.timer",
            "ActiveState=active",
            "UnitFileState=enabled",
            "",
            "Id=prisma-backup-verify.timer",
            "ActiveState=inactive",
            "UnitFileState=enabled",
            "repository s3:http://127.0.0.1:9000/b/h",
        ]
    )
    assert found.restic_version == "0.18.0-1+b4"
    assert found.timer_running("prisma-backup.timer")
    assert not found.timer_running("prisma-backup-verify.timer")
    assert found.initialised_repository == "s3:http://127.0.0.1:9000/b/h"


# --- The script's commands, and status.py ---------------------------------------------------


def test_script_commands_quote_their_arguments():
    assert (
        offsite_command("backup", "upgrade.py") == "/usr/local/sbin/prisma-backup backup upgrade.py"
    )
    assert offsite_command("restore", "a b") == "/usr/local/sbin/prisma-backup restore 'a b'"
    assert "NextElapseUSecRealtime prisma-backup.timer" in offsite_status_probe()


def test_status_shows_the_last_backup_its_age_a_failure_and_the_verification():
    now = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.timezone.utc)
    lines = [
        "last-backup at=2026-11-29T09:00:00Z",
        "last-backup snapshot=0123456789abcdef",
        "last-backup reason=timer",
        "last-backup-failure at=2026-11-29T11:00:00Z",
        "last-backup-failure reason=the endpoint cannot be reached (curl exit 28)",
        "last-verify at=2026-11-27T12:00:00Z",
        "last-verify result=failed",
        "last-verify reason=snapshot 01234567: row counts differ",
        "next-backup Mon 2026-11-30 03:00:00 UTC",
    ]
    status = read_backup_status(lines, now)
    assert status["last_backup"]["age_seconds"] == 3 * 3600
    assert status["last_failure"]["reason"].endswith("(curl exit 28)")
    assert status["last_verify"]["result"] == "failed"
    table = backup_table_lines(status)
    assert table[0] == "backup: last OK 2026-11-29T09:00:00Z (3h 0m ago), snapshot 01234567"
    assert table[1].startswith("backup: FAILED 2026-11-29T11:00:00Z (1h 0m ago): the endpoint")
    assert table[2].startswith("verification: FAILED 2026-11-27T12:00:00Z (2d 0h ago)")
    empty = read_backup_status(["next-backup "], now)
    assert backup_table_lines(empty) == [
        "backup: no successful off-site backup yet",
        "verification: never",
    ]
