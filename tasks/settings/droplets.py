"""
Settings of the DigitalOcean side (provision.py, destroy.py) and of the data volume the
deploy mounts: fields of Settings, declared with setting() like every other (Settings in
catalogue.py inherits them; the catalogue would be over 300 lines otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tasks.settings import checks as check
from tasks.settings import checks_droplets as droplet_check
from tasks.settings.spec import setting


@dataclass(frozen=True)
class DropletSettings:
    """The DigitalOcean resources provision.py declares, destroy.py's consent, and where
    the database's data lives on a droplet."""

    do_droplets: Any = setting(
        1,
        "provision.py: the droplets: a count (1 to 50, named do_name_prefix-01, -02, ...) "
        "or a list of names (valid host names).",
        droplet_check.droplet_names,
    )
    do_name_prefix: str = setting(
        "prisma", "provision.py: name prefix of counted droplets.", droplet_check.hostname_label
    )
    do_region: str = setting(
        "fra1", "provision.py: region slug (checked against the API).", droplet_check.slug
    )
    do_size: str = setting(
        "s-1vcpu-2gb", "provision.py: size slug (checked against the API).", droplet_check.slug
    )
    do_image: str = setting(
        "debian-13-x64", "provision.py: image slug of new droplets (Debian 13).", droplet_check.slug
    )
    do_ssh_public_key: str | None = setting(
        None,
        "provision.py: public key file registered once (found again by fingerprint) and put "
        "on new droplets. None: PRISMA_SSH_KEY + '.pub', else ~/.ssh/id_ed25519.pub, "
        "id_ecdsa.pub or id_rsa.pub.",
        check.optional(droplet_check.non_empty_text),
    )
    do_tags: list = setting(
        [], "provision.py: tags besides 'prisma' (PRISMA_DO_TAG).", droplet_check.tag_list
    )
    do_monitoring: bool = setting(
        True,
        "provision.py: install DigitalOcean's monitoring agent on new droplets.",
        check.boolean,
    )
    do_vpc_uuid: str | None = setting(
        None,
        "provision.py: VPC of new droplets. None: the region's default VPC.",
        check.optional(droplet_check.non_empty_text),
    )
    do_volume_size: int = setting(
        10,
        "provision.py: size in GiB of each droplet's block-storage volume for the database.",
        check.integer(1, 16384),
    )
    do_ssh_sources: list = setting(
        ["0.0.0.0/0", "::/0"],
        "provision.py: addresses (CIDR) the Cloud Firewall lets in on SSH.",
        droplet_check.ssh_sources,
    )
    do_resize_confirm: Any = setting(
        None,
        "provision.py: consent to power off and resize droplets to do_size: a droplet name "
        "or a list naming each.",
        check.optional(droplet_check.name_or_names),
    )
    do_ssh_timeout: int = setting(
        600,
        "provision.py: seconds to wait for a droplet to be active and answer SSH.",
        check.integer(1, 3600),
    )
    destroy_confirm: Any = setting(
        None,
        "destroy.py: consent to delete droplets: a droplet name or a list naming each.",
        check.optional(droplet_check.name_or_names),
    )
    destroy_data: bool = setting(
        False,
        "destroy.py: also delete each droplet's volume (the database), reserved IP and DNS "
        "record; false keeps and lists them.",
        check.boolean,
    )
    prisma_data_device: str | None = setting(
        None,
        "Block device for the database's data, formatted ext4 once (never again) and "
        "mounted at prisma_data_mount. inventories/do.py sets it to a provisioned droplet's "
        "volume. None: a Docker volume.",
        check.optional(droplet_check.device_path),
    )
    prisma_data_mount: str = setting(
        "/mnt/prisma-data",
        "Where prisma_data_device is mounted (the database's files in its mysql/).",
        check.stack_directory,
    )

    @property
    def database_dir(self) -> str:
        """The database's files on the mounted data volume; "" without one (a Docker volume)."""
        return f"{self.prisma_data_mount}/mysql" if self.prisma_data_device else ""
