"""`prisma local stop`: stop the containers; they, the volume and the data are kept.
Already stopped: no change. `pyinfra inventories/<x>.py stop.py`"""

from tasks.actions.preflight import prepare_host
from tasks.actions.start_stop import stop_stack
from tasks.errors import refusal_stops_only_this_host
from tasks.lock.operations import host_lock

with refusal_stops_only_this_host():
    settings = prepare_host()
    with host_lock(settings, "stop.py"):
        stop_stack(settings)
