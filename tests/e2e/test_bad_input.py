"""
Bad input and unusable hosts in one run with a healthy host: every bad one fails with a
clear error before anything on it changes, the healthy one still converges, and the
run's exit code says some failed. Plus: a changed SSH host key stops the run.
"""

from __future__ import annotations

import subprocess
import urllib.request
from contextlib import ExitStack

import pytest

from tests.e2e import harness
from tests.e2e.conftest import own_host, stack_data

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def hosts(stand_in_images, ssh_key):
    bookworm = harness.host_image("bookworm")
    with ExitStack() as stack:
        started = {
            "healthy": stack.enter_context(own_host(ssh_key)),
            "spare": stack.enter_context(own_host(ssh_key)),
            "bookworm": stack.enter_context(own_host(ssh_key, image=bookworm)),
        }
        # A user that may log in but has no sudo rights; a directory of other files.
        started["spare"].exec(
            "useradd --create-home --shell /bin/bash deploy && install -d -m 700 -o deploy "
            "/home/deploy/.ssh && cp /root/.ssh/authorized_keys /home/deploy/.ssh/ && "
            "chown deploy /home/deploy/.ssh/authorized_keys && "
            "mkdir -p /srv/shared && echo mine > /srv/shared/notes.txt && "
            # Twenty inventory hosts connect to this one at once: beyond sshd's default
            # MaxStartups (10:30:100) it drops connections at random.
            "echo 'MaxStartups 100' > /etc/ssh/sshd_config.d/many.conf && systemctl restart ssh"
        )
        yield started


def write_inventory(path, hosts, key, other_key, known_hosts, images, refused: int) -> None:
    common = {
        "ssh_key": str(key),
        "ssh_known_hosts_file": str(known_hosts),
        "ssh_strict_host_key_checking": "accept-new",
        **images,
    }
    spare = hosts["spare"].ssh_port

    def at(port: int, **data) -> dict:
        return {**common, "ssh_hostname": "127.0.0.1", "ssh_port": port, **data}

    inventory = [
        ("healthy", at(hosts["healthy"].ssh_port)),
        ("bad-type", at(spare, prisma_port="4466x")),
        ("bad-port", at(spare, prisma_port=70000)),
        ("port-clash", at(spare, prisma_db_debug_port=4466)),
        ("bad-image", at(spare, prisma_image="Prisma Server:1.0")),
        ("unknown-key", at(spare, prisma_prot=4466)),
        ("no-sudo", at(spare, ssh_user="deploy", _sudo=True)),
        ("wrong-key", at(spare, ssh_key=str(other_key))),
        ("unreachable", at(refused)),
        ("old-debian", at(hosts["bookworm"].ssh_port)),
        ("system-dir", at(spare, prisma_stack_dir="/etc")),
        ("dotdot-dir", at(spare, prisma_stack_dir="/opt/../etc")),
        ("foreign-dir", at(spare, prisma_stack_dir="/srv/shared")),
        ("zone-id", at(spare, prisma_bind_address='fe80::1%eth0"\n    privileged: true')),
        ("daemon-tcp", at(spare, docker_daemon_options={"hosts": ["tcp://0.0.0.0:2375"]})),
        ("daemon-iptables", at(spare, docker_daemon_options={"iptables": False})),
        ("absurd-heap", at(spare, prisma_java_heap="999999G")),
        ("heap-over-memory", at(spare, prisma_java_heap="1000g")),
        ("short-secret", at(spare, prisma_schema_manager_secret="short")),
        ("example-password", at(spare, prisma_db_password="graphcool")),
        ("stored-example", at(spare)),
    ]
    path.write_text(f"hosts = {inventory!r}\n")


EXPECTED = {
    "bad-type": "setting 'prisma_port' must be an integer from 1 to 65535, got '4466x' (str)",
    "bad-port": "setting 'prisma_port' must be an integer from 1 to 65535, got 70000",
    "port-clash": "settings 'prisma_db_debug_port' and 'prisma_port' must differ",
    "bad-image": "setting 'prisma_image' must be a Docker image reference",
    "unknown-key": "unknown setting 'prisma_prot'; did you mean 'prisma_port'?",
    "no-sudo": "deploy cannot run sudo without a password",
    "wrong-key": "Authentication error",
    "unreachable": "Could not connect",
    "old-debian": "debian 12 (bookworm) has no Compose v2 package of its own",
    "system-dir": "setting 'prisma_stack_dir' must be a normalised absolute path",
    "dotdot-dir": "setting 'prisma_stack_dir' must be a normalised absolute path",
    "foreign-dir": "setting 'prisma_stack_dir' is /srv/shared, which holds files that are not",
    "zone-id": "setting 'prisma_bind_address' must be an IPv4 or IPv6 address without a zone",
    "daemon-tcp": "setting 'docker_daemon_options' must be a mapping without the key 'hosts'",
    "daemon-iptables": "must be a mapping without the key 'iptables'",
    "absurd-heap": "setting 'prisma_java_heap' must be a Java heap size from 64m to 1024g",
    "heap-over-memory": "setting 'prisma_java_heap' is 1000g",
    "short-secret": "setting 'prisma_schema_manager_secret' must be at least 16 characters",
    "example-password": "setting 'prisma_db_password' must be a secret of your own",
    "stored-example": "secret store file",
}
# Secrets kept in the local store before the run, which the checks must refuse.
STORED = {"stored-example": {"db_password": "graphcool\n"}}


