"""What differs between the stack as read and as wanted: pure comparisons of readings."""

from __future__ import annotations

from dataclasses import dataclass

from pyinfra.api import HiddenValue

from tasks.errors import HostRefused
from tasks.secrets.fingerprint import fingerprint_matches, password_fingerprint
from tasks.secrets.resolve import SecretsError, StackSecrets
from tasks.settings import Settings
from tasks.stack.facts import ComposeProjectState, StackFilesState, StackState
from tasks.stack.layout import OWN_ENTRIES, StackPaths, service_images


@dataclass(frozen=True)
class StackFilesWanted:
    compose_file: str
    env_file: HiddenValue
    db_fingerprint: str | None  # to record on the host (None: leave it as it is)


def stack_drift(project: ComposeProjectState, images: dict[str, str]) -> list[str]:
    """Reasons the stack needs `compose up`; empty when it already matches.

    Mirrors what `docker compose up` itself would act on: a missing, stopped or
    reconfigured container, one running an image other than the one its reference
    points at now, and containers of services that are no longer in the file.
    """
    if not project.desired_hashes:
        return ["the stack has not been deployed yet"]

    reasons: list[str] = []
    for service, desired_hash in sorted(project.desired_hashes.items()):
        containers = project.containers_of(service)
        if not containers:
            reasons.append(f"{service}: no container")
            continue
        reference = images.get(service, "")
        local_image = project.image_id(reference)
        for container in containers:
            if container.config_hash != desired_hash:
                reasons.append(f"{service}: configuration changed")
            elif container.status != "running":
                reasons.append(f"{service}: container is {container.status}")
            elif not local_image:
                reasons.append(f"{service}: image {reference} is not on the host")
            elif container.image_id != local_image:
                reasons.append(f"{service}: image {reference} now points at another image")

    orphans = {c.service for c in project.containers if c.service not in project.desired_hashes}
    reasons.extend(f"{service}: no longer in the compose file" for service in sorted(orphans))
    return reasons


def check_directory_is_ours(settings: Settings, files: StackFilesState) -> None:
    """Refuse a stack directory that holds anything this deploy did not put there: the
    deploy makes the directory root's and 0700, and its files are rewritten."""
    foreign = sorted(files.entries - OWN_ENTRIES)
    if foreign:
        shown = ", ".join(foreign[:5]) + (", ..." if len(foreign) > 5 else "")
        raise HostRefused(
            f"host {settings.host_name}: setting 'prisma_stack_dir' is "
            f"{settings.prisma_stack_dir}, which holds files that are not the stack's "
            f"({shown}); choose a directory of its own (a new or an empty one)"
        )


def stack_problems(settings: Settings, found: StackState, wanted: StackFilesWanted) -> list[str]:
    """What differs from the wanted stack; empty when nothing."""
    paths = StackPaths.of(settings)
    problems = []
    if not found.files.path(paths.directory).is_owned_by_root("directory", 700):
        problems.append(f"{paths.directory}: not a 0700 directory of root's")
    for path, content, mode in (
        (paths.compose_file, wanted.compose_file, 644),
        (paths.env_file, wanted.env_file.unmask(), 600),
    ):
        current = found.files.path(path)
        if not (current.is_owned_by_root("file", mode) and current.has_content(content)):
            problems.append(f"{path}: differs")
    problems += stack_drift(found.project, service_images(settings))
    if found.status_body != "OK":
        problems.append(f"{settings.health_url}: does not answer OK")
    if wanted.db_fingerprint is not None:
        problems.append("the database password's fingerprint is to be recorded")
    return problems


def fingerprint_to_record(
    settings: Settings, secrets: StackSecrets, files: StackFilesState, env_file: str
) -> str | None:
    """Refuse a database password other than the one the volume was initialised with;
    return the fingerprint to record when none is (None: nothing to record)."""
    password = secrets.db_password.unmask()
    if files.db_fingerprint and fingerprint_matches(password, files.db_fingerprint):
        return None
    if files.db_fingerprint and files.volume:
        raise SecretsError(
            f"host {settings.host_name}: the database password differs from the one the "
            "database was initialised with (prisma_db_password, PRISMA_DB_PASSWORD or "
            f"{StackPaths.of(settings).env_file} changed?). MySQL keeps its first password: "
            "the server would be locked out. To change it, see 'The database password' in "
            "README.md; otherwise unset the new value"
        )
    # A fresh volume takes this password; an existing one is known to have it only when
    # .env stays as it is (stacks deployed before fingerprints were kept).
    if not files.volume or files.path(StackPaths.of(settings).env_file).has_content(env_file):
        return password_fingerprint(password)
    return None
