"""
provision.py and destroy.py against a stand-in of the DigitalOcean API whose droplets are
real test hosts and whose volumes are real loop devices (tests/e2e/do_cloud.py): from
nothing to a healthy stack through inventories/do.py, a second run of each with no API
write and no change, the database surviving a droplet destroyed and created again with
its volume kept, consent, destroy_data, bad input refused before any write; then two
droplets at once, each reached on its own SSH port (PRISMA_SSH_PORTS), and a resize that
needs a power-off.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tasks.cloud.kept import kept_ips_file
from tests.e2e import harness
from tests.e2e.conftest import stack_data
from tests.e2e.do_cloud import CloudApi

pytestmark = pytest.mark.e2e

TOKEN = "dop_v1_provision_e2e_token_0123456789abcdef"
NAME = "prisma-01"
NAMES = (NAME, "prisma-02")  # do_droplets=2
DOMAIN = "api.example.test"


@pytest.fixture(scope="module")
def cloud(stand_in_images, tmp_path_factory):
    api = CloudApi(TOKEN, tmp_path_factory.mktemp("do-cloud")).start()
    yield api
    api.close()


@pytest.fixture(scope="module")
def user(cloud, ssh_key, tmp_path_factory):
    """The environment of a user with only an API token, a key and this project."""
    directory = tmp_path_factory.mktemp("user")
    return {
        "DIGITALOCEAN_TOKEN": TOKEN,
        "DIGITALOCEAN_API_ENDPOINT": cloud.url,
        "REQUESTS_CA_BUNDLE": str(cloud.ca_file),
        "PRISMA_SSH_KEY": str(ssh_key[0]),
        # Every droplet of the stand-in is at 127.0.0.1, each on its own SSH port.
        "PRISMA_SSH_PORTS": cloud.ssh_ports_variable(NAMES),
        "PRISMA_SECRETS_DIR": str(directory / "secrets"),
        "PRISMA_BACKUP_DIR": str(directory / "backups"),
    }


DECLARED = {"prisma_domain": DOMAIN, "do_tags": ["production"]}


def provision(user, flags=("-y", "--json"), **data):
    return harness.run_pyinfra("@local", "provision.py", user, {**DECLARED, **data}, flags=flags)


def destroy(user, **data):
    """destroy.py with the same declared settings as provision.py (as group_data would)."""
    return harness.run_pyinfra("@local", "destroy.py", user, {**DECLARED, **data})


def deploy(cloud, user, images):
    host = next(iter(cloud.hosts.values()))
    return harness.run_pyinfra("inventories/do.py", "deploy.py", user, stack_data(host, images))


def the_host(cloud) -> harness.TestHost:
    (host,) = cloud.hosts.values()
    return host


BAD_INPUT = [
    ({"do_region": "xyz9"}, "'do_region': 'xyz9' is not an available DigitalOcean region"),
    ({"do_size": "s-64vcpu-1tb"}, "'do_size': 's-64vcpu-1tb' is not a droplet size offered"),
    ({"do_image": "debian-99-x64"}, "'do_image': the API knows no image 'debian-99-x64'"),
    ({"do_droplets": 0}, "'do_droplets' must be a count from 1 to 50"),
    ({"do_droplets": 500}, "'do_droplets' must be a count from 1 to 50"),
    ({"do_droplets": ["Prisma_01"]}, "valid host names"),
    ({"prisma_domain": "api.elsewhere.test"}, "is in no domain this DigitalOcean account"),
]


@pytest.mark.parametrize("data,message", BAD_INPUT, ids=[str(d) for d, _ in BAD_INPUT])
def test_bad_input_is_refused_before_any_write(cloud, user, data, message):
    before = len(cloud.requests)
    result = provision(user, **data)
    assert result.returncode != 0
    assert message in result.output
    assert cloud.writes(before) == []
    assert TOKEN not in result.output


def test_a_missing_token_is_a_clear_error(cloud, user):
    before = len(cloud.requests)
    result = provision({**user, "DIGITALOCEAN_TOKEN": ""})
    assert result.returncode != 0
    assert "no DigitalOcean API token: set DIGITALOCEAN_TOKEN" in result.output
    assert cloud.requests[before:] == []


def test_from_nothing_to_a_healthy_stack(cloud, user, stand_in_images):
    first = provision(user)
    assert first.returncode == 0, first.output
    assert "Next: pyinfra inventories/do.py deploy.py" in first.output
    made = [(r["method"], r["path"]) for r in cloud.writes()]
    assert ("POST", "/v2/account/keys") in made and ("POST", "/v2/droplets") in made
    assert {"POST /v2/volumes", "POST /v2/reserved_ips", "POST /v2/firewalls"} <= {
        f"{m} {p}" for m, p in made
    }
    (droplet,) = cloud.droplets.values()
    assert set(droplet["tags"]) == {"prisma", "production"}
    (ip,) = cloud.reserved_ips.values()
    assert [r["data"] for r in cloud.records["example.test"] if r["name"] == "api"] == [ip["ip"]]
    (firewall,) = cloud.firewalls.values()
    assert firewall["tags"] == ["prisma"]
    known_hosts = (Path(user["PRISMA_SECRETS_DIR"]) / "known_hosts").read_text()
    assert f"[127.0.0.1]:{cloud.ssh_port(NAME)}" in known_hosts

    deployed = deploy(cloud, user, stand_in_images)
    assert deployed.returncode == 0, deployed.output
    host = the_host(cloud)
    mount = host.exec("findmnt -n -o FSTYPE,TARGET /mnt/prisma-data").stdout.split()
    assert mount == ["ext4", "/mnt/prisma-data"]
    assert host.exec("ls /mnt/prisma-data/mysql").stdout.strip()  # the database is there
    assert harness.run("curl", "-s", host.url(4466, "/status")).stdout.strip() == "OK"
    for run in (first, deployed):
        assert TOKEN not in run.output


def test_second_runs_write_nothing_and_change_nothing(cloud, user, stand_in_images):
    before = len(cloud.requests)
    cloud.rate_limited = 2  # the first two requests answer 429: waited out
    again = provision(user, flags=("-y", "--json", "-vvv", "--debug"))
    assert again.returncode == 0, again.output
    assert again.total_changes == 0
    assert TOKEN not in again.output
    assert cloud.writes(before) == []
    assert "rate limit" in again.output
    redeployed = deploy(cloud, user, stand_in_images)
    assert redeployed.returncode == 0, redeployed.output
    assert redeployed.total_changes == 0, redeployed.changed_operations


def mysql(cloud, user, sql: str) -> str:
    password = (Path(user["PRISMA_SECRETS_DIR"]) / NAME / "db_password").read_text()
    return (
        the_host(cloud)
        .exec(
            "docker exec -i -e MYSQL_PWD prisma-db mysql -uroot -N -B",
            input=sql,
            environment={"MYSQL_PWD": password},
        )
        .stdout
    )


def test_destroy_needs_consent_naming_the_droplet(cloud, user):
    before = len(cloud.requests)
    refused = destroy(user, destroy_confirm="prisma-02")
    assert refused.returncode != 0
    assert "--data destroy_confirm=prisma-01" in refused.output
    assert cloud.writes(before) == []


def test_the_data_survives_a_droplet_destroyed_and_created_again(cloud, user, stand_in_images):
    mysql(
        cloud,
        user,
        "CREATE DATABASE kept; CREATE TABLE kept.t (v TEXT); "
        "INSERT INTO kept.t VALUES ('survives');",
    )
    destroyed = destroy(user, destroy_confirm=NAME)
    assert destroyed.returncode == 0, destroyed.output
    assert cloud.droplets == {} and cloud.hosts == {}
    assert "kept (destroy_data=false): volume prisma-01-data, reserved IP" in destroyed.output
    assert f"DNS record {DOMAIN}" in destroyed.output
    assert list(Path(user["PRISMA_BACKUP_DIR"]).glob(f"{NAME}/*.sql.gz"))  # final backup
    assert len(cloud.volumes) == 1 and len(cloud.reserved_ips) == 1

    # As on another machine: no local record of the reserved IP; the DNS record that
    # still points at it is how provision.py finds it again.
    kept_ips_file(user).unlink()
    before = len(cloud.requests)
    again = provision(user)
    assert again.returncode == 0, again.output
    writes = {f"{r['method']} {r['path']}" for r in cloud.writes(before)}
    assert "POST /v2/volumes" not in writes and "POST /v2/reserved_ips" not in writes
    assert not any("/records" in write for write in writes)  # it points there already
    assert len(cloud.reserved_ips) == 1
    redeployed = deploy(cloud, user, stand_in_images)
    assert redeployed.returncode == 0, redeployed.output
    assert mysql(cloud, user, "SELECT v FROM kept.t;").strip() == "survives"


def test_destroy_data_deletes_volume_address_and_record(cloud, user):
    result = destroy(user, destroy_confirm=NAME, destroy_data=True)
    assert result.returncode == 0, result.output
    assert cloud.droplets == {} and cloud.volumes == {} and cloud.reserved_ips == {}
    assert [r for r in cloud.records["example.test"] if r["name"] == "api"] == []
    assert cloud.loops == {}
    assert TOKEN not in result.output


def test_two_droplets_from_nothing_each_on_its_own_port(cloud, user, stand_in_images):
    first = provision(user, do_droplets=2)
    assert first.returncode == 0, first.output
    assert sorted(d["name"] for d in cloud.droplets.values()) == list(NAMES)
    known_hosts = (Path(user["PRISMA_SECRETS_DIR"]) / "known_hosts").read_text()
    for name in NAMES:
        assert f"[127.0.0.1]:{cloud.ssh_port(name)}" in known_hosts
        assert f"{name}.api" in {r["name"] for r in cloud.records["example.test"]}

    deployed = deploy(cloud, user, stand_in_images)
    assert deployed.returncode == 0, deployed.output
    for name in NAMES:
        host = cloud.host_of(name)
        assert harness.run("curl", "-s", host.url(4466, "/status")).stdout.strip() == "OK"
        assert host.exec("findmnt -n -o FSTYPE /mnt/prisma-data").stdout.strip() == "ext4"

    before = len(cloud.requests)
    again = provision(user, do_droplets=2)
    assert again.returncode == 0, again.output
    assert again.total_changes == 0 and cloud.writes(before) == []


def started_at(host: harness.TestHost) -> str:
    """When the droplet's container last started (a container shares the machine's boot_id)."""
    return harness.docker("inspect", "-f", "{{.State.StartedAt}}", host.name).stdout.strip()


def every_droplet_answers(user) -> subprocess.CompletedProcess:
    """`pyinfra inventories/do.py exec -- true`: SSH on each one's port, keys as recorded."""
    command = [sys.executable, "-m", "pyinfra", "-y", "inventories/do.py", "exec", "--", "true"]
    return subprocess.run(
        command,
        cwd=harness.PROJECT_ROOT,
        env=harness.pyinfra_environment(user),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_resize_powers_off_only_with_consent_naming_the_droplet(cloud, user):
    # prisma-02 was made smaller in the control panel (CPU and memory: its disk stays).
    (droplet,) = [d for d in cloud.droplets.values() if d["name"] == "prisma-02"]
    droplet["size_slug"] = "s-1vcpu-1gb"
    booted = started_at(cloud.host_of("prisma-02"))

    before = len(cloud.requests)
    refused = provision(user, do_droplets=2, do_resize_confirm=NAME)
    assert refused.returncode != 0
    assert "--data do_resize_confirm=prisma-02" in refused.output
    assert cloud.writes(before) == []

    resized = provision(user, do_droplets=2, do_resize_confirm="prisma-02")
    assert resized.returncode == 0, resized.output
    actions = [r["body"]["type"] for r in cloud.writes(before)]
    assert actions == ["power_off", "resize", "power_on"]
    assert {r["path"] for r in cloud.writes(before)} == {f"/v2/droplets/{droplet['id']}/actions"}
    assert droplet["size_slug"] == "s-1vcpu-2gb" and droplet["status"] == "active"
    assert started_at(cloud.host_of("prisma-02")) != booted  # really powered off and on
    answers = every_droplet_answers(user)
    assert answers.returncode == 0, answers.stdout + answers.stderr
