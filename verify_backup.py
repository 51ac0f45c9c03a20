"""Prove the latest off-site backup restores: load it into a throwaway database container
on the host (no network, no published port, removed afterwards) and compare the row counts
with those recorded at dump time. A mismatch or an unreadable snapshot fails, and
status.py shows it. `pyinfra inventories/<x>.py verify_backup.py`"""

from tasks.actions.backup import verify_backup
from tasks.actions.preflight import prepare_host
from tasks.errors import refusal_stops_only_this_host

# Verifying changes neither the stack nor the repository: it takes no deploy lock (the
# script on the host serialises its own runs).
with refusal_stops_only_this_host():
    verify_backup(prepare_host())
