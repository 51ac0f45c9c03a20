"""
What the stack part compares, read from the host:

- StackFiles -> StackFilesState: the stack directory and its files (stat + sha256), the
  record of the last converge, the password fingerprint, and whether the data volume
  exists;
- StackDeployed -> bool: only whether docker-compose.yml and .env are there;
- ComposeProject -> ComposeProjectState: Compose's config hash per service, the
  project's containers and the local images (from the Docker API on its socket).
"""

from __future__ import annotations

import shlex

import msgspec
from pyinfra.api import FactBase
from typing_extensions import override

from tasks.host.facts import ShellCondition, yes_or_no
from tasks.host.paths import MISSING, PathState, paths_in, with_paths
from tasks.host.probes import (
    DOCKER_API,
    after_answers,
    api_answers,
    api_list,
    file_lines_probe,
    http_get,
    tagged,
)
from tasks.stack.commands import (
    compose_project_urls,
    deployed_condition,
    desired_hashes,
    recorded_hashes,
)
from tasks.stack.layout import StackPaths

# --- StackFiles -----------------------------------------------------------------------


class StackFilesState(msgspec.Struct, frozen=True):
    paths: dict[str, PathState] = msgspec.field(default_factory=dict)
    volume: bool = False
    # sha256 of each file as the last converge left it (from the stack's record)
    recorded: dict[str, str] = msgspec.field(default_factory=dict)
    has_fingerprint: bool = False  # its value is never read into a fact (facts are printed)
    entries: frozenset[str] = frozenset()  # names in the stack directory

    def path(self, path: str) -> PathState:
        return self.paths.get(path, MISSING)

    def edited_since_converge(self, path: str) -> bool:
        """True when the file differs from what the last converge left there."""
        current, recorded = self.path(path), self.recorded.get(path)
        return current.exists and recorded is not None and current.sha256 != recorded


def _data_dir_used(paths: StackPaths) -> str:
    """On a data volume, database files there count as the volume (a re-created droplet)."""
    if not paths.data_dir:
        return ""
    return f'[ -n "$(ls -A {shlex.quote(paths.data_dir)} 2>/dev/null)" ] || '


def _entries_probe(directory: str) -> str:
    """`entry <name>` per name in the directory, dot files too, as `ls -A` lists them,
    with shell built-ins only."""
    quoted = shlex.quote(directory)
    return (
        f"for e in {quoted}/* {quoted}/.[!.]* {quoted}/..?*; do "
        '{ [ -e "$e" ] || [ -L "$e" ]; } && echo "entry ${e##*/}"; done'
    )


def stack_file_paths(paths: StackPaths) -> list[str]:
    return [paths.directory, paths.compose_file, paths.env_file]


def stack_files_state_probe(paths: StackPaths) -> str:
    """Tagged lines: `entry` per name in the directory, `recorded`, `db-fingerprint`
    (present) and `volume` (Docker lists it, or its directory exists: known even while
    Docker does not answer); the files are probed beside (stack_file_paths())."""
    return (
        _entries_probe(paths.directory)
        # The whole record: its `recorded` lines are the ones parsed here.
        + f"; {file_lines_probe(paths.hashes_file)}"
        + f"; [ -f {shlex.quote(paths.fingerprint_file)} ] && echo db-fingerprint"
        + f"; {{ [ -d {shlex.quote(paths.db_volume_dir)} ] || {_data_dir_used(paths)}"
        f"[ \"$({DOCKER_API} --output /dev/null --write-out '%{{http_code}}' "
        f'http://localhost/volumes/{paths.db_volume})" = 200 ]; }} && echo volume; true'
    )


def stack_files_probe(paths: StackPaths) -> str:
    """The stack's files read on their own: `path` per file, then
    stack_files_state_probe()."""
    return with_paths(stack_file_paths(paths), stack_files_state_probe(paths))


def parse_stack_files(lines: list[str]) -> StackFilesState:
    recorded: dict[str, str] = {}
    entries: set[str] = set()
    fingerprint = volume = False
    for tag, rest, words in tagged(lines):
        if tag == "entry" and rest:
            entries.add(rest)
        elif tag == "recorded" and len(words) == 2:
            recorded[words[1]] = words[0]
        elif tag == "db-fingerprint":
            fingerprint = True
        elif tag == "volume":
            volume = True
    return StackFilesState(paths_in(lines), volume, recorded, fingerprint, frozenset(entries))


class StackFiles(FactBase[StackFilesState]):
    """The stack directory, docker-compose.yml and .env (stat + sha256), and the volume."""

    @override
    def command(self, paths: StackPaths) -> str:
        return stack_files_probe(paths)

    @override
    @staticmethod
    def default() -> StackFilesState:
        return StackFilesState()

    @override
    def process(self, output) -> StackFilesState:
        return parse_stack_files(output)


class StackDeployed(ShellCondition):
    """Whether docker-compose.yml and .env exist: all the lifecycle files need to know
    before they act on the stack, in shell builtins alone (StackFiles starts a few
    processes on the host)."""

    @override
    def command(self, paths: StackPaths) -> str:
        return yes_or_no(deployed_condition(paths))


# --- ComposeProject -------------------------------------------------------------------


class ContainerState(msgspec.Struct, frozen=True):
    service: str
    status: str
    config_hash: str
    image_id: str
    health: str


