"""The operations of provision.py and destroy.py, run on @local: DigitalOcean's
resources converged, droplets answering SSH, droplets (and their data) deleted."""

from __future__ import annotations

from pyinfra import host, logger
from pyinfra.api import FunctionCommand, operation

from tasks.cloud.decide import Change
from tasks.cloud.execute import Run, apply_change
from tasks.cloud.reach import SshAccess, public_ipv4, wait_for_ssh
from tasks.cloud.teardown import Doomed, delete_droplet, final_backup
from tasks.errors import HostRefused
from tasks.pyinfra_helpers import log_error

NEXT_COMMAND = "pyinfra inventories/do.py deploy.py"


@operation()
def cloud_resources(changes: tuple[Change, ...], run: Run):
    """
    Converge DigitalOcean's resources: one API write per change, none when nothing differs.

    + changes: decided by tasks.cloud.decide.plan_account
    + run: the run's context (ids learnt on the way; no token)
    """
    if not changes:
        host.noop("every DigitalOcean resource is as declared")
        return
    for change in changes:
        yield FunctionCommand(apply_change, (change, run), {})


def reach_droplet(state, host, name: str, fresh: bool, run: Run, access: SshAccess) -> bool:
    access = access.for_droplet(name)  # PRISMA_SSH_PORTS may give each its own port
    try:
        address = public_ipv4(run.active_droplet(name))
        wait_for_ssh(access, name, address, fresh, run.timeout)
    except HostRefused as error:
        log_error(host, str(error))
        return False
    logger.info(f"{host.print_prefix}{name} answers SSH at {access.host_id(address)}")
    return True


def say_next(state, host) -> bool:
    logger.info(f"{host.print_prefix}Next: {NEXT_COMMAND}")
    return True


@operation()
def droplets_answer_ssh(unreached: tuple[str, ...], fresh: frozenset, run: Run, access: SshAccess):
    """
    Wait until each droplet is active and answers SSH with the key; record its host key.

    + unreached: droplets not yet known to answer (active, host key recorded)
    + fresh: droplets this run creates (an old key at their address is dropped)
    """
    if not unreached:
        host.noop(f"every droplet answers SSH; next: {NEXT_COMMAND}")
        return
    for name in unreached:
        yield FunctionCommand(reach_droplet, (name, name in fresh, run, access), {})
    yield FunctionCommand(say_next, (), {})


@operation(is_idempotent=False)
def droplet_deleted(doomed: Doomed, delete_data: bool):
    """
    Delete a droplet; with delete_data also its volume, reserved IP and DNS record.

    + doomed: the droplet and its data's resources, as read
    + delete_data: destroy_data=true (with consent): otherwise they are kept and listed
    """
    yield FunctionCommand(delete_droplet, (doomed, delete_data), {})


@operation(is_idempotent=False)
def droplet_backed_up(droplet: str):
    """
    A final backup of a droplet's databases (backup.py through inventories/do.py), where
    the stack answers; a droplet without one is said and left to the deletion.

    + droplet: its name
    """
    yield FunctionCommand(final_backup, (droplet,), {})
