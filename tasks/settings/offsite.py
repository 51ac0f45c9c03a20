"""The settings of off-site backups (restic), declared like every other setting; Settings
inherits them. None of them matters while `backup_repository` is unset."""

from __future__ import annotations

from dataclasses import dataclass

from pyinfra.api import HiddenValue

from tasks.settings import checks as check
from tasks.settings import checks_backups as backup_check
from tasks.settings.spec import setting


@dataclass(frozen=True, kw_only=True)
class OffsiteBackupSettings:
    backup_repository: str | None = setting(
        None,
        "Off-site backups: where each host's restic repository goes, <this>/<host name>: "
        "'s3:https://<region>.digitaloceanspaces.com/<bucket>' (any S3 endpoint) or any "
        "restic repository URL. None: no off-site backups.",
        check.optional(backup_check.restic_repository),
    )
    backup_schedule: str = setting(
        "*-*-* 03:00:00",
        "Off-site backups: when the timer backs up (systemd OnCalendar; checked with "
        "systemd-analyze calendar on the host).",
        backup_check.calendar,
    )
    backup_randomized_delay: int = setting(
        1800,
        "Off-site backups: up to this many seconds of random delay after each scheduled "
        "time (RandomizedDelaySec), so hosts do not all start at once.",
        check.integer(0, 86400),
    )
    backup_verify_schedule: str = setting(
        "Sun *-*-* 05:00:00",
        "Off-site backups: when the timer verifies the latest snapshot (OnCalendar).",
        backup_check.calendar,
    )
    backup_keep_daily: int = setting(
        7, "Off-site backups: daily snapshots kept (restic --keep-daily).", check.integer(0, 10000)
    )
    backup_keep_weekly: int = setting(
        4, "Off-site backups: weekly snapshots kept (--keep-weekly).", check.integer(0, 10000)
    )
    backup_keep_monthly: int = setting(
        6, "Off-site backups: monthly snapshots kept (--keep-monthly).", check.integer(0, 10000)
    )
    backup_ping_url: str | None = setting(
        None,
        "Off-site backups: URL called (GET) after each successful backup, and <url>/fail "
        "after a failed backup or verification (healthchecks.io style).",
        check.optional(backup_check.http_url),
    )
    backup_s3_access_key_id: HiddenValue | None = setting(
        None,
        "S3 access key ID of the backup bucket. Environment: PRISMA_BACKUP_S3_ACCESS_KEY_ID.",
        check.optional(backup_check.secret_token),
        secret=True,
    )
    backup_s3_secret_access_key: HiddenValue | None = setting(
        None,
        "S3 secret key of the backup bucket. Environment: PRISMA_BACKUP_S3_SECRET_ACCESS_KEY.",
        check.optional(backup_check.secret_token),
        secret=True,
    )
    backup_repository_password: HiddenValue | None = setting(
        None,
        "Password of the host's restic repository. None generates one on the first deploy "
        "and keeps it locally. Environment: PRISMA_BACKUP_REPOSITORY_PASSWORD.",
        check.optional(check.secret_text),
        secret=True,
    )
