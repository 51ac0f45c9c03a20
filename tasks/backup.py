"""
backup.py and restore.py: consistent dumps of the stack's databases, kept on the host
and downloaded with a checksum; and loading such a dump back.

A dump holds every database except MySQL's own (mysql, sys, information_schema,
performance_schema): restoring one therefore never changes users or passwords, so the
stack's credentials keep working.
"""

from __future__ import annotations

import hashlib
import os
import shlex
from pathlib import Path

from pyinfra import logger
from pyinfra.api import FileUploadCommand, FunctionCommand, operation

from tasks.commands import StackPaths
from tasks.errors import HostRefused
from tasks.operations import connector_arguments, run_quietly
from tasks.redaction import redact

BACKUP_DIR_ENV = "PRISMA_BACKUP_DIR"
DEFAULT_LOCAL_DIR = Path(__file__).resolve().parent.parent / "backups"
SYSTEM_SCHEMAS = ("mysql", "sys", "information_schema", "performance_schema")
DB_CONTAINER = "prisma-db"
# The root password stays inside the database container: it is read there from the
# container's own environment, never put on a command line.
_AS_ROOT = 'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" exec'


class BackupError(HostRefused):
    """A dump to restore is missing or does not match its checksum."""


def host_backup_dir(paths: StackPaths) -> str:
    return f"{paths.directory}/backups"


def local_backup_dir(host_name: str, environ=os.environ) -> Path:
    root = Path(environ.get(BACKUP_DIR_ENV) or DEFAULT_LOCAL_DIR)
    return root / host_name.replace("/", "_")


def backup_command(paths: StackPaths, keep: int) -> str:
    return f"bash -c {shlex.quote(backup_script(paths, keep))}"


def backup_script(paths: StackPaths, keep: int) -> str:
    """Dump, compress, checksum and prune on the host; print `backup <file> <sha256>`."""
    directory = shlex.quote(host_backup_dir(paths))
    excluded = "|".join(SYSTEM_SCHEMAS)
    return f"""
set -euo pipefail
umask 077
mkdir -p {directory}
file={directory}/{paths.project}-$(date -u +%Y%m%dT%H%M%SZ).sql.gz
databases=$(docker exec {DB_CONTAINER} sh -c '{_AS_ROOT} mysql -uroot -N -B -e "SHOW DATABASES"' \\
    | grep -Ev '^({excluded})$' || true)
docker exec {DB_CONTAINER} sh -c '{_AS_ROOT} mysqldump -uroot --single-transaction \\
    --routines --events --triggers --databases "$@"' dump $databases | gzip > "$file.partial"
mv "$file.partial" "$file"
(cd {directory} && sha256sum "$(basename "$file")" > "$file.sha256")
ls -1t {directory}/{paths.project}-*.sql.gz | tail -n +{keep + 1} | while read -r old; do
    rm -f "$old" "$old.sha256"
done
echo "backup $file $(cut -d' ' -f1 "$file.sha256")"
"""


def restore_command(remote_file: str, sha256: str) -> str:
    """Check the uploaded dump's checksum on the host, then load it."""
    quoted = shlex.quote(remote_file)
    script = f"""
set -euo pipefail
echo {sha256}  {quoted} | sha256sum --check --quiet
gunzip -c {quoted} | docker exec -i {DB_CONTAINER} sh -c '{_AS_ROOT} mysql -uroot'
"""
    return f"bash -c {shlex.quote(script)}"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verified_dump(local_file: str) -> tuple[Path, str]:
    """The dump and its checksum from the `.sha256` beside it; raise if they disagree."""
    dump = Path(local_file).expanduser()
    checksum_file = dump.with_name(dump.name + ".sha256")
    if not dump.is_file():
        raise BackupError(f"restore_file: {dump} does not exist")
    if not checksum_file.is_file():
        raise BackupError(f"restore_file: {checksum_file} (its checksum) does not exist")
    expected = checksum_file.read_text().split()[0]
    actual = sha256_of(dump)
    if actual != expected:
        raise BackupError(
            f"restore_file: {dump} does not match its checksum ({actual} != {expected}); "
            "refusing to load a damaged dump"
        )
    return dump, expected


def _backup(state, host, paths, keep, local_dir, arguments) -> bool:
    done, output = run_quietly(host, backup_command(paths, keep), arguments)
    lines = [line for line in output.stdout_lines if line.startswith("backup ")]
    if not done or not lines:
        host.log_styled(f"backup failed: {redact(output.stderr)}", fg="red", log_func=logger.error)
        return False
    _, remote_file, remote_sha = lines[-1].split()
    local_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    local_file = local_dir / Path(remote_file).name
    if not host.get_file(remote_file, str(local_file), **arguments):
        host.log_styled(f"could not download {remote_file}", fg="red", log_func=logger.error)
        return False
    os.chmod(local_file, 0o600)
    local_sha = sha256_of(local_file)
    if local_sha != remote_sha:
        host.log_styled(
            f"downloaded {local_file} does not match the host's checksum",
            fg="red",
            log_func=logger.error,
        )
        return False
    checksum = local_file.with_name(local_file.name + ".sha256")
    checksum.write_text(f"{local_sha}  {local_file.name}\n")
    os.chmod(checksum, 0o600)
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
    yield FunctionCommand(_backup, (paths, keep, Path(local_dir), connector_arguments()), {})


def _load(state, host, remote_file, sha256, arguments) -> bool:
    done, output = run_quietly(host, restore_command(remote_file, sha256), arguments)
    if not done:
        host.log_styled(f"restore failed: {redact(output.stderr)}", fg="red", log_func=logger.error)
        return False
    host.log(f"loaded {remote_file}", logger.info)
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
    remote = f"{host_backup_dir(paths)}/restore-{Path(local_file).name}"
    yield f"mkdir -p -m 700 {shlex.quote(host_backup_dir(paths))}"
    yield FileUploadCommand(local_file, remote)
    yield f"chmod 600 {shlex.quote(remote)}"
    yield FunctionCommand(_load, (remote, sha256, connector_arguments()), {})
