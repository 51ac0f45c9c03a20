"""Each service's state, health, image and digest, uptime, and whether GET /status answers.
`--data status_format=json` prints one JSON object per host on stdout.
`pyinfra inventories/<x>.py status.py`"""

from tasks.actions.preflight import prepare_host
from tasks.actions.reports import report_status
from tasks.errors import refusal_stops_only_this_host

# Reading the status changes nothing: it takes no deploy lock.
with refusal_stops_only_this_host():
    report_status(prepare_host())
