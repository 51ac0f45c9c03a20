"""`prisma local stop`: stop the containers; they, the volume and the data are kept.
Already stopped: no change. `pyinfra inventories/<x>.py stop.py`"""

from tasks.errors import refusal_stops_only_this_host
from tasks.lifecycle import stop_stack
from tasks.lock import host_lock
from tasks.settings import prepare_host

with refusal_stops_only_this_host():
    settings = prepare_host()
    with host_lock(settings, "stop.py"):
        stop_stack(settings)
