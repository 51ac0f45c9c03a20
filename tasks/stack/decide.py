"""What differs between the stack as read and as wanted: pure comparisons of readings."""

from __future__ import annotations

import msgspec
from pyinfra.api import HiddenValue

from tasks.errors import HostRefused
from tasks.secrets.fingerprint import password_fingerprint
from tasks.settings import Settings
from tasks.stack.facts import ComposeProjectState, StackFilesState, StackState
from tasks.stack.layout import OWN_ENTRIES, StackPaths, service_images
from tasks.stack.memory import MIB, gib, memory_needed


class StackFilesWanted(msgspec.Struct, frozen=True):
    compose_file: str
    env_file: HiddenValue
    db_password: HiddenValue
    password_check: str | None  # RECORD, VERIFY, PROVE or None (see password_check)

    def fingerprint_to_record(self) -> str | None:
        """The fingerprint stack_files records beside .env on a fresh database."""
        if self.password_check != RECORD:
            return None
        return password_fingerprint(self.db_password.unmask())


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


def check_memory_fits(settings: Settings, memory_bytes: int, swap_bytes: int) -> None:
    """Refuse a host whose memory and swap (with the swap file this deploy makes) cannot
    hold the stack: the kernel's OOM killer would end the server (memory.py)."""
    needed = memory_needed(settings)
    if not memory_bytes or memory_bytes + swap_bytes >= needed:
        return
    short = -(-(needed - memory_bytes) // MIB)
    raise HostRefused(
        f"host {settings.host_name}: setting 'prisma_java_heap' is {settings.prisma_java_heap}: "
        f"the stack needs {gib(needed)} (the heap, 256 MiB more for the JVM, 512 MiB for "
        f"MySQL, 128 MiB for the system) and this host has {gib(memory_bytes)} of memory and "
        f"{gib(swap_bytes)} of swap; give a smaller heap, a bigger host, or "
        f"prisma_swap_size='{short}M' or more (a swap file)"
    )


# Images that exist for one architecture only (tests/e2e/images/README.md says where
# that is seen): (repository, tag or tag prefix) -> the architecture.
SINGLE_ARCHITECTURE_IMAGES = {
    ("mysql", "5.7"): "amd64",
    ("prismagraphql/prisma", "1.0"): "amd64",
}
_DOCKER_HUB_PREFIXES = ("docker.io/library/", "index.docker.io/library/", "docker.io/", "library/")


def repository_and_tag(reference: str) -> tuple[str, str]:
    """('mysql', '5.7') of 'docker.io/library/mysql:5.7@sha256:...'."""
    name = reference.split("@", 1)[0]
    for prefix in _DOCKER_HUB_PREFIXES:
        name = name.removeprefix(prefix)
    repository, colon, tag = name.rpartition(":")
    if not colon or "/" in tag:
        return name, "latest"
    return repository, tag


def image_architecture(reference: str) -> str | None:
    """The one architecture an image exists for, when it is known to exist for one only."""
    repository, tag = repository_and_tag(reference)
    for (known, tag_prefix), architecture in SINGLE_ARCHITECTURE_IMAGES.items():
        if repository == known and (tag == tag_prefix or tag.startswith(tag_prefix + ".")):
            return architecture
    return None


def check_images_run_on(settings: Settings, architecture: str) -> None:
    """Refuse a host whose architecture has no image for a configured tag."""
    for name in ("prisma_db_image", "prisma_image"):
        reference = getattr(settings, name)
        only = image_architecture(reference)
        if architecture and only and only != architecture:
            raise HostRefused(
                f"host {settings.host_name}: setting '{name}' is {reference}, which exists "
                f"for {only} only, and this host is {architecture}; give an image built for "
                f"{architecture} as '{name}' (a registry of your own, as with a private mirror)"
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
    if found.project.compose_asked:
        problems.append(f"{paths.hashes_file}: does not match the files")
    if found.status_body != "OK":
        problems.append(f"{settings.health_url}: does not answer OK")
    if wanted.password_check in (RECORD, PROVE):
        problems.append("the database password's fingerprint is to be recorded")
    return problems


# How this run makes sure the database password is the one the volume was made with.
RECORD = "record"  # no volume, no fingerprint: a fresh database takes this password
VERIFY = "verify"  # a fingerprint, and .env is to change: the password must match it
PROVE = "prove"  # a volume without a fingerprint: the password must log in first


def password_check(settings: Settings, files: StackFilesState, env_file: str) -> str | None:
    """Which check the database password needs (None: .env and the fingerprint stay)."""
    if files.has_fingerprint:
        unchanged = files.path(StackPaths.of(settings).env_file).has_content(env_file)
        return None if unchanged else VERIFY
    return PROVE if files.volume else RECORD
