"""Load a dump made by backup.py (checksum verified locally and on the host).
`pyinfra inventories/<x>.py restore.py --data restore_file=backups/<host>/<file>.sql.gz
--data restore_confirm=<host name>`"""

from tasks.actions.backup import restore_database
from tasks.actions.preflight import prepare_host
from tasks.errors import refusal_stops_only_this_host
from tasks.lock.operations import host_lock

with refusal_stops_only_this_host():
    settings = prepare_host()
    with host_lock(settings, "restore.py"):
        restore_database(settings)
