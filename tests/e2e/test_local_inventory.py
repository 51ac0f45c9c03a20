"""
The README's deploy command, read from README.md and run verbatim on a host that has
exactly a fresh Debian 13 cloud image's Python: python3, and no venv, pip or git. The
project is copied there as a user copies a release archive, and the command must
install what it needs and converge the machine it runs on (inventories/local.py).

The test adds only configuration, never words to the command: its stand-in settings
(images from the host's test registry) in group_data/all.py of the project copy, which
pyinfra loads from the working directory, and pip's own PIP_* variables pointing at a
wheelhouse (the test host reaches no package index; a private mirror is configured
the same way).
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import urllib.request

import pytest

from tests.e2e import harness
from tests.e2e.conftest import own_host, stack_data

pytestmark = pytest.mark.e2e

PROJECT_IN_HOST = "/root/prisma-deploy"
WHEELS_IN_HOST = "/root/wheels"
PROJECT_PARTS = (
    "README.md",
    "pyproject.toml",
    "deploy.py",
    "scripts",
    "tasks",
    "files",
    "inventories",
)
# Configuration the command runs under: pip from the wheelhouse; PORT in the operator's
# shell must not move the server (.env wins over it).
HOST_ENVIRONMENT = {
    "PIP_NO_INDEX": "1",
    "PIP_FIND_LINKS": WHEELS_IN_HOST,
    "PYINFRA_PROGRESS": "off",
    "PORT": "9999",
}


def readme_deploy_commands(readme: str) -> list[str]:
    """The commands of the README's "Two commands" section's shell block that deploy
    this machine (`inventories/local.py deploy.py`), comments left out."""
    section = re.search(r"^## Two commands\n(.*?)(?=^## )", readme, re.M | re.S)
    assert section, "README.md has no '## Two commands' section"
    block = re.search(r"^```sh\n(.*?)^```", section.group(1), re.M | re.S)
    assert block, "the 'Two commands' section has no ```sh block"
    return [
        line.strip()
        for line in block.group(1).splitlines()
        if "inventories/local.py deploy.py" in line and not line.lstrip().startswith("#")
    ]


def readme_deploy_command() -> str:
    commands = readme_deploy_commands((harness.PROJECT_ROOT / "README.md").read_text())
    assert len(commands) == 1, commands
    return commands[0]


def test_the_readme_has_one_command_to_deploy_this_machine():
    command = readme_deploy_command()
    assert not command.endswith("\\"), "the deploy command must be one line to paste"
    assert command.startswith("scripts/pyinfra ")
    sample = (
        "## Two commands\n\n```sh\n# deploy\nA inventories/local.py deploy.py\nB\n```\n"
        "## Next\n```sh\nC inventories/local.py deploy.py\n```\n"
    )
    assert readme_deploy_commands(sample) == ["A inventories/local.py deploy.py"]
    assert readme_deploy_commands(sample.replace("A ", "# A ")) == []


def project_archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for part in PROJECT_PARTS:
            archive.add(
                harness.PROJECT_ROOT / part,
                arcname=part,
                filter=lambda info: None if "__pycache__" in info.name else info,
            )
    return buffer.getvalue()


def group_data(data: dict[str, object]) -> str:
    """A group_data/all.py giving every host these settings."""
    return "".join(f"{key} = {value!r}\n" for key, value in data.items())


@pytest.fixture(scope="module")
def cloud_host(stand_in_images, ssh_key):
    with own_host(ssh_key, image=harness.cloud_host_image()) as host:
        yield host


@pytest.fixture(scope="module")
def project_on_host(cloud_host, stand_in_images):
    """The project copied onto the host with the test's settings, and the wheelhouse."""
    host = cloud_host
    harness.docker("cp", str(harness.wheelhouse()), f"{host.name}:{WHEELS_IN_HOST}")
    host.exec(f"mkdir -p {PROJECT_IN_HOST}")
    archive = harness.CACHE_DIR / f"{host.name}-project.tar"
    archive.write_bytes(project_archive())
    try:
        harness.docker("cp", str(archive), f"{host.name}:/root/project.tar")
    finally:
        archive.unlink()
    host.exec(f"tar -x -C {PROJECT_IN_HOST} -f /root/project.tar && rm /root/project.tar")
    host.exec(
        f"mkdir -p {PROJECT_IN_HOST}/group_data && cat > {PROJECT_IN_HOST}/group_data/all.py",
        input=group_data(stack_data(host, stand_in_images)),
    )
    return host


def run_in_project(host, command: str):
    return host.exec(
        command,
        check=False,
        timeout=1200,
        environment=HOST_ENVIRONMENT,
        workdir=PROJECT_IN_HOST,
    )


def test_the_readme_command_deploys_a_fresh_cloud_image(project_on_host):
    host = project_on_host
    command = readme_deploy_command()

    # Positive control: the host really is bare. The old README's first step fails as
    # it did for the user, leaving a half-made .venv that the command must repair.
    missing = host.exec(
        "dpkg-query -W -f '${Package} ${db:Status-Status}\\n' python3-venv python3.13-venv "
        "python3-pip git 2>/dev/null | grep -c ' installed$'; command -v git pip pip3",
        check=False,
    )
    assert missing.stdout.split() == ["0"], missing.stdout
    old_first_step = run_in_project(host, "python3 -m venv .venv")
    assert old_first_step.returncode != 0
    said = " ".join((old_first_step.stdout + old_first_step.stderr).split())
    assert "ensurepip is not available" in said, said
    assert host.exec(f"test -x {PROJECT_IN_HOST}/.venv/bin/python", check=False).returncode == 0

    first = run_in_project(host, command)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    # It installed the versioned venv package itself and nothing more of Python's.
    status = "dpkg-query -W -f '${db:Status-Status}' "
    assert host.exec(status + "python3.13-venv", check=False).stdout == "installed"
    assert host.exec(status + "python3-pip", check=False).stdout != "installed"
    with urllib.request.urlopen(host.url(4466, "/status"), timeout=10) as response:
        assert response.read() == b"OK"
    assert host.exec(f"ls {PROJECT_IN_HOST}/.secrets/@local").stdout.split() == [
        "cluster_private_key.pem",
        "cluster_public_key.pem",
        "db_password",
        "prisma-cluster.yml",  # the Prisma CLI's cluster entry, written after the deploy
        "schema_manager_secret",
    ]

    # The same helper again, with --json: nothing to install, nothing to change.
    second = run_in_project(host, "scripts/pyinfra -y --json inventories/local.py deploy.py")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert "scripts/pyinfra:" not in second.stderr, second.stderr
    results = json.loads(second.stdout)["results"]
    assert results["totals"]["success"] == 0, [
        op["name"] for op in results["operations"] if op["success"]
    ]