def test_bad_hosts_fail_clearly_and_the_healthy_one_converges(
    hosts, ssh_key, stand_in_images, tmp_path
):
    other_key = tmp_path / "other_key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other_key)], check=True
    )
    images = stack_data(hosts["healthy"], stand_in_images)
    inventory = tmp_path / "inventory.py"
    for host, files in STORED.items():
        (tmp_path / "secrets" / host).mkdir(parents=True)
        for name, value in files.items():
            (tmp_path / "secrets" / host / name).write_text(value)

    with harness.refused_port() as refused:
        known_hosts = tmp_path / "known_hosts"
        write_inventory(inventory, hosts, ssh_key[0], other_key, known_hosts, images, refused)
        result = harness.run_pyinfra(
            str(inventory),
            "deploy.py",
            {"PRISMA_SECRETS_DIR": str(tmp_path / "secrets")},
            flags=("-y",),
        )

    assert result.returncode == 1, result.output
    for host, message in EXPECTED.items():
        assert message in result.output, host
        kept = set(STORED.get(host, {}))
        generated = (tmp_path / "secrets" / host).glob("*")
        assert {path.name for path in generated} == kept, host  # no secret was generated
    with urllib.request.urlopen(hosts["healthy"].url(4466, "/status"), timeout=10) as answer:
        assert answer.read() == b"OK"
    # Nothing changed on the hosts that were refused.
    for name in ("spare", "bookworm"):
        untouched = hosts[name].exec(
            "test ! -e /opt/prisma && test ! -e /etc/docker && ! command -v docker "
            '&& [ "$(stat -c %a /etc)" = 755 ] && [ "$(ls /srv/shared)" = notes.txt ]'
            if name == "spare"
            else "test ! -e /opt/prisma && test ! -e /etc/docker && ! command -v docker",
            check=False,
        )
        assert untouched.returncode == 0, name


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PRISMA_SCHEMA_MANAGER_SECRET", "tooshort7", "must be at least 16 characters"),
        ("PRISMA_DB_PASSWORD", "MUCHSECRET", "must be a secret of your own"),
        ("PRISMA_CLUSTER_PUBLIC_KEY", "not-a-key", "must be a PEM public key"),
    ],
)
def test_secrets_from_the_environment_get_the_same_checks(
    hosts, ssh_key, tmp_path, variable, value, expected
):
    environment = {
        "PRISMA_HOSTS": hosts["spare"].address,
        "PRISMA_SSH_KEY": str(ssh_key[0]),
        "PRISMA_SECRETS_DIR": str(tmp_path / "secrets"),
        variable: value,
    }
    result = harness.run_pyinfra("inventories/do.py", "deploy.py", environment, flags=("-y",))
    assert result.returncode != 0
    assert f"environment variable {variable}" in result.output and expected in result.output
    assert value not in result.output.replace(expected, "")
    # Every host refused: the run ends with a summary, not an error pointing at our code.
    summary = result.output.rstrip().splitlines()[-2:]
    assert summary[0] == "--> 1 of 1 hosts failed:", result.output
    assert summary[1].startswith(f"    {hosts['spare'].address}: refused: ")
    assert "No hosts remaining" not in result.output and "tasks/" not in result.output
    untouched = hosts["spare"].exec("test ! -e /opt/prisma && ! command -v docker", check=False)
    assert untouched.returncode == 0


def test_a_changed_host_key_stops_the_run(hosts, ssh_key, tmp_path):
    host = hosts["spare"]
    environment = {
        "PRISMA_HOSTS": host.address,
        "PRISMA_SSH_KEY": str(ssh_key[0]),
        "PRISMA_SECRETS_DIR": str(tmp_path / "secrets"),
    }
    first = harness.run_pyinfra("inventories/do.py", "deploy.py", environment, flags=("--dry",))
    assert first.returncode == 0, first.output
    assert host.address.split(":")[1] in (tmp_path / "secrets" / "known_hosts").read_text()

    host.exec("rm /etc/ssh/ssh_host_* && ssh-keygen -A >/dev/null && systemctl restart ssh")
    second = harness.run_pyinfra("inventories/do.py", "deploy.py", environment, flags=("--dry",))

    assert second.returncode != 0
    assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in second.output
    assert "Host key for 127.0.0.1 does not match" in second.output
