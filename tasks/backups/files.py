"""
The files of off-site backups on the host and what each holds, built as data and
serialised: the settings (`KEY=<shell-quoted value>` lines the script sources), the
secrets (the repository password; the S3 keys as an AWS credentials file, which restic
reads itself) and the systemd units (sections of key/value pairs).
"""

from __future__ import annotations

import io
import shlex

import msgspec
from pyinfra.api import HiddenValue

from tasks.project import project_file_text
from tasks.secrets.offsite import BackupSecrets
from tasks.settings import Settings
from tasks.stack.layout import DB_CONTAINER

CONFIG_DIR = "/etc/prisma-backup"
ENV_FILE = f"{CONFIG_DIR}/env"
PASSWORD_FILE = f"{CONFIG_DIR}/repository-password"
S3_CREDENTIALS_FILE = f"{CONFIG_DIR}/s3-credentials"
SCRIPT = "/usr/local/sbin/prisma-backup"
STATE_DIR = "/var/lib/prisma-backup"
REPOSITORY_MARKER = f"{STATE_DIR}/repository"
CACHE_DIR = "/var/cache/prisma-backup"
UNIT_DIR = "/etc/systemd/system"
BACKUP_TIMER = "prisma-backup.timer"
VERIFY_TIMER = "prisma-backup-verify.timer"
TIMERS = (BACKUP_TIMER, VERIFY_TIMER)
UNITS = ("prisma-backup.service", BACKUP_TIMER, "prisma-backup-verify.service", VERIFY_TIMER)
# Every file this part may leave on a host (a repository turned off removes them).
PATHS = [SCRIPT, ENV_FILE, PASSWORD_FILE, S3_CREDENTIALS_FILE] + [
    f"{UNIT_DIR}/{unit}" for unit in UNITS
]


class WantedFile(msgspec.Struct, frozen=True):
    content: HiddenValue
    mode: int  # pyinfra style: 600 is 0o600
    secret: bool


def host_repository(settings: Settings) -> str:
    """This host's own repository: one per host, under backup_repository."""
    assert settings.backup_repository is not None
    return f"{settings.backup_repository}/{settings.host_name.replace('/', '_')}"


def env_file(settings: Settings, with_s3_keys: bool) -> str:
    values = {
        "RESTIC_REPOSITORY": host_repository(settings),
        "RESTIC_PASSWORD_FILE": PASSWORD_FILE,
        "RESTIC_CACHE_DIR": CACHE_DIR,
        "AWS_SHARED_CREDENTIALS_FILE": S3_CREDENTIALS_FILE if with_s3_keys else "",
        "BACKUP_HOST": settings.host_name,
        "KEEP_DAILY": str(settings.backup_keep_daily),
        "KEEP_WEEKLY": str(settings.backup_keep_weekly),
        "KEEP_MONTHLY": str(settings.backup_keep_monthly),
        "PING_URL": settings.backup_ping_url or "",
        "DB_CONTAINER": DB_CONTAINER,
        "DB_IMAGE": settings.prisma_db_image,
        "STACK_DIR": settings.prisma_stack_dir,
    }
    lines = [f"{key}={shlex.quote(value)}" for key, value in values.items()]
    return (
        "# Managed by prisma-deploy (pyinfra): settings of prisma-backup.\n"
        + "\n".join(lines)
        + "\n"
    )


def s3_credentials(key_id: str, secret: str) -> str:
    """An AWS shared credentials file (restic's S3 backend reads it), written as INI."""
    # Imported here: only a host with S3 keys needs it, and it is a millisecond of every
    # deploy's start otherwise.
    import configparser

    config = configparser.ConfigParser(interpolation=None)
    config["default"] = {"aws_access_key_id": key_id, "aws_secret_access_key": secret}
    text = io.StringIO()
    config.write(text)
    return text.getvalue()


def render_unit(sections: dict[str, dict[str, str]]) -> str:
    """A systemd unit file from its sections; a value with a line break is refused."""
    lines = ["# Managed by prisma-deploy (pyinfra)."]
    for section, entries in sections.items():
        lines.append(f"[{section}]")
        for key, value in entries.items():
            if "\n" in value or "\r" in value:
                raise ValueError(f"{section}.{key}: a unit value cannot span lines")
            lines.append(f"{key}={value}")
        lines.append("")
    return "\n".join(lines)


def _service(description: str, arguments: str) -> str:
    return render_unit(
        {
            "Unit": {
                "Description": description,
                "Wants": "network-online.target",
                "After": "network-online.target docker.service",
            },
            "Service": {"Type": "oneshot", "ExecStart": f"{SCRIPT} {arguments}"},
        }
    )


def _timer(description: str, schedule: str, delay: int) -> str:
    return render_unit(
        {
            "Unit": {"Description": description},
            "Timer": {
                "OnCalendar": schedule,
                "RandomizedDelaySec": str(delay),
                "Persistent": "true",
            },
            "Install": {"WantedBy": "timers.target"},
        }
    )


def units(settings: Settings) -> dict[str, str]:
    """Unit name -> content of the backup and verification services and their timers."""
    delay = settings.backup_randomized_delay
    return {
        "prisma-backup.service": _service("Back up the Prisma databases off-site", "backup timer"),
        BACKUP_TIMER: _timer("Off-site backups of Prisma", settings.backup_schedule, delay),
        "prisma-backup-verify.service": _service(
            "Verify the latest off-site backup of Prisma by restoring it", "verify"
        ),
        VERIFY_TIMER: _timer(
            "Verification of Prisma's off-site backups", settings.backup_verify_schedule, delay
        ),
    }


def wanted_files(settings: Settings, secrets: BackupSecrets) -> dict[str, WantedFile]:
    """Path -> content and mode of every file of configured off-site backups."""
    with_keys = secrets.s3_access_key_id is not None and secrets.s3_secret_access_key is not None
    wanted = {
        SCRIPT: WantedFile(HiddenValue(project_file_text("prisma-backup")), 755, False),
        ENV_FILE: WantedFile(HiddenValue(env_file(settings, with_keys)), 600, True),
        PASSWORD_FILE: WantedFile(secrets.repository_password, 600, True),
    }
    if with_keys:
        assert secrets.s3_access_key_id and secrets.s3_secret_access_key
        credentials = s3_credentials(
            secrets.s3_access_key_id.unmask(), secrets.s3_secret_access_key.unmask()
        )
        wanted[S3_CREDENTIALS_FILE] = WantedFile(HiddenValue(credentials), 600, True)
    for unit, content in units(settings).items():
        wanted[f"{UNIT_DIR}/{unit}"] = WantedFile(HiddenValue(content), 644, False)
    return wanted