def normalize_reference(reference: str) -> str:
    """An image reference as Docker lists it: no docker.io prefix, always a tag."""
    for prefix in ("docker.io/library/", "docker.io/"):
        if reference.startswith(prefix):
            reference = reference[len(prefix) :]
            break
    name = reference.rsplit("/", 1)[-1]
    if "@" not in reference and ":" not in name:
        reference += ":latest"
    return reference


class ComposeProjectState(msgspec.Struct, frozen=True):
    """What Compose wants (per-service config hashes) beside what runs."""

    desired_hashes: dict[str, str] = msgspec.field(default_factory=dict)
    containers: tuple[ContainerState, ...] = ()
    image_ids: dict[str, str] = msgspec.field(default_factory=dict)  # normalized reference -> ID
    # The record did not match the files, so the read asked `compose config` (see
    # compose_hashes_probe()): each read pays for it until the record is written again.
    compose_asked: bool = False

    def image_id(self, reference: str) -> str:
        """The local image ID of a reference, or '' when no such image is on the host."""
        return self.image_ids.get(normalize_reference(reference), "")

    def digest_reference(self, image_id: str) -> str:
        """A `repository@sha256:...` the image can be pulled again by ('' if none known)."""
        return next(
            (ref for ref, id_ in self.image_ids.items() if "@" in ref and id_ == image_id), ""
        )

    def containers_of(self, service: str) -> list[ContainerState]:
        return [container for container in self.containers if container.service == service]


# What compose_hashes_probe() prints before it asks `compose config`.
COMPOSE_ASKED = "compose-asked"


def compose_hashes_probe(paths: StackPaths, digests_read: bool = False) -> str:
    """`hash <service> <hash>` lines: from the record of the last converge while the
    files are unchanged, else from `compose config`, after a COMPOSE_ASKED line.
    digests_read: see recorded_hashes()."""
    return (
        f"{recorded_hashes(paths, digests_read)}; "
        f'if [ -z "$recorded" ] && [ -f {shlex.quote(paths.compose_file)} ] '
        f"&& [ -f {shlex.quote(paths.env_file)} ]; then echo {COMPOSE_ASKED}; "
        f"{desired_hashes(paths)}; fi; true"
    )


def compose_project_probe(paths: StackPaths, status_url: str = "") -> str:
    """From one http_get(), the project's containers and the host's images (and what GET
    status_url answers, when given), each answer followed by `answered <url>` (see
    api_answers()); then compose_hashes_probe()'s lines. The whole host's read asks the
    same URLs of its one perl, and the same hashes in its shell."""
    # One perl for every read: its start costs more than the answers.
    return f"{http_get(compose_project_urls(paths), status_url)}; {compose_hashes_probe(paths)}"


def _health(status_text: str) -> str:
    for health in ("healthy", "unhealthy", "health: starting"):
        if f"({health})" in status_text:
            return health.removeprefix("health: ")
    return "-"


def _containers(answer: list[str]) -> tuple[ContainerState, ...]:
    containers = []
    for container in api_list(answer):
        labels = container.get("Labels") or {}
        containers.append(
            ContainerState(
                service=labels.get("com.docker.compose.service", ""),
                status=container.get("State", ""),
                config_hash=labels.get("com.docker.compose.config-hash", ""),
                image_id=container.get("ImageID", ""),
                health=_health(container.get("Status", "")),
            )
        )
    return tuple(containers)


def _images(answer: list[str]) -> dict[str, str]:
    found = {}
    for image in api_list(answer):
        for reference in (image.get("RepoTags") or []) + (image.get("RepoDigests") or []):
            if "<none>" not in reference:
                found[normalize_reference(reference)] = image.get("Id", "")
    return found


def parse_compose_project(lines: list[str]) -> ComposeProjectState:
    return compose_project_state(api_answers(lines), after_answers(lines))


def compose_project_state(
    answers: dict[str, list[str]], hash_lines: list[str]
) -> ComposeProjectState:
    """The project from Docker's answers (see api_answers()) and compose_hashes_probe()'s
    lines: the whole host's read has both apart already."""
    hashes = {
        words[0]: words[1]
        for tag, _, words in tagged(hash_lines)
        if tag == "hash" and len(words) == 2
    }
    containers = _containers(answers.get("localhost/containers/json", []))
    images = _images(answers.get("localhost/images/json", []))
    asked = any(tag == COMPOSE_ASKED for tag, _, _ in tagged(hash_lines))
    return ComposeProjectState(hashes, containers, images, compose_asked=asked)


class ComposeProject(FactBase[ComposeProjectState]):
    """The compose project's desired config hashes, its containers and the local images."""

    @override
    def command(self, paths: StackPaths, status_url: str = "") -> str:
        return compose_project_probe(paths, status_url)

    @override
    @staticmethod
    def default() -> ComposeProjectState:
        return ComposeProjectState()

    @override
    def process(self, output) -> ComposeProjectState:
        return parse_compose_project(output)


# --- The whole stack part, as the deploy plan reads it ----------------------------------


class StackState(msgspec.Struct, frozen=True):
    """Everything the stack part compares: its files, its Compose project, GET /status."""

    files: StackFilesState = msgspec.field(default_factory=StackFilesState)
    project: ComposeProjectState = msgspec.field(default_factory=ComposeProjectState)
    status_body: str = ""
