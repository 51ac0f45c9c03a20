"""Return to the images recorded before the last upgrade.py. Already there: no change.
`pyinfra inventories/<x>.py rollback.py`"""

from tasks.lock import lock_host, unlock_host
from tasks.settings import current_settings
from tasks.upgrade import roll_back_stack

settings = current_settings()
lock_host(settings, "rollback.py")
roll_back_stack(settings)
unlock_host(settings)
