"""Custom operations of the backups part: local dumps (backup.py, restore.py) and off-site
backups (their files, the repository, and prisma-backup's backup, verify and restore)."""

from __future__ import annotations

import shlex
from pathlib import Path

from pyinfra import host, logger, state
from pyinfra.api import FunctionCommand, operation
from pyinfra.api.host import Host

from tasks.backups.commands import (
    backup_command,
    host_backup_dir,
    offsite_command,
    restore_command,
)
from tasks.backups.facts import OffsiteBackups
from tasks.backups.files import CONFIG_DIR, WantedFile
from tasks.backups.local import keep_checksum, sha256_of
from tasks.pyinfra_helpers import (
    connector_arguments,
    failure,
    log_error,
    private_transfer_dir,
    put_private_file,
    run_quietly,
)
from tasks.redaction import redact
from tasks.stack.layout import StackPaths
from tasks.stack.operations import directory_commands, file_commands


def _back_up(state, host: Host, paths, keep, local_dir: Path, arguments) -> bool:
    done, output = run_quietly(host, backup_command(paths, keep), arguments)
    lines = [line for line in output.stdout_lines if line.startswith("backup ")]
    if not done or not lines:
        log_error(host, f"backup failed: {redact(output.stderr)}")
        return False
    _, remote_file, remote_sha = lines[-1].split()
    local_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    local_file = local_dir / Path(remote_file).name
    with private_transfer_dir(host, arguments) as directory:
        temp = f"{directory}/{local_file.name}" if directory else None
        downloaded = host.get_file(
            remote_file, str(local_file), remote_temp_filename=temp, **arguments
        )
    if not downloaded:
        log_error(host, f"could not download {remote_file}")
        return False
    local_file.chmod(0o600)
    local_sha = sha256_of(local_file)
    if local_sha != remote_sha:
        log_error(host, f"downloaded {local_file} does not match the host's checksum")
        return False
    keep_checksum(local_file, local_sha)
    host.log(f"backup {remote_file} downloaded to {local_file} (sha256 {local_sha})", logger.info)
    return True


@operation(is_idempotent=False)
def database_backed_up(paths: StackPaths, keep: int, local_dir: str):
    """
    Dump every database (single transaction) through the running database container,
    keep it on the host (last `keep`), download it with its checksum.

    + paths: the stack
    + keep: backups kept on the host
    + local_dir: where the local copies go

    A backup is a new file every time: this operation always reports a change.
    """
    yield FunctionCommand(_back_up, (paths, keep, Path(local_dir), connector_arguments()), {})


def _upload_and_load(state, host: Host, paths, local_file, sha256, arguments) -> bool:
    directory = shlex.quote(host_backup_dir(paths))
    remote_file = f"{host_backup_dir(paths)}/restore-{Path(local_file).name}"
    ready, _ = run_quietly(host, f"mkdir -p -m 700 {directory}", arguments)
    if not (ready and put_private_file(host, local_file, remote_file, arguments)):
        log_error(host, f"could not upload {local_file} to {remote_file}")
        return False
    done, output = run_quietly(host, restore_command(remote_file, sha256), arguments)
    run_quietly(host, f"rm -f {shlex.quote(remote_file)}", arguments)
    if not done:
        log_error(host, f"restore failed: {redact(output.stderr)}")
        return False
    host.log(f"loaded {local_file}", logger.info)
    return True


@operation(is_idempotent=False)
def database_restored(paths: StackPaths, local_file: str, sha256: str):
    """
    Upload a dump made by backup.py, check its checksum on the host and load it.

    + paths: the stack
    + local_file: the dump (its checksum was verified locally)
    + sha256: the dump's checksum

    Tables in the dump replace the same tables in the database; others are left alone.
    """
    yield FunctionCommand(_upload_and_load, (paths, local_file, sha256, connector_arguments()), {})


# --- Off-site backups ---------------------------------------------------------------------


@operation()
def offsite_files(wanted: dict[str, WantedFile]):
    """
    Keep the files of off-site backups as given, root's: /etc/prisma-backup (0700) with
    its settings and secrets (0600), the script and the systemd units.

    + wanted: path -> content and mode; secret contents are never shown or diffed
    """
    current = host.get_fact(OffsiteBackups)
    commands = list(directory_commands(CONFIG_DIR, current.path(CONFIG_DIR), 700))
    for path, file in wanted.items():
        commands += file_commands(
            path, file.content.unmask(), current.path(path), file.mode, file.secret, edited=False
        )
    if not commands:
        host.noop("the off-site backup files are up to date")
    yield from commands


def _run_script(state, host: Host, command: str, what: str, arguments) -> bool:
    """Run prisma-backup; its report lines go to the log, its errors (masked) fail."""
    done, output = run_quietly(host, command, arguments)
    for line in output.stdout_lines:
        host.log(redact(line), logger.info)
    if not done:
        errors = [redact(line) for line in output.stderr_lines if line.strip()]
        log_error(host, f"{what} failed: " + ("\n    ".join(errors[-8:]) or "no message"))
    return done


@operation()
def repository_initialised(repository: str):
    """
    Open this host's restic repository, or create it when there is none (never over an
    existing one, nor when the repository cannot be reached or the password is wrong).

    + repository: the repository URL, as the host's settings file names it

    The host already initialised this repository: no change.
    """
    if host.get_fact(OffsiteBackups).initialised_repository == repository:
        host.noop(f"{repository} is initialised")
        return
    yield FunctionCommand(
        _run_script,
        (offsite_command("init"), "opening the backup repository", connector_arguments()),
        {},
    )


@operation(is_idempotent=False)
def offsite_backed_up(reason: str):
    """
    Back up the databases into the host's off-site repository (prisma-backup backup).

    + reason: recorded as the snapshot's `reason=` tag (e.g. upgrade.py)

    A backup is a new snapshot every time: this operation always reports a change.
    """
    command = offsite_command("backup", reason)
    yield FunctionCommand(_run_script, (command, "the off-site backup", connector_arguments()), {})


@operation(is_idempotent=False)
def offsite_restored(snapshot: str):
    """
    Load a snapshot of the off-site repository into the running database: the snapshot is
    chosen and read whole first, then a new snapshot of the database is taken, then the
    chosen one is loaded ('latest' is therefore the latest before this run).

    + snapshot: 'latest' or a snapshot ID

    Tables in the dump replace the same tables in the database; others are left alone.
    """
    command = offsite_command("restore", snapshot)
    yield FunctionCommand(_run_script, (command, "the restore", connector_arguments()), {})


@operation()
def offsite_verified(snapshot: str):
    """
    Restore a snapshot into a throwaway database container on the host (no network, no
    published port, removed afterwards) and compare its row counts with those recorded
    at dump time. A mismatch or an unreadable snapshot fails.

    + snapshot: 'latest' or a snapshot ID

    Verifying changes neither the stack nor the repository: no change.
    """
    if state.is_executing:
        arguments = connector_arguments()
        if not _run_script(
            state, host, offsite_command("verify", snapshot), "verification", arguments
        ):
            yield failure("the backup could not be verified (see above)")
            return
    host.noop("backup verified")
