"""Which systems are supported and which packages each Docker source installs there."""

from __future__ import annotations

import msgspec

from tasks.errors import HostRefused


class Platform(msgspec.Struct, frozen=True):
    distro: str
    version: str
    codename: str

    @property
    def release(self) -> tuple[str, str]:
        return (self.distro, self.version)

    def describe(self) -> str:
        return f"{self.distro} {self.version} ({self.codename or 'no codename'})"


UNKNOWN_PLATFORM = Platform("unknown", "unknown", "")

OFFICIAL_PACKAGES = (
    "docker-ce",
    "docker-ce-cli",
    "containerd.io",
    "docker-buildx-plugin",
    "docker-compose-plugin",
)
# Docker's install guide removes these before installing docker-ce: they ship their
# own dockerd, containerd or runc and conflict with Docker's packages.
DISTRO_CONFLICTS = (
    "docker.io",
    "docker-compose",
    "docker-compose-v2",
    "docker-doc",
    "podman-docker",
    "containerd",
    "runc",
)
OFFICIAL_RELEASES = {
    ("debian", "12"),
    ("debian", "13"),
    ("ubuntu", "22.04"),
    ("ubuntu", "24.04"),
}
# The distribution's own Docker with a Compose v2 package, where one exists.
DISTRO_PACKAGES = {
    ("debian", "13"): ("docker.io", "docker-compose"),
    ("ubuntu", "22.04"): ("docker.io", "docker-compose-v2"),
    ("ubuntu", "24.04"): ("docker.io", "docker-compose-v2"),
}
PREREQUISITES = ("ca-certificates", "curl")
# Every package whose presence the engine's fact reports.
CANDIDATE_PACKAGES = sorted({*PREREQUISITES, *OFFICIAL_PACKAGES, *DISTRO_CONFLICTS})


class UnsupportedPlatformError(HostRefused):
    """The host's OS or Docker source cannot be handled; nothing was changed."""


def check_supported(platform: Platform, source: str, host_name: str) -> None:
    """Raise before anything changes if this platform/source pair cannot be installed."""
    supported = ", ".join(f"{d} {v}" for d, v in sorted(OFFICIAL_RELEASES))
    if platform.release not in OFFICIAL_RELEASES:
        raise UnsupportedPlatformError(
            f"host {host_name}: {platform.describe()} is not supported; "
            f"supported systems: {supported}"
        )
    if source == "distro" and platform.release not in DISTRO_PACKAGES:
        raise UnsupportedPlatformError(
            f"host {host_name}: {platform.describe()} has no Compose v2 package of its own "
            "(only Compose v1); set docker_source = 'official' to install Docker's packages"
        )


def apt_version(version: str, platform: Platform) -> str:
    """Docker's apt version string, e.g. '5:27.3.1-1~debian.12~bookworm', for a short pin."""
    if ":" in version or "~" in version:
        return version
    return f"5:{version}-1~{platform.distro}.{platform.version}~{platform.codename}"


def official_packages(version: str | None, platform: Platform) -> list[str]:
    pinned = ("docker-ce", "docker-ce-cli")
    if version is None:
        return list(OFFICIAL_PACKAGES)
    exact = apt_version(version, platform)
    return [f"{name}={exact}" if name in pinned else name for name in OFFICIAL_PACKAGES]


def wanted_packages(source: str, version: str | None, platform: Platform) -> list[str]:
    """Every package the host needs, pinned as `name=version` where a pin is set."""
    if source == "official":
        docker = official_packages(version, platform)
    else:
        docker = list(DISTRO_PACKAGES[platform.release])
    return [*PREREQUISITES, *docker]


def missing_packages(wanted: list[str], installed: dict[str, list[str]]) -> list[str]:
    """The wanted packages (name or name=version) that are not installed."""
    missing = []
    for package in wanted:
        name, _, version = package.partition("=")
        versions = installed.get(name, [])
        if not versions or (version and version not in versions):
            missing.append(package)
    return missing
