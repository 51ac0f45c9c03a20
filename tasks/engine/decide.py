"""What differs between the engine as read and as the settings want it."""

from __future__ import annotations

from tasks.engine.commands import SWAP_FILE, size_mib
from tasks.engine.config_files import (
    DAEMON_JSON,
    KEYRING,
    SOURCES_FILE,
    daemon_config,
    docker_sources,
)
from tasks.engine.facts import DockerEngineState, SwapState
from tasks.engine.packages import (
    DISTRO_CONFLICTS,
    OFFICIAL_PACKAGES,
    missing_packages,
    wanted_packages,
)
from tasks.settings import Settings


def engine_problems(engine: DockerEngineState, settings: Settings) -> list[str]:
    """What differs from an installed, configured, running Docker; empty when nothing."""
    platform = engine.platform
    wanted = wanted_packages(settings.docker_source, settings.docker_version, platform)
    problems = [f"{name}: not installed" for name in missing_packages(wanted, engine.packages)]
    conflicts = DISTRO_CONFLICTS if settings.docker_source == "official" else OFFICIAL_PACKAGES
    problems += [f"{name}: conflicts, installed" for name in conflicts if name in engine.packages]
    if not engine.path(DAEMON_JSON).has_content(daemon_config(settings)):
        problems.append(f"{DAEMON_JSON}: differs")
    if settings.docker_source == "official":
        if not engine.path(KEYRING).exists:
            problems.append(f"{KEYRING}: missing")
        if not engine.path(SOURCES_FILE).has_content(docker_sources(platform, engine.architecture)):
            problems.append(f"{SOURCES_FILE}: differs")
    if not engine.enabled:
        problems.append("docker service: not enabled")
    if not engine.active:
        problems.append("docker service: not running")
    if engine.dpkg_interrupted:
        problems.append("dpkg: an earlier run was interrupted")
    return problems + swap_problems(engine.swap, settings.prisma_swap_size)


def swap_file_bytes(size: str | None) -> int:
    """The usable size of a swap file of `size` (mkswap keeps one 4 KiB page)."""
    return size_mib(size) * 1024**2 - 4096 if size else 0


def swap_problems(swap: SwapState, size: str | None) -> list[str]:
    """What differs from the swap file prisma_swap_size asks for (none: no file)."""
    if size is None:
        leftover = swap.file_exists or swap.file_bytes or swap.in_fstab
        return [f"{SWAP_FILE}: to be removed (prisma_swap_size is unset)"] if leftover else []
    if swap.file_bytes != swap_file_bytes(size) or not swap.in_fstab:
        return [f"{SWAP_FILE}: not a {size} swap file in use and in /etc/fstab"]
    return []


def swap_after_deploy(swap: SwapState, size: str | None) -> int:
    """Swap the host will have once this deploy has made (or removed) its swap file."""
    return swap.others_bytes + swap_file_bytes(size)
