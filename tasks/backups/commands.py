"""Pure command builders of backups: dump on the host, and load a dump back; the off-site
backup script's subcommands and what status.py reads of them."""

from __future__ import annotations

import shlex

from tasks.backups.files import BACKUP_TIMER, SCRIPT, STATE_DIR
from tasks.stack.layout import DB_CONTAINER, StackPaths

SYSTEM_SCHEMAS = ("mysql", "sys", "information_schema", "performance_schema")
# The root password stays inside the database container: it is read there from the
# container's own environment, never put on a command line.
_AS_ROOT = 'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" exec'


def host_backup_dir(paths: StackPaths) -> str:
    return paths.backups_dir


def backup_script(paths: StackPaths, keep: int) -> str:
    """Dump, compress, checksum and prune on the host; print `backup <file> <sha256>`."""
    directory = shlex.quote(host_backup_dir(paths))
    excluded = "|".join(SYSTEM_SCHEMAS)
    return f"""
set -euo pipefail
umask 077
mkdir -p {directory}
# Left by runs that died: partial dumps, and dumps uploaded to be restored.
find {directory} -maxdepth 1 \\( -name '*.partial' -o -name 'restore-*' \\) -mmin +60 -delete
# The time, then a random part: two backups in one second get two names.
file=$(mktemp --suffix=.sql.gz {directory}/{paths.project}-$(date -u +%Y%m%dT%H%M%SZ)-XXXXXX)
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


def backup_command(paths: StackPaths, keep: int) -> str:
    return f"bash -c {shlex.quote(backup_script(paths, keep))}"


def restore_command(remote_file: str, sha256: str) -> str:
    """Check the uploaded dump's checksum on the host, then load it."""
    quoted = shlex.quote(remote_file)
    script = f"""
set -euo pipefail
echo {sha256}  {quoted} | sha256sum --check --quiet
gunzip -c {quoted} | docker exec -i {DB_CONTAINER} sh -c '{_AS_ROOT} mysql -uroot'
"""
    return f"bash -c {shlex.quote(script)}"


# --- Off-site backups: files/prisma-backup on the host does the work --------------------


def offsite_command(subcommand: str, *arguments: str) -> str:
    """`prisma-backup <subcommand> ...` (init, backup, verify, restore) on the host."""
    return " ".join([SCRIPT, subcommand, *(shlex.quote(argument) for argument in arguments)])


def offsite_status_probe() -> str:
    """For status.py: `<record> <key>=<value>` for each line prisma-backup recorded in
    last-backup, last-backup-failure and last-verify, and `next-backup <time>`."""
    state = shlex.quote(STATE_DIR)
    return (
        "for f in last-backup last-backup-failure last-verify; do "
        f'[ -f {state}/$f ] && sed "s/^/$f /" {state}/$f; done; '
        f'echo "next-backup $(systemctl show -P NextElapseUSecRealtime {BACKUP_TIMER} '
        '2>/dev/null)"; true'
    )
