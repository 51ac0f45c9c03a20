"""backup.py and restore.py: a dump kept on the host and downloaded; a dump loaded back."""

from __future__ import annotations

from pyinfra.api import deploy

from tasks.actions.preflight import ConsentError, deployed_stack, require_consent
from tasks.backups.local import local_backup_dir, verified_dump
from tasks.backups.operations import database_backed_up, database_restored
from tasks.settings import Settings
from tasks.stack.layout import StackPaths


def back_up(settings: Settings, paths: StackPaths) -> None:
    database_backed_up(
        name="Back up the databases (kept on the host and downloaded)",
        paths=paths,
        keep=settings.backup_keep,
        local_dir=str(local_backup_dir(settings.host_name)),
    )


@deploy("Back up the Prisma databases")
def back_up_database(settings: Settings) -> None:
    back_up(settings, deployed_stack(settings))


@deploy("Restore the Prisma databases")
def restore_database(settings: Settings) -> None:
    if settings.restore_file is None:
        raise ConsentError(
            f"host {settings.host_name}: say which dump to load with "
            "--data restore_file=backups/<host>/<file>.sql.gz"
        )
    require_consent(settings, "restore_confirm", "overwrite the databases in the dump")
    dump, sha256 = verified_dump(settings.restore_file)
    paths = deployed_stack(settings)
    back_up(settings, paths)  # what the restore replaces can be had back
    database_restored(
        name="Upload the dump, check its checksum and load it",
        paths=paths,
        local_file=str(dump),
        sha256=sha256,
    )
