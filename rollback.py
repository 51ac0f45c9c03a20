"""Return to the images recorded before the last upgrade.py. Already there: no change.
`pyinfra inventories/<x>.py rollback.py`"""

from tasks.errors import refusal_stops_only_this_host
from tasks.lock import host_lock
from tasks.settings import prepare_host
from tasks.upgrade import roll_back_stack

with refusal_stops_only_this_host():
    settings = prepare_host()
    with host_lock(settings, "rollback.py"):
        roll_back_stack(settings)
