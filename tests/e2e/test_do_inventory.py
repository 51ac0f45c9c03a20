"""
inventories/do.py through the DigitalOcean API path: droplets listed by tag with the
official pydo client (against a local stand-in of the documented API), then deployed
over SSH like any droplet.
"""

from __future__ import annotations

import shutil

import pytest

from tests.e2e import harness
from tests.e2e.conftest import own_host, stack_data
from tests.e2e.do_api import DropletApi, droplet

pytestmark = pytest.mark.e2e

TOKEN = "dop_v1_e2e_token_0123456789abcdef"


@pytest.fixture(scope="module")
def droplet_host(stand_in_images, ssh_key):
    with own_host(ssh_key) as host:
        yield host


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    server = DropletApi(
        TOKEN,
        [
            droplet(101, "prisma-fra1-01", "127.0.0.1", ["prisma", "production"]),
            droplet(102, "web-fra1-01", "127.0.0.1", ["web"]),
        ],
    ).start(tmp_path_factory.mktemp("do-api"))
    yield server
    server.stop()


def api_environment(api, host, ssh_key, secrets_dir) -> dict[str, str]:
    """The environment of a user deploying the droplets tagged 'prisma'."""
    return {
        "DIGITALOCEAN_TOKEN": TOKEN,
        "DIGITALOCEAN_API_ENDPOINT": api.url,
        "REQUESTS_CA_BUNDLE": str(api.ca_file),
        "PRISMA_SSH_PORT": str(host.ssh_port),
        "PRISMA_SSH_KEY": str(ssh_key[0]),
        "PRISMA_SECRETS_DIR": str(secrets_dir),
    }


def test_tagged_droplets_are_deployed_and_the_token_never_printed(
    droplet_host, api, stand_in_images, ssh_key, tmp_path
):
    environment = api_environment(api, droplet_host, ssh_key, tmp_path / "secrets")
    data = stack_data(droplet_host, stand_in_images)

    first = harness.run_pyinfra("inventories/do.py", "deploy.py", environment, data)
    assert first.returncode == 0, first.output
    # Only the droplet tagged 'prisma' was a host; it is known by its droplet name.
    assert (tmp_path / "secrets" / "prisma-fra1-01" / "db_password").exists()
    assert not (tmp_path / "secrets" / "web-fra1-01").exists()
    listings = [request for request in api.requests if request["path"] == "/v2/droplets"]
    assert {request["query"].get("tag_name") for request in listings} == {"prisma"}
    assert {request["authorization"] for request in api.requests} == {f"Bearer {TOKEN}"}

    second = harness.run_pyinfra(
        "inventories/do.py", "deploy.py", environment, data, flags=("-y", "--json", "-vvv")
    )
    assert second.returncode == 0, second.output
    assert second.total_changes == 0
    for run in (first, second):
        assert TOKEN not in run.output


def test_a_host_with_a_stack_but_no_local_secrets_is_refused(
    droplet_host, api, stand_in_images, ssh_key, tmp_path
):
    """Renamed droplet or lost .secrets/: never generate a new database password."""
    environment = api_environment(api, droplet_host, ssh_key, tmp_path / "empty-store")
    env_before = droplet_host.exec("sha256sum /opt/prisma/.env").stdout

    refused = harness.run_pyinfra(
        "inventories/do.py",
        "deploy.py",
        environment,
        stack_data(droplet_host, stand_in_images),
        flags=("-y",),
    )

    assert refused.returncode != 0
    assert "already has a Prisma stack" in refused.output
    assert "prisma_db_password" in refused.output
    assert droplet_host.exec("sha256sum /opt/prisma/.env").stdout == env_before
    assert not (tmp_path / "empty-store" / "prisma-fra1-01" / "db_password").exists()
    shutil.rmtree(tmp_path / "empty-store", ignore_errors=True)


def test_invalid_token_is_a_clear_error_without_the_token(api, tmp_path):
    result = harness.run_pyinfra(
        "inventories/do.py",
        "deploy.py",
        {
            "DIGITALOCEAN_TOKEN": "dop_v1_wrong_secret_token",
            "DIGITALOCEAN_API_ENDPOINT": api.url,
            "REQUESTS_CA_BUNDLE": str(api.ca_file),
            "PRISMA_SECRETS_DIR": str(tmp_path),
        },
        flags=("-y", "-vvv"),
    )
    assert result.returncode != 0
    assert "listing droplets tagged 'prisma' failed" in result.output
    assert "dop_v1_wrong_secret_token" not in result.output
