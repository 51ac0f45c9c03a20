"""What every deploy file checks before it queues anything: valid settings, root on the
host, a deployed stack where one is needed, and named consent for destructive verbs."""

from __future__ import annotations

from pyinfra import host

from tasks.errors import HostRefused
from tasks.host.facts import PasswordlessSudo
from tasks.pyinfra_helpers import send_small_packets_at_once
from tasks.settings import Settings, SettingsError, load_settings
from tasks.stack.commands import no_stack_reason
from tasks.stack.facts import StackDeployed
from tasks.stack.layout import StackPaths
from tasks.stack.secrets import mask_known_secrets


class NoStackError(HostRefused):
    """The host has no deployed stack to act on."""


class ConsentError(HostRefused):
    """A destructive action was asked for without the consent that names the host."""


def prepare_host() -> Settings:
    """The validated settings of the host pyinfra is preparing, after checking that this
    run can act on it as root (directly, or through passwordless sudo)."""
    data = host.data.dict()
    settings = load_settings(host.name, data)
    send_small_packets_at_once(host)
    if data.get("_sudo") and not host.get_fact(PasswordlessSudo, _sudo=False):
        user = data.get("ssh_user") or "this user"
        raise SettingsError(
            f"host {host.name}: {user} cannot run sudo without a password, and this deploy "
            f"needs root; allow it (a line '{user} ALL=(ALL) NOPASSWD:ALL' in "
            f"/etc/sudoers.d/{user}) or connect as root (PRISMA_SSH_USER=root)"
        )
    return settings


def reported_stack(settings: Settings) -> StackPaths:
    """The stack's paths, for a report whose own command checks that deploy.py ran here
    (see tasks/reports/commands.py's when_deployed()): one round trip, where
    deployed_stack()'s check takes one more. Masks every secret this machine knows for
    the host in all output, since the reports print logs and errors of the services."""
    mask_known_secrets(settings)
    return StackPaths.of(settings)


def deployed_stack(settings: Settings) -> StackPaths:
    """The stack's paths; stops the run before any change if deploy.py never ran here
    (docker-compose.yml or .env missing, checked with shell built-ins alone). Masks
    secrets as reported_stack() does."""
    paths = reported_stack(settings)
    if not host.get_fact(StackDeployed, paths=paths):
        raise NoStackError(f"host {settings.host_name}: {no_stack_reason(paths)}")
    return paths


def require_consent(settings: Settings, setting: str, action: str) -> None:
    """Stop the run unless host data `setting` names this host exactly."""
    given = getattr(settings, setting)
    if given != settings.host_name:
        got = "was not given" if given is None else f"names {given!r}"
        raise ConsentError(
            f"host {settings.host_name}: refusing to {action} without consent ({setting} "
            f"{got}). To go ahead, run again with --data {setting}={settings.host_name}"
        )
