"""Custom operations of backup.py and restore.py."""

from __future__ import annotations

import shlex
from pathlib import Path

from pyinfra import logger
from pyinfra.api import FunctionCommand, operation
from pyinfra.api.host import Host

from tasks.backups.commands import backup_command, host_backup_dir, restore_command
from tasks.backups.local import keep_checksum, sha256_of
from tasks.pyinfra_helpers import (
    connector_arguments,
    log_error,
    private_transfer_dir,
    put_private_file,
    run_quietly,
)
from tasks.redaction import redact
from tasks.stack.layout import StackPaths


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
