"""A consistent dump of the databases, kept on the host (last backup_keep) and downloaded
to backups/<host>/ with its checksum. `pyinfra inventories/<x>.py backup.py`"""

from tasks.actions.backup import back_up_database
from tasks.actions.preflight import prepare_host
from tasks.errors import refusal_stops_only_this_host
from tasks.lock.operations import host_lock

with refusal_stops_only_this_host():
    settings = prepare_host()
    with host_lock(settings, "backup.py"):
        back_up_database(settings)
