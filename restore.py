"""Load a dump made by backup.py (checksum verified locally and on the host).
`pyinfra inventories/<x>.py restore.py --data restore_file=backups/<host>/<file>.sql.gz
--data restore_confirm=<host name>`"""

from tasks.errors import refusal_stops_only_this_host
from tasks.lifecycle import restore_database
from tasks.lock import lock_host, unlock_host
from tasks.settings import prepare_host

with refusal_stops_only_this_host():
    settings = prepare_host()
    lock_host(settings, "restore.py")
    restore_database(settings)
    unlock_host(settings)
