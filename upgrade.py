"""`prisma local upgrade`: pull the configured tags, recreate only services whose image
changed, roll back automatically if Prisma does not answer. The database volume is never
touched. `pyinfra inventories/<x>.py upgrade.py`"""

from tasks.actions.preflight import prepare_host
from tasks.actions.upgrade import upgrade_stack
from tasks.errors import refusal_stops_only_this_host
from tasks.lock.operations import host_lock

with refusal_stops_only_this_host():
    settings = prepare_host()
    with host_lock(settings, "upgrade.py"):
        upgrade_stack(settings)
