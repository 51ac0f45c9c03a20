"""Return to the images recorded before the last upgrade.py. Already there: no change.
`pyinfra inventories/<x>.py rollback.py`"""

from tasks.actions.preflight import prepare_host
from tasks.actions.upgrade import roll_back_stack
from tasks.errors import refusal_stops_only_this_host
from tasks.lock.operations import host_lock

with refusal_stops_only_this_host():
    settings = prepare_host()
    with host_lock(settings, "rollback.py"):
        roll_back_stack(settings)
