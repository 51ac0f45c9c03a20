"""Command generation of `install_docker` for each platform and source (mocked facts)."""

from __future__ import annotations

import json

import pytest
from pyinfra.facts.deb import DebArch, DebPackages
from pyinfra.facts.files import Directory
from pyinfra.facts.server import LinuxDistribution

from tasks.docker_engine import (
    UnsupportedPlatformError,
    apt_version,
    daemon_config,
    docker_sources,
    install_docker,
    missing_packages,
    platform_from_fact,
)
from tasks.settings import load_settings
from tests.unit.fake_host import FakeFacts, plan

RELEASES = {
    "debian-12": ("debian", "12", "bookworm"),
    "debian-13": ("debian", "13", "trixie"),
    "ubuntu-22.04": ("ubuntu", "22.04", "jammy"),
    "ubuntu-24.04": ("ubuntu", "24.04", "noble"),
    "centos-9": ("centos", "9", ""),
    "debian-11": ("debian", "11", "bullseye"),
}


def distribution(release: str) -> dict:
    distro, version, codename = RELEASES[release]
    return {
        "name": distro.capitalize(),
        "major": int(version.split(".")[0]),
        "minor": None,
        "release_meta": {"ID": distro, "VERSION_ID": version, "VERSION_CODENAME": codename},
    }


def facts(release: str, systemd: bool = True, installed: dict | None = None) -> FakeFacts:
    return FakeFacts(
        {
            LinuxDistribution: distribution(release),
            DebArch: "arm64",
            DebPackages: installed or {},
            Directory: lambda path: (
                {"mode": 755} if systemd and path == "/run/systemd/system" else None
            ),
        }
    )


def commands_by_name(release: str, systemd: bool = True, **data) -> dict[str, list[str]]:
    settings = load_settings("testhost", data)
    planned = plan(install_docker, facts(release, systemd), settings)
    return {op.name.removeprefix("Install Docker | "): op.commands for op in planned}


def install_command(commands: dict[str, list[str]], name: str) -> str:
    (command,) = commands[name]
    return command


@pytest.mark.parametrize("release", ["debian-12", "debian-13", "ubuntu-22.04", "ubuntu-24.04"])
def test_official_source_uses_dockers_repository(release):
    commands = commands_by_name(release)
    distro, _, _ = RELEASES[release]
    install = install_command(
        commands, "Install Docker Engine and Compose from Docker's repository"
    )
    for package in (
        "docker-ce",
        "docker-ce-cli",
        "containerd.io",
        "docker-buildx-plugin",
        "docker-compose-plugin",
    ):
        assert f" {package}" in install
    download = " ".join(commands["Download Docker's apt signing key"])
    assert f"https://download.docker.com/linux/{distro}/gpg" in download
    assert "/etc/apt/keyrings/docker.asc" in download


def test_official_source_removes_conflicting_packages_first():
    settings = load_settings("testhost", {})
    installed = {name: ["1"] for name in ("docker.io", "containerd", "runc", "podman-docker")}
    planned = plan(install_docker, facts("debian-12", installed=installed), settings)
    names = [op.name for op in planned]
    removal = names.index(
        "Install Docker | Remove distribution packages that conflict with Docker's"
    )
    install = names.index(
        "Install Docker | Install Docker Engine and Compose from Docker's repository"
    )
    assert removal < install
    (remove,) = planned[removal].commands
    assert "remove" in remove
    for package in installed:
        assert package in remove


def test_sources_file_is_deb822_bound_to_the_key_and_architecture():
    platform = platform_from_fact(distribution("ubuntu-24.04"))
    assert docker_sources(platform, "arm64") == (
        "Types: deb\n"
        "URIs: https://download.docker.com/linux/ubuntu\n"
        "Suites: noble\n"
        "Components: stable\n"
        "Architectures: arm64\n"
        "Signed-By: /etc/apt/keyrings/docker.asc\n"
    )


def test_version_pin_becomes_dockers_apt_version():
    commands = commands_by_name("debian-12", docker_version="27.3.1")
    install = install_command(
        commands, "Install Docker Engine and Compose from Docker's repository"
    )
    assert "'docker-ce=5:27.3.1-1~debian.12~bookworm'" in install
    assert "'docker-ce-cli=5:27.3.1-1~debian.12~bookworm'" in install
    platform = platform_from_fact(distribution("ubuntu-24.04"))
    assert apt_version("5:28.0.1-1~ubuntu.24.04~noble", platform) == "5:28.0.1-1~ubuntu.24.04~noble"


@pytest.mark.parametrize(
    ("release", "compose_package"),
    [
        ("debian-13", "docker-compose"),
        ("ubuntu-24.04", "docker-compose-v2"),
        ("ubuntu-22.04", "docker-compose-v2"),
    ],
)
def test_distro_source_installs_the_distributions_compose_v2(release, compose_package):
    commands = commands_by_name(release, docker_source="distro")
    install = install_command(commands, "Install Docker and Compose v2 from the distribution")
    assert install.endswith(f"install docker.io {compose_package}")
    assert "Add Docker's apt repository" not in commands


def test_distro_source_on_debian_12_stops_before_anything_changes():
    with pytest.raises(UnsupportedPlatformError) as error:
        commands_by_name("debian-12", docker_source="distro")
    assert "debian 12" in str(error.value)
    assert "docker_source = 'official'" in str(error.value)


@pytest.mark.parametrize("release", ["centos-9", "debian-11"])
def test_unsupported_os_is_a_clear_error(release):
    with pytest.raises(UnsupportedPlatformError) as error:
        commands_by_name(release)
    assert "is not supported" in str(error.value)
    assert "debian 12" in str(error.value) and "ubuntu 24.04" in str(error.value)


def test_daemon_json_rotates_logs_and_merges_extra_options():
    settings = load_settings(
        "h", {"docker_log_max_size": "50m", "docker_daemon_options": {"live-restore": True}}
    )
    assert json.loads(daemon_config(settings)) == {
        "live-restore": True,
        "log-driver": "json-file",
        "log-opts": {"max-file": "3", "max-size": "50m"},
    }


def test_docker_runs_under_systemd_or_sysv_init():
    under_systemd = commands_by_name("debian-13", systemd=True, docker_source="distro")
    assert any("systemctl" in c for c in under_systemd["Enable and start Docker"])
    under_sysv = commands_by_name("debian-13", systemd=False, docker_source="distro")
    assert "/etc/init.d/docker start" in under_sysv["Enable and start Docker"]
    assert "update-rc.d docker defaults" in under_sysv["Enable and start Docker"]


def test_complete_host_needs_no_apt_refresh():
    wanted = ["curl", "docker-ce=5:27.3.1-1~debian.12~bookworm"]
    assert (
        missing_packages(wanted, {"curl": ["8"], "docker-ce": ["5:27.3.1-1~debian.12~bookworm"]})
        == []
    )
    assert missing_packages(
        wanted, {"curl": ["8"], "docker-ce": ["5:26.0.0-1~debian.12~bookworm"]}
    ) == ["docker-ce=5:27.3.1-1~debian.12~bookworm"]
    assert missing_packages(["curl"], {}) == ["curl"]
