"""`prisma cluster logs`: the services' logs, each line prefixed with its host.
Settings: logs_service, logs_lines, logs_since, logs_follow. `pyinfra inventories/<x>.py logs.py`"""

from tasks.actions.preflight import prepare_host
from tasks.actions.reports import show_logs
from tasks.errors import refusal_stops_only_this_host

# Reading logs changes nothing and may follow them for hours: it takes no deploy lock.
with refusal_stops_only_this_host():
    show_logs(prepare_host())
