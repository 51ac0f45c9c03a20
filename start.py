"""`prisma local start`: bring the deployed stack back up and wait until Prisma answers.
Already running: no change. `pyinfra inventories/<x>.py start.py`"""

from tasks.errors import refusal_stops_only_this_host
from tasks.lifecycle import start_stack
from tasks.lock import host_lock
from tasks.settings import prepare_host

with refusal_stops_only_this_host():
    settings = prepare_host()
    with host_lock(settings, "start.py"):
        start_stack(settings)
