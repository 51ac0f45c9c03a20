"""Who holds a lock: this run's holder line, and whether a recorded holder is gone."""

from __future__ import annotations

import datetime
import getpass
import os
import re
import socket
import uuid

RUN_ID = uuid.uuid4().hex[:12]


def holder_line(deploy_file: str) -> str:
    """Who this run is: user@machine, process, run id, start time and file."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"{getpass.getuser()}@{socket.gethostname()} pid={os.getpid()} run={RUN_ID} "
        f"since={now} file={deploy_file}"
    )


def holder_is_dead_here(holder: str) -> bool:
    """True when the holder was a run on this machine whose process no longer exists."""
    match = re.match(r"\S+@(?P<machine>\S+) pid=(?P<pid>\d+) ", holder)
    if not match or match["machine"] != socket.gethostname():
        return False
    try:
        os.kill(int(match["pid"]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
