"""Command generation of `install_docker` for each platform and source (mocked facts)."""

from __future__ import annotations

import hashlib
import json

import pytest
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.server import LinuxDistribution

from tasks.engine.config_files import DAEMON_JSON, daemon_config, docker_sources
from tasks.engine.decide import engine_problems
from tasks.engine.deploy import install_docker
from tasks.engine.facts import DockerEngineState, parse_engine
from tasks.engine.packages import (
    Platform,
    UnsupportedPlatformError,
    apt_version,
    check_supported,
    missing_packages,
    wanted_packages,
)
from tasks.host.paths import PathState
from tasks.settings import load_settings
from tasks.work import Work
from tests.unit.fake_host import FakeFacts, path_lines, plan

RELEASES = {
    "debian-12": Platform("debian", "12", "bookworm"),
    "debian-13": Platform("debian", "13", "trixie"),
    "ubuntu-22.04": Platform("ubuntu", "22.04", "jammy"),
    "ubuntu-24.04": Platform("ubuntu", "24.04", "noble"),
    "centos-9": Platform("centos", "9", ""),
    "debian-11": Platform("debian", "11", "bullseye"),
}


def fresh(release: str, systemd: bool = True, installed: dict | None = None) -> DockerEngineState:
    return DockerEngineState(RELEASES[release], "arm64", installed or {}, {}, systemd)


def install(engine: DockerEngineState, settings):
    """The operations install_docker queues for a host read as `engine`, after the same
    checks deploy.py makes first (read_host, plan_deploy)."""
    check_supported(engine.platform, settings.docker_source, "testhost")
    work = Work(engine, None, tuple(engine_problems(engine, settings)))
    return plan(install_docker, facts(engine), settings, work)


def facts(engine: DockerEngineState) -> FakeFacts:
    # On the full path pyinfra's own operations read their own facts.
    distribution = {"name": engine.platform.distro.capitalize(), "release_meta": {}}
    return FakeFacts({DebPackages: engine.packages, LinuxDistribution: distribution})


def commands_by_name(release: str, systemd: bool = True, **data) -> dict[str, list[str]]:
    settings = load_settings("testhost", data)
    planned = install(fresh(release, systemd), settings)
    return {op.name.removeprefix("Install Docker | "): op.commands for op in planned}


def install_command(commands: dict[str, list[str]], name: str) -> str:
    (command,) = commands[name]
    return command


@pytest.mark.parametrize("release", ["debian-12", "debian-13", "ubuntu-22.04", "ubuntu-24.04"])
def test_official_source_uses_dockers_repository(release):
    commands = commands_by_name(release)
    distro = RELEASES[release].distro
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
    planned = install(fresh("debian-12", installed=installed), settings)
    names = [op.name for op in planned]
    removal = names.index(
        "Install Docker | Remove distribution packages that conflict with Docker's"
    )
    installation = names.index(
        "Install Docker | Install Docker Engine and Compose from Docker's repository"
    )
    assert removal < installation
    (remove,) = planned[removal].commands
    assert "remove" in remove
    for package in installed:
        assert package in remove


