"""
Who holds a lock: this run's holder line, and whether a recorded holder is gone.

A machine is known by its machine-id (not its host name, which many machines share),
and a boot by its boot-id: a holder from this machine but another boot, or whose process
no longer exists, is certainly gone.
"""

from __future__ import annotations

import datetime
import getpass
import os
import re
import socket
import uuid
from pathlib import Path

RUN_ID = uuid.uuid4().hex[:12]
_MACHINE_ID_FILES = ("/etc/machine-id", "/var/lib/dbus/machine-id")
_BOOT_ID_FILE = "/proc/sys/kernel/random/boot_id"


def _first_line(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return ""


def machine_id() -> str:
    """This machine's machine-id ('-' where it has none, e.g. macOS: never 'this machine')."""
    return next(filter(None, map(_first_line, _MACHINE_ID_FILES)), "") or "-"


def boot_id() -> str:
    return _first_line(_BOOT_ID_FILE) or "-"


def holder_line(deploy_file: str) -> str:
    """Who this run is: user@host, machine and boot, process, run id, start time and file."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"{getpass.getuser()}@{socket.gethostname()} machine={machine_id()} boot={boot_id()} "
        f"pid={os.getpid()} run={RUN_ID} since={now} file={deploy_file}"
    )


_HOLDER = re.compile(r"\S+ machine=(?P<machine>\S+) boot=(?P<boot>\S+) pid=(?P<pid>\d+) ")


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def holder_is_dead_here(holder: str) -> bool:
    """True when the holder was a run on this machine that is certainly gone: from an
    earlier boot, or its process no longer exists."""
    match = _HOLDER.match(holder)
    here = machine_id()
    if not match or here == "-" or match["machine"] != here:
        return False
    return match["boot"] != boot_id() or not _process_exists(int(match["pid"]))
