"""
scripts/pyinfra, the README's deploy command, run for real (/bin/sh) against stand-ins
of what it calls: python3 (version, ensurepip, venv), the virtualenv's python (pip),
apt-cache, apt-get, sudo and id. Each stand-in logs its calls, so the tests read which
package apt-get installed, whether `apt-get update` ran, and whether .venv was made or
pip ran. PATH holds only the stand-ins and the few real tools the script uses, so the
machine's own apt or python3 can never answer instead.

What cannot run here (Ubuntu's versioned python3.X-venv, Debian 12, macOS without apt) is
covered by what apt-cache knows and what is on PATH; a fresh Debian 13 host runs the same
script end to end in tests/e2e/test_local_inventory.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "pyinfra"
REAL_TOOLS = ("dirname", "cat", "cmp", "sed", "grep", "rm", "env", "mkdir", "chmod", "cp", "touch")
ARGS = ("-y", "inventories/local.py", "deploy.py")

PYTHON3 = r"""#!/bin/sh
echo "python3 $*" >>"$STATE/log"
case "$1 $2" in
    "-c import sys; print"*)
        [ -n "${FAKE_VERSION:-}" ] || exit 1
        echo "$FAKE_VERSION" ;;
    "-c import ensurepip, venv")
        [ -e "$STATE/venv-package" ] ;;
    "-m venv")
        [ "$3" = --clear ] || { echo "stand-in expects --clear" >&2; exit 2; }
        rm -rf "$4" && mkdir -p "$4/bin" && cp "$STATE/venv-python" "$4/bin/python"
        # Like Debian's python3 without python3-venv: a .venv without pip, and an error.
        if [ ! -e "$STATE/venv-package" ]; then
            echo "The virtual environment was not created successfully" \
                "because ensurepip is not available." >&2
            exit 1
        fi
        echo "$FAKE_VERSION" >"$4/pip" ;;
    *) echo "unexpected python3 call: $*" >&2; exit 2 ;;
esac
"""

VENV_PYTHON = r"""#!/bin/sh
venv=$(dirname "$(dirname "$0")")
echo "venv-python $*" >>"$STATE/log"
case "$1 $2 $3" in
    "-m pip --version") [ -e "$venv/pip" ] ;;
    "-m pip install")
        [ -e "$venv/pip" ] && [ -z "${FAKE_PIP_FAILS:-}" ] || exit 1
        printf '#!/bin/sh\necho "pyinfra $*" >>"$STATE/log"\necho "pyinfra ran: $*"\n' \
            >"$venv/bin/pyinfra"
        chmod +x "$venv/bin/pyinfra" ;;
    *) echo "unexpected venv python call: $*" >&2; exit 2 ;;
esac
"""

APT_CACHE = r"""#!/bin/sh
echo "apt-cache $*" >>"$STATE/log"
[ "$1" = policy ] || exit 2
[ -e "$STATE/lists" ] || exit 0
for known in $FAKE_APT_KNOWS; do
    if [ "$known" = "$2" ]; then
        printf '%s:\n  Installed: (none)\n  Candidate: 1.0\n' "$2"
    fi
done
"""

APT_GET = r"""#!/bin/sh
echo "apt-get $* frontend=${DEBIAN_FRONTEND:-}" >>"$STATE/log"
for word in "$@"; do
    case "$word" in
        update)
            [ -z "${FAKE_UPDATE_FAILS:-}" ] || exit 100
            touch "$STATE/lists" "$STATE/updated"; exit 0 ;;
        install) install=1 ;;
        *-venv) package=$word ;;
    esac
done
[ -n "${install:-}" ] || exit 2
if [ -n "${FAKE_STALE_LISTS:-}" ] && [ ! -e "$STATE/updated" ]; then
    echo "E: Failed to fetch $package  404  Not Found" >&2; exit 100
