"""Custom operations of the cluster part: the local CLI entry file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pyinfra import host
from pyinfra.api import FunctionCommand, operation
from pyinfra.api.host import Host

from tasks.cluster.entry import ENTRY_FILE, render_entry
from tasks.secrets.store import CLUSTER_PRIVATE_KEY_FILE


def _wanted(store_dir: Path, cluster_name: str, url: str) -> str | None:
    private_key = store_dir / CLUSTER_PRIVATE_KEY_FILE
    if not private_key.exists():
        return None
    return render_entry(cluster_name, url, private_key.read_text(encoding="utf-8"))


def _write(state, host: Host, store_dir: Path, cluster_name: str, url: str) -> bool:
    """Written whole to a private temp file, then renamed into place: never readable by
    others, never half there. The key is read here, so it is in no operation argument."""
    content = _wanted(store_dir, cluster_name, url)
    if content is None:
        return False
    descriptor, temp = tempfile.mkstemp(dir=store_dir, prefix=f".{ENTRY_FILE}.")  # 0600
    with os.fdopen(descriptor, "w", encoding="utf-8") as entry:
        entry.write(content)
    os.replace(temp, store_dir / ENTRY_FILE)
    host.log(f"Prisma CLI cluster entry: {store_dir / ENTRY_FILE} (0600)")
    return True


def _holds(store_dir: Path, wanted: str) -> bool:
    """The entry file holds exactly `wanted`, mode 0600."""
    current = store_dir / ENTRY_FILE
    same = current.exists() and current.read_text(encoding="utf-8") == wanted
    return same and current.stat().st_mode & 0o777 == 0o600


def entry_is_current(store_dir: Path, cluster_name: str, url: str) -> bool:
    """True when the entry file already holds what would be written, mode 0600 (or
    there is no private key to write one from)."""
    wanted = _wanted(store_dir, cluster_name, url)
    return wanted is None or _holds(store_dir, wanted)


@operation()
def cluster_entry_kept(store_dir: str, cluster_name: str, url: str):
    """
    Keep `<store_dir>/prisma-cluster.yml` (0600, on this machine): the Prisma 1 CLI's
    cluster entry for the host, with the cluster's private key from the store.

    + store_dir: the host's local secret store
    + cluster_name: the entry's name (the host's)
    + url: where the CLI reaches the server
    """
    directory = Path(store_dir)
    wanted = _wanted(directory, cluster_name, url)
    if wanted is None:
        host.noop("no cluster private key in the local store: the key pair is yours")
        return
    if _holds(directory, wanted):
        host.noop(f"{directory / ENTRY_FILE} is up to date")
        return
    yield FunctionCommand(_write, (directory, cluster_name, url), {})
