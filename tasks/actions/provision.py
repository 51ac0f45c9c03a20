"""provision.py and destroy.py: the DigitalOcean side declared from the settings, run on
@local. Everything is read and decided while pyinfra prepares the run, so bad input and
what cannot change in place stop it before any API write."""

from __future__ import annotations

import os

from pyinfra import host, logger
from pyinfra.api import deploy

from tasks.actions.preflight import ConsentError
from tasks.cloud.api import Api
from tasks.cloud.decide import plan_account
from tasks.cloud.execute import Run
from tasks.cloud.kept import read_kept_ips
from tasks.cloud.operations import (
    cloud_resources,
    droplet_backed_up,
    droplet_deleted,
    droplets_answer_ssh,
)
from tasks.cloud.reach import SshAccess, public_ipv4, public_key_file, ssh_access
from tasks.cloud.read import AccountState, read_account, read_for_destroy
from tasks.cloud.teardown import doomed_droplet
from tasks.cloud.wanted import dns_names, droplet_names, wanted_account
from tasks.settings import Settings, load_settings

DEFAULT_TAG = "prisma"


def local_settings() -> Settings:
    return load_settings(host.name, host.data.dict())


def _tag() -> str:
    return os.environ.get("PRISMA_DO_TAG") or DEFAULT_TAG


def _answers(found: AccountState, name: str, access: SshAccess) -> bool:
    droplet = found.droplets.get(name)
    if droplet is None or droplet.get("status") != "active":
        return False
    address = public_ipv4(droplet)
    return address is not None and access.for_droplet(name).knows(address)


@deploy("Provision DigitalOcean droplets")
def provision_droplets(settings: Settings) -> None:
    key_file = public_key_file(settings.do_ssh_public_key)
    wanted = wanted_account(settings, _tag(), key_file.read_text())
    found = read_account(Api(), wanted)
    plan = plan_account(wanted, found, read_kept_ips(), settings.do_resize_confirm or [])
    for note in plan.notes:
        logger.warning(f"{host.print_prefix}{note}")
    run = Run(wanted, found, settings.do_ssh_timeout)
    cloud_resources(name="Converge the DigitalOcean resources", changes=plan.changes, run=run)
    access = ssh_access(key_file)
    droplets_answer_ssh(
        name="Wait until each droplet answers SSH; record its host key",
        unreached=tuple(d.name for d in wanted.droplets if not _answers(found, d.name, access)),
        fresh=plan.new_droplets,
        run=run,
        access=access,
    )


def _check_consent(settings: Settings, names: list[str], data: list[str]) -> None:
    given = settings.destroy_confirm or []
    missing = [name for name in names if name not in given]
    if missing:
        consent = ",".join(names)
        raise ConsentError(
            f"refusing to delete {', '.join(missing)} without consent naming each "
            f"(destroy_confirm). To go ahead: --data destroy_confirm={consent}"
            + (
                " (with destroy_data=true this also deletes " + ", ".join(data) + ")"
                if data
                else ""
            )
        )


@deploy("Destroy DigitalOcean droplets")
def destroy_droplets(settings: Settings) -> None:
    wanted_names = droplet_names(settings)
    found = read_for_destroy(Api(), settings.do_region, settings.prisma_domain)
    dns = dns_names(settings, wanted_names)
    doomed = [doomed_droplet(found, name, dns[name]) for name in wanted_names]
    doomed = [d for d in doomed if d.droplet_id is not None or (settings.destroy_data and d.data)]
    if not doomed:
        host.noop("no declared droplet exists")
        return
    _check_consent(settings, [d.name for d in doomed], [x for d in doomed for x in d.data])
    for each in doomed:
        if each.droplet_id is not None and public_ipv4(found.droplets[each.name]):
            droplet_backed_up(name=f"Final backup of {each.name}", droplet=each.name)
        droplet_deleted(
            name=f"Delete {each.name}" + (" and its data" if settings.destroy_data else ""),
            doomed=each,
            delete_data=settings.destroy_data,
        )
