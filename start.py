"""`prisma local start`: bring the deployed stack back up and wait until Prisma answers.
Already running: no change. `pyinfra inventories/<x>.py start.py`"""

from tasks.lifecycle import start_stack
from tasks.lock import lock_host, unlock_host
from tasks.settings import current_settings

settings = current_settings()
lock_host(settings, "start.py")
start_stack(settings)
unlock_host(settings)