fi
echo "$package" >"$STATE/venv-package"
"""

SUDO = r"""#!/bin/sh
echo "sudo $*" >>"$STATE/log"
exec "$@"
"""

ID = r"""#!/bin/sh
[ "$1" = -u ] && echo "${FAKE_UID:-0}"
"""


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    calls: list[str]


class Machine:
    """A temporary project copy plus stand-ins; run() runs scripts/pyinfra there."""

    def __init__(self, root: Path, version: str | None = "3.13", apt: bool = True):
        self.root = root
        self.project = root / "project"
        (self.project / "scripts").mkdir(parents=True)
        shutil.copy(SCRIPT, self.project / "scripts" / "pyinfra")
        (self.project / "pyproject.toml").write_text('[project]\nname = "x"\n')
        self.state = root / "state"
        self.state.mkdir()
        (self.state / "venv-python").write_text(VENV_PYTHON)
        self.bin = root / "bin"
        self.bin.mkdir()
        for tool in REAL_TOOLS:
            (self.bin / tool).symlink_to(shutil.which(tool))
        stand_ins = {"id": ID, "sudo": SUDO}
        if version is not None:
            stand_ins["python3"] = PYTHON3
        if apt:
            stand_ins |= {"apt-get": APT_GET, "apt-cache": APT_CACHE}
        for name, text in stand_ins.items():
            (self.bin / name).write_text(text)
        for path in [*self.bin.iterdir(), self.state / "venv-python"]:
            if not path.is_symlink():
                path.chmod(0o755)
        self.env = {
            "PATH": str(self.bin),
            "STATE": str(self.state),
            "FAKE_VERSION": version or "",
            "FAKE_APT_KNOWS": f"python{version}-venv python3-venv",
        }

    @property
    def venv(self) -> Path:
        return self.project / ".venv"

    def lists_present(self) -> None:
        (self.state / "lists").touch()

    def venv_package_installed(self) -> None:
        (self.state / "venv-package").write_text("preinstalled\n")

    def installed_package(self) -> str | None:
        path = self.state / "venv-package"
        return path.read_text().strip() if path.exists() else None

    def run(self, *args: str, cwd: Path | None = None, **env: str) -> Run:
        log = self.state / "log"
        log.write_text("")
        result = subprocess.run(
            [str(self.project / "scripts" / "pyinfra"), *args],
            cwd=cwd or self.project,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        return Run(result.returncode, result.stdout, result.stderr, log.read_text().splitlines())


def called(run: Run, program: str) -> list[str]:
    return [call for call in run.calls if call.split()[0] == program]


def apt_get(run: Run, subcommand: str) -> list[str]:
    return [call for call in called(run, "apt-get") if f" {subcommand}" in call]


def one_line(run: Run) -> str:
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("scripts/pyinfra: ")
    return lines[0]


@pytest.fixture
def machine(tmp_path) -> Machine:
    return Machine(tmp_path)


def test_a_fresh_debian_gets_lists_the_versioned_venv_package_a_venv_and_runs_pyinfra(machine):
    result = machine.run(*ARGS)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "pyinfra ran: -y inventories/local.py deploy.py\n"
    # No package lists on a fresh image: one update, then the versioned package.
    assert len(apt_get(result, "update")) == 1
    assert machine.installed_package() == "python3.13-venv"
    assert all("frontend=noninteractive" in call for call in called(result, "apt-get"))
    assert not called(result, "sudo")  # root
    assert called(result, "python3") == [
        'python3 -c import sys; print("%d.%d" % sys.version_info[:2])',
        "python3 -c import ensurepip, venv",
        "python3 -c import ensurepip, venv",
        f"python3 -m venv --clear {machine.venv}",
    ]
    pip = "venv-python -m pip install --quiet --disable-pip-version-check -e"
    assert f"{pip} {machine.project}" in result.calls


def test_current_package_lists_are_not_updated_again(machine):
    machine.lists_present()
    result = machine.run(*ARGS)
    assert result.returncode == 0, result.stderr
    assert apt_get(result, "update") == []
    assert machine.installed_package() == "python3.13-venv"


def test_ubuntu_gets_the_venv_package_of_its_python3_version(tmp_path):
    ubuntu = Machine(tmp_path, version="3.12")
    ubuntu.env["FAKE_APT_KNOWS"] = "python3.12-venv python3-venv python3.13-venv"
    ubuntu.lists_present()
    result = ubuntu.run(*ARGS)
    assert result.returncode == 0, result.stderr
    assert ubuntu.installed_package() == "python3.12-venv"


def test_without_a_versioned_package_python3_venv_is_installed(machine):
    machine.env["FAKE_APT_KNOWS"] = "python3-venv"
    machine.lists_present()
    result = machine.run(*ARGS)
    assert result.returncode == 0, result.stderr
    assert machine.installed_package() == "python3-venv"


def test_stale_package_lists_are_updated_once_and_the_install_retried(machine):
    machine.lists_present()
    result = machine.run(*ARGS, FAKE_STALE_LISTS="1")
    assert result.returncode == 0, result.stderr
    assert len(apt_get(result, "install")) == 2
    assert len(apt_get(result, "update")) == 1
    assert machine.installed_package() == "python3.13-venv"


def test_a_sudo_user_installs_through_sudo(machine):
    result = machine.run(*ARGS, FAKE_UID="1000")
    assert result.returncode == 0, result.stderr
    sudo_calls = called(result, "sudo")
    assert len(sudo_calls) == len(called(result, "apt-get")) == 2
    assert all(" apt-get " in call for call in sudo_calls)


def test_a_user_without_sudo_is_told_what_to_install(machine):
    (machine.bin / "sudo").unlink()
    result = machine.run(*ARGS, FAKE_UID="1000")
    assert result.returncode == 1
    assert "apt-get install python3.13-venv" in one_line(result)
    assert called(result, "apt-get") == []
    assert not machine.venv.exists()


def test_without_apt_one_line_says_what_to_install(tmp_path):
    mac = Machine(tmp_path, version="3.12", apt=False)
    result = mac.run(*ARGS)
    assert result.returncode == 1
    line = one_line(result)
    assert "venv" in line and "3.12" in line
    assert not mac.venv.exists()


def test_apt_without_any_venv_package_says_so(machine):
    machine.env["FAKE_APT_KNOWS"] = ""
    result = machine.run(*ARGS)
    assert result.returncode == 1
    assert "apt knows neither python3.13-venv nor python3-venv" in result.stderr.splitlines()[-1]
    assert apt_get(result, "install") == []


def test_a_failing_apt_get_update_stops_with_what_to_do(machine):
    result = machine.run(*ARGS, FAKE_UPDATE_FAILS="1")
    assert result.returncode == 1
    assert "apt-get update failed" in result.stderr.splitlines()[-1]
    assert "python3.13-venv" in result.stderr.splitlines()[-1]


def test_no_python3_is_one_line(tmp_path):
    bare = Machine(tmp_path, version=None)
    result = bare.run(*ARGS)
    assert result.returncode == 1
    assert "python3 (3.10 or newer) is not installed" in one_line(result)


@pytest.mark.parametrize("version", ["3.9", "2.7"])
def test_a_python3_older_than_3_10_is_one_line(tmp_path, version):
    old = Machine(tmp_path, version=version)
    result = old.run(*ARGS)
    assert result.returncode == 1
    assert f"python3 is {version}; this project needs 3.10 or newer" in one_line(result)
    assert called(result, "apt-get") == []


@pytest.mark.parametrize("version", ["3.10", "3.13", "4.0"])
def test_python_3_10_and_newer_are_accepted(tmp_path, version):
    new = Machine(tmp_path, version=version)
    new.venv_package_installed()
    result = new.run(*ARGS)
    assert result.returncode == 0, result.stderr


def test_a_second_run_only_starts_python3_once_and_pyinfra(machine):
    assert machine.run(*ARGS).returncode == 0
    again = machine.run("-y", "--json", "inventories/local.py", "deploy.py")
    assert again.returncode == 0, again.stderr
    assert again.stderr == ""
    assert again.calls == [
        'python3 -c import sys; print("%d.%d" % sys.version_info[:2])',
        "pyinfra -y --json inventories/local.py deploy.py",
    ]


def test_the_command_works_from_another_directory(machine, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = machine.run(*ARGS, cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert (machine.venv / "bin" / "pyinfra").exists()
    assert not (elsewhere / ".venv").exists()


def test_a_half_made_venv_left_by_a_failed_python3_m_venv_is_remade(machine):
    # What `python3 -m venv .venv` leaves on a fresh Debian: a .venv without pip.
    (machine.venv / "bin").mkdir(parents=True)
    shutil.copy(machine.state / "venv-python", machine.venv / "bin" / "python")
    (machine.venv / "bin" / "python").chmod(0o755)
    result = machine.run(*ARGS)
    assert result.returncode == 0, result.stderr
    assert f"python3 -m venv --clear {machine.venv}" in result.calls
    assert machine.installed_package() == "python3.13-venv"


def test_a_users_own_healthy_venv_is_kept_and_the_project_installed_into_it(machine):
    machine.venv_package_installed()
    (machine.venv / "bin").mkdir(parents=True)
    shutil.copy(machine.state / "venv-python", machine.venv / "bin" / "python")
    (machine.venv / "bin" / "python").chmod(0o755)
    (machine.venv / "pip").write_text("3.13\n")
    (machine.venv / "mine").write_text("kept")
    result = machine.run(*ARGS)
    assert result.returncode == 0, result.stderr
    assert not [call for call in result.calls if " -m venv" in call]
    assert (machine.venv / "mine").read_text() == "kept"
    assert any(call.startswith("venv-python -m pip install") for call in result.calls)


def test_a_changed_pyproject_reinstalls_the_project_without_a_new_venv(machine):
    assert machine.run(*ARGS).returncode == 0
    (machine.project / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "2"\n')
    result = machine.run(*ARGS)
    assert result.returncode == 0, result.stderr
    assert not [call for call in result.calls if " -m venv" in call]
    assert any(call.startswith("venv-python -m pip install") for call in result.calls)
    third = machine.run(*ARGS)
    assert not [call for call in third.calls if "pip install" in call]


def test_a_venv_of_another_python_version_is_remade(machine):
    assert machine.run(*ARGS).returncode == 0
    machine.env["FAKE_VERSION"] = "3.14"
    machine.venv_package_installed()
    result = machine.run(*ARGS)
    assert result.returncode == 0, result.stderr
    assert f"python3 -m venv --clear {machine.venv}" in result.calls


def test_a_moved_project_remakes_its_venv(machine, tmp_path):
    assert machine.run(*ARGS).returncode == 0
    moved = tmp_path / "moved"
    machine.project.rename(moved)
    machine.project = moved
    result = machine.run(*ARGS)
    assert result.returncode == 0, result.stderr
    assert f"python3 -m venv --clear {moved / '.venv'}" in result.calls


def test_a_failed_pip_install_stops_and_is_retried_on_the_next_run(machine):
    failed = machine.run(*ARGS, FAKE_PIP_FAILS="1")
    assert failed.returncode == 1
    assert "pip install -e" in failed.stderr.splitlines()[-1]
    assert called(failed, "pyinfra") == []
    retried = machine.run(*ARGS)
    assert retried.returncode == 0, retried.stderr
    assert any(call.startswith("venv-python -m pip install") for call in retried.calls)
    assert called(retried, "pyinfra") == ["pyinfra -y inventories/local.py deploy.py"]


def test_the_script_is_posix_sh():
    assert SCRIPT.read_text().startswith("#!/bin/sh\n")
    assert os.access(SCRIPT, os.X_OK)
    if shutil.which("dash"):
        subprocess.run(["dash", "-n", str(SCRIPT)], check=True)
