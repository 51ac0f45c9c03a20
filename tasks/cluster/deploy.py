"""The Prisma CLI's cluster entry for a deployed host, on the machine that deploys."""

from __future__ import annotations

import os

from pyinfra import host
from pyinfra.api import deploy

from tasks.cluster.entry import cluster_url
from tasks.cluster.operations import cluster_entry_kept, entry_is_current
from tasks.secrets.store import SecretStore, secrets_root
from tasks.settings import Settings

CLUSTER_KEY_VARIABLE = "PRISMA_CLUSTER_PUBLIC_KEY"


def _address() -> str:
    if host.name.startswith("@local"):
        return "127.0.0.1"
    return str(host.data.get("ssh_hostname") or host.name)


def keep_cluster_entry(settings: Settings) -> None:
    """After the stack answers: a ready ~/.prisma/config.yml entry for this host, when the
    cluster's key pair is the one this project generated and keeps. Checked before
    pyinfra's @deploy: a current entry costs no operation and no deploy call, which every
    converged host would pay on a no-op run."""
    if settings.prisma_cluster_public_key is not None or os.environ.get(CLUSTER_KEY_VARIABLE):
        return  # the public key was given: its private half is not this project's
    store = SecretStore(secrets_root(), settings.host_name)
    url = cluster_url(settings, _address())
    if not entry_is_current(store.path, settings.host_name, url):
        _write_cluster_entry(store, settings.host_name, url)


@deploy("Keep the Prisma CLI's cluster entry")
def _write_cluster_entry(store: SecretStore, cluster_name: str, url: str) -> None:
    cluster_entry_kept(
        name="Write the Prisma CLI cluster entry (private key, 0600, on this machine)",
        store_dir=str(store.path),
        cluster_name=cluster_name,
        url=url,
    )
