"""
inventories/local.py end to end: the project copied onto a fresh Debian 13 host and run
there with `pyinfra inventories/local.py deploy.py`, as a user deploys on their machine.
"""

from __future__ import annotations

import io
import json
import tarfile
import urllib.request

import pytest

from tests.e2e import harness
from tests.e2e.conftest import own_host, stack_data

pytestmark = pytest.mark.e2e

PROJECT_IN_HOST = "/root/prisma-deploy"
VENV_IN_HOST = "/root/venv"
PROJECT_PARTS = ("pyproject.toml", "deploy.py", "tasks", "files", "inventories")


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


@pytest.fixture(scope="module")
def local_host(stand_in_images, ssh_key):
    with own_host(ssh_key) as host:
        yield host


@pytest.fixture(scope="module")
def installed_project(local_host):
    """The project and its Python dependencies on the host (wheels from this machine)."""
    wheels = harness.wheelhouse()
    local_host.exec(
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive "
        "apt-get install -y -qq python3-venv >/dev/null",
        timeout=900,
    )
    harness.docker("cp", str(wheels), f"{local_host.name}:/root/wheels")
    _copy_project(local_host)
    local_host.exec(
        f"python3 -m venv {VENV_IN_HOST} && {VENV_IN_HOST}/bin/pip install -q --no-index "
        "--find-links /root/wheels pyinfra pyyaml paramiko pydo cryptography",
        timeout=900,
    )
    return local_host


def _copy_project(host) -> None:
    host.exec(f"mkdir -p {PROJECT_IN_HOST}")
    archive = harness.CACHE_DIR / f"{host.name}-project.tar"
    archive.write_bytes(project_archive())
    try:
        harness.docker("cp", str(archive), f"{host.name}:/root/project.tar")
    finally:
        archive.unlink()
    host.exec(f"tar -x -C {PROJECT_IN_HOST} -f /root/project.tar && rm /root/project.tar")


def deploy_locally(host, data: dict[str, object]) -> dict:
    arguments = " ".join(
        f"--data {key}={value if isinstance(value, str) else json.dumps(value)}"
        for key, value in data.items()
    )
    # PORT in the operator's shell must not move the server: .env wins over it.
    result = host.exec(
        f"cd {PROJECT_IN_HOST} && PORT=9999 PYINFRA_PROGRESS=off "
        f"{VENV_IN_HOST}/bin/pyinfra -y --json inventories/local.py deploy.py {arguments}",
        check=False,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)["results"]


def test_local_inventory_converges_the_machine_it_runs_on(installed_project, stand_in_images):
    host = installed_project
    data = stack_data(host, stand_in_images)

    first = deploy_locally(host, data)
    assert first["totals"]["error"] == 0
    with urllib.request.urlopen(host.url(4466, "/status"), timeout=10) as response:
        assert response.read() == b"OK"
    assert host.exec("ls /root/prisma-deploy/.secrets/@local").stdout.split() == [
        "cluster_private_key.pem",
        "cluster_public_key.pem",
        "db_password",
        "schema_manager_secret",
    ]

    second = deploy_locally(host, data)
    assert second["totals"]["success"] == 0, [
        op["name"] for op in second["operations"] if op["success"]
    ]
