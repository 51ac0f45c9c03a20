"""`prisma local start`: bring the deployed stack back up and wait until Prisma answers.
Already running: no change. `pyinfra inventories/<x>.py start.py`"""

from tasks.actions.preflight import prepare_host
from tasks.actions.start_stop import start_stack
from tasks.errors import refusal_stops_only_this_host
from tasks.lock.operations import host_lock

with refusal_stops_only_this_host():
    settings = prepare_host()
    with host_lock(settings, "start.py"):
        start_stack(settings)
