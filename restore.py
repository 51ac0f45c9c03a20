"""Load a dump made by backup.py (checksum verified locally and on the host).
`pyinfra inventories/<x>.py restore.py --data restore_file=backups/<host>/<file>.sql.gz
--data restore_confirm=<host name>`"""

from tasks.errors import refusal_stops_only_this_host
from tasks.lifecycle import restore_database
from tasks.lock import host_lock
from tasks.settings import prepare_host

with refusal_stops_only_this_host():
    settings = prepare_host()
    with host_lock(settings, "restore.py"):
        restore_database(settings)
