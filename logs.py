"""`prisma cluster logs`: the services' logs, each line prefixed with its host.
Settings: logs_service, logs_lines, logs_since, logs_follow. `pyinfra inventories/<x>.py logs.py`"""

from tasks.lifecycle import show_logs
from tasks.settings import current_settings

# Reading logs changes nothing and may follow them for hours: it takes no deploy lock.
show_logs(current_settings())
