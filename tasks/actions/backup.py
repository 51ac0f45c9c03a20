"""backup.py, restore.py and verify_backup.py: a dump kept on the host and downloaded, and
a snapshot in the off-site repository when one is configured; a dump or a snapshot loaded
back; the latest snapshot proven to restore."""

from __future__ import annotations

from pyinfra.api import deploy

from tasks.actions.preflight import ConsentError, deployed_stack, require_consent
from tasks.backups.local import local_backup_dir, verified_dump
from tasks.backups.operations import (
    database_backed_up,
    database_restored,
    offsite_backed_up,
    offsite_restored,
    offsite_verified,
)
from tasks.errors import HostRefused
from tasks.settings import Settings
from tasks.stack.layout import StackPaths


def back_up(settings: Settings, paths: StackPaths, reason: str) -> None:
    """A local dump (kept on the host and downloaded), then a snapshot in the off-site
    repository when one is configured; `reason`: the deploy file that asked for it."""
    back_up_locally(settings, paths)
    back_up_offsite(settings, reason)


def back_up_locally(settings: Settings, paths: StackPaths) -> None:
    database_backed_up(
        name="Back up the databases (kept on the host and downloaded)",
        paths=paths,
        keep=settings.backup_keep,
        local_dir=str(local_backup_dir(settings.host_name)),
    )


def back_up_offsite(settings: Settings, reason: str) -> None:
    if settings.backup_repository is not None:
        offsite_backed_up(name="Back up the databases into the off-site repository", reason=reason)


@deploy("Back up the Prisma databases")
def back_up_database(settings: Settings) -> None:
    back_up(settings, deployed_stack(settings), reason="backup.py")


@deploy("Restore the Prisma databases")
def restore_database(settings: Settings) -> None:
    if settings.restore_file is None and settings.restore_snapshot is None:
        raise ConsentError(
            f"host {settings.host_name}: say what to load with "
            "--data restore_file=backups/<host>/<file>.sql.gz, or with "
            "--data restore_snapshot=latest (or a snapshot ID) from the off-site repository"
        )
    require_consent(settings, "restore_confirm", "overwrite the databases in the dump")
    dump = verified_dump(settings.restore_file) if settings.restore_file else None
    paths = deployed_stack(settings)
    # What the restore replaces can be had back: a local dump first, and a snapshot.
    back_up_locally(settings, paths)
    if dump is not None:
        back_up_offsite(settings, reason="restore.py")
        database_restored(
            name="Upload the dump, check its checksum and load it",
            paths=paths,
            local_file=str(dump[0]),
            sha256=dump[1],
        )
    else:
        # The script takes the snapshot itself, after choosing the one to load: 'latest'
        # stays the latest before this run.
        offsite_restored(
            name=f"Back up, then load snapshot {settings.restore_snapshot} of the repository",
            snapshot=settings.restore_snapshot,
        )


@deploy("Verify the off-site backup")
def verify_backup(settings: Settings) -> None:
    if settings.backup_repository is None:
        raise HostRefused(
            f"host {settings.host_name}: no off-site backups to verify: backup_repository "
            "is not set"
        )
    deployed_stack(settings)
    offsite_verified(
        name="Restore the latest snapshot into a throwaway database and compare row counts",
        snapshot="latest",
    )
