"""`prisma local nuke`: back up, then kill, down (volumes, orphans), up: an empty database.
Refuses without consent naming the host: `--data nuke_confirm=<host name>`.
`pyinfra inventories/<x>.py nuke.py --data nuke_confirm=<host name>`"""

from tasks.actions.preflight import prepare_host
from tasks.actions.start_stop import nuke_stack
from tasks.errors import refusal_stops_only_this_host
from tasks.lock.operations import host_lock

with refusal_stops_only_this_host():
    settings = prepare_host()
    with host_lock(settings, "nuke.py"):
        nuke_stack(settings)
