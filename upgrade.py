"""`prisma local upgrade`: pull the configured tags, recreate only services whose image
changed, roll back automatically if Prisma does not answer. The database volume is never
touched. `pyinfra inventories/<x>.py upgrade.py`"""

from tasks.errors import refusal_stops_only_this_host
from tasks.lock import host_lock
from tasks.settings import prepare_host
from tasks.upgrade import upgrade_stack

with refusal_stops_only_this_host():
    settings = prepare_host()
    with host_lock(settings, "upgrade.py"):
        upgrade_stack(settings)
