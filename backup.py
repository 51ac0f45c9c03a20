"""A consistent dump of the databases, kept on the host (last backup_keep) and downloaded
to backups/<host>/ with its checksum. `pyinfra inventories/<x>.py backup.py`"""

from tasks.errors import refusal_stops_only_this_host
from tasks.lifecycle import back_up_database
from tasks.lock import host_lock
from tasks.settings import prepare_host

with refusal_stops_only_this_host():
    settings = prepare_host()
    with host_lock(settings, "backup.py"):
        back_up_database(settings)