def test_sources_file_is_deb822_bound_to_the_key_and_architecture():
    assert docker_sources(RELEASES["ubuntu-24.04"], "arm64") == (
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
    assert (
        apt_version("5:28.0.1-1~ubuntu.24.04~noble", RELEASES["ubuntu-24.04"])
        == "5:28.0.1-1~ubuntu.24.04~noble"
    )


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
    name = "Install Docker, Compose v2, ca-certificates and curl from the distribution"
    install = install_command(commands, name)
    # One apt-get run: the prerequisites ride along with Docker's packages.
    assert install.endswith(
        f"install -o DPkg::Lock::Timeout=600 ca-certificates curl docker.io {compose_package}"
    )
    assert "Add Docker's apt repository" not in commands
    assert "Install ca-certificates and curl" not in commands


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


def converged_engine(settings, release="debian-13") -> DockerEngineState:
    platform = RELEASES[release]
    installed = {}
    for package in wanted_packages(settings.docker_source, settings.docker_version, platform):
        name, _, version = package.partition("=")
        installed[name] = [version or "1.0"]
    sha = hashlib.sha256(daemon_config(settings).encode()).hexdigest()
    paths = {DAEMON_JSON: PathState("file", 644, "root", "root", sha)}
    if settings.docker_source == "official":
        sources = docker_sources(platform, "amd64")
        paths["/etc/apt/keyrings/docker.asc"] = PathState("file", 644, "root", "root", "x")
        paths["/etc/apt/sources.list.d/docker.sources"] = PathState(
            "file", 644, "root", "root", hashlib.sha256(sources.encode()).hexdigest()
        )
    return DockerEngineState(platform, "amd64", installed, paths, True, True, True)


@pytest.mark.parametrize("source", ["official", "distro"])
def test_converged_engine_is_one_operation_without_commands(source):
    settings = load_settings("h", {"docker_source": source})
    engine = converged_engine(settings)
    assert engine_problems(engine, settings) == []
    (only,) = install(engine, settings)
    assert only.name == "Install Docker | Docker is installed, configured and running"
    assert only.commands == []


def test_each_difference_sends_the_engine_down_the_full_path():
    settings = load_settings("h", {"docker_source": "distro"})
    engine = converged_engine(settings)
    drifted = [
        DockerEngineState(
            engine.platform,
            "amd64",
            {**engine.packages, "docker-ce": ["1"]},
            engine.paths,
            True,
            True,
            True,
        ),
        DockerEngineState(engine.platform, "amd64", {}, engine.paths, True, True, True),
        DockerEngineState(engine.platform, "amd64", engine.packages, {}, True, True, True),
        DockerEngineState(
            engine.platform, "amd64", engine.packages, engine.paths, True, False, True
        ),
        DockerEngineState(
            engine.platform, "amd64", engine.packages, engine.paths, True, True, False
        ),
    ]
    for state in drifted:
        assert engine_problems(state, settings), state
        assert len(install(state, settings)) > 1


def test_engine_fact_output_is_parsed():
    state = parse_engine(
        [
            'os-release PRETTY_NAME="Debian GNU/Linux 13 (trixie)"',
            'os-release VERSION_ID="13"',
            "os-release VERSION_CODENAME=trixie",
            "os-release ID=debian",
            "pkg dpkg 1.22.21 ii  arm64",
            "pkg docker.io 26.1.5+dfsg1-9 ii  amd64",
            "pkg docker-ce 5:27 rc  amd64",
            "pkg docker-ce-cli  un  ",
            *path_lines("/etc/docker/daemon.json", "file", 644, "abc"),
            *path_lines("/etc/apt/keyrings/docker.asc"),
            "init systemd",
            "Id=docker.service",
            "ActiveState=active",
            "UnitFileState=disabled",
        ]
    )
    assert state.platform == Platform("debian", "13", "trixie")
    assert state.architecture == "arm64"  # dpkg's own: the host's
    assert state.packages == {"docker.io": ["26.1.5+dfsg1-9"]}
    assert state.path(DAEMON_JSON) == PathState("file", 644, "root", "root", "abc")
    assert not state.path("/etc/apt/keyrings/docker.asc").exists
    assert (state.systemd, state.enabled, state.active) == (True, False, True)


def test_an_interrupted_dpkg_is_finished_after_apt_is_free():
    settings = load_settings("h", {"docker_source": "distro"})
    engine = converged_engine(settings)
    interrupted = DockerEngineState(
        engine.platform,
        "amd64",
        engine.packages,
        engine.paths,
        True,
        True,
        True,
        dpkg_interrupted=True,
    )
    names = [op.name.removeprefix("Install Docker | ") for op in install(interrupted, settings)]
    assert names[:3] == [
        "Wait until no other process holds apt (e.g. unattended-upgrades)",
        "Finish the package installation an earlier run left interrupted",
        "Refresh the apt index (when stale and packages are missing)",
    ]


def test_apt_lock_holders_are_named_and_the_wait_is_bounded():
    from tasks.engine.commands import wait_for_apt_locks

    command = wait_for_apt_locks(42)
    assert command.startswith("deadline=$(( $(date +%s) + 42 ));")
    assert "F_GETLK" in command
    for lock in ("/var/lib/dpkg/lock-frontend", "/var/lib/apt/lists/lock"):
        assert lock in command


def test_daemon_json_keeps_containers_running_across_daemon_restarts():
    config = json.loads(daemon_config(load_settings("h", {})))
    assert config["live-restore"] is True
    assert config["log-opts"] == {"max-size": "10m", "max-file": "3"}


def test_a_change_docker_can_reload_is_reloaded_and_any_other_restarts():
    from tasks.engine.config_files import needs_restart

    current = {"live-restore": True, "log-driver": "json-file", "log-opts": {"max-file": "3"}}
    assert not needs_restart(current, current)
    assert not needs_restart(current, {**current, "debug": True})
    assert not needs_restart(current, {**current, "registry-mirrors": ["https://m"]})
    assert not needs_restart(
        {"log-driver": "json-file"}, {"log-driver": "json-file", "live-restore": True}
    )
    assert needs_restart(current, {**current, "log-opts": {"max-file": "4"}})
    assert needs_restart(current, {**current, "data-root": "/srv/docker"})
    assert needs_restart(None, current)  # nothing known about what runs


def test_the_daemon_json_in_force_is_read_with_the_engine():
    lines = ["daemon-json {", 'daemon-json   "live-restore": true', "daemon-json }"]
    assert parse_engine(lines).daemon_json == {"live-restore": True}
    assert parse_engine(["daemon-json not json"]).daemon_json is None
    assert parse_engine(["daemon-json [1]"]).daemon_json is None  # not an object
    assert parse_engine([]).daemon_json is None


def test_the_os_release_is_read_as_the_shell_would():
    from tasks.engine.facts import parse_platform
    from tasks.engine.packages import UNKNOWN_PLATFORM

    ubuntu = ["os-release ID=ubuntu", 'os-release VERSION_ID="24.04"']
    assert parse_platform([*ubuntu, "os-release VERSION_CODENAME='noble'"]) == (
        Platform("ubuntu", "24.04", "noble")
    )
    assert parse_platform(["os-release ID=Debian"]) == Platform("debian", "-", "")  # sid
    assert parse_platform(['os-release ID="unclosed']) == Platform('"unclosed', "-", "")
    assert parse_platform([]) == UNKNOWN_PLATFORM  # no os-release


def test_packages_not_installed_are_not_removed():
    for data in ({}, {"docker_source": "distro"}):
        names = [op.name for op in install(fresh("debian-13"), load_settings("testhost", data))]
        assert not [name for name in names if "| Remove " in name]


def test_daemon_json_is_written_in_one_command_only_when_it_differs(tmp_path):
    import os
    import subprocess

    from tasks.engine.commands import write_root_file

    settings = load_settings("testhost", {"docker_source": "distro"})
    content = daemon_config(settings)
    commands = commands_by_name("debian-13", docker_source="distro")
    (command,) = commands["Write /etc/docker/daemon.json"]
    assert command == write_root_file(DAEMON_JSON, content, 644)
    target = tmp_path / "etc" / "docker" / "daemon.json"
    if os.geteuid() == 0:  # chown root:root needs root, as on the host
        subprocess.run(["sh", "-c", write_root_file(str(target), content, 644)], check=True)
        assert target.read_text() == content and oct(target.stat().st_mode)[-3:] == "644"
        assert [path.name for path in target.parent.iterdir()] == ["daemon.json"]
    written = PathState("file", 644, "root", "root", hashlib.sha256(content.encode()).hexdigest())
    converged = DockerEngineState(
        RELEASES["debian-13"], "amd64", {}, {DAEMON_JSON: written}, True, True, True
    )
    names = [op.name for op in install(converged, settings)]
    assert "Install Docker | Write /etc/docker/daemon.json" in names
    planned = {op.name: op.commands for op in install(converged, settings)}
    assert planned["Install Docker | Write /etc/docker/daemon.json"] == []
