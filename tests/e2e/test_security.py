"""
Promises about secrets and data on a host deployed through sudo, end to end:
- no dump or secret is ever readable by other users while it moves (a watcher on the
  host records every file that appears under /tmp and the stack directory and tests it
  as an unprivileged user), shown able to see a readable file first;
- the database password check fails closed: with Docker stopped, and on a stack without
  a fingerprint, a different password is refused and nothing changes.
"""

from __future__ import annotations

import hashlib
import time

import pytest

from tests.e2e.conftest import own_deployer

pytestmark = pytest.mark.e2e

SUDO_USER = "deploy"
STACK = "/opt/prisma"
FINGERPRINT = f"{STACK}/.db-password-fingerprint"
OTHER_PASSWORD = "another-password-than-the-first"

# Every file created, moved or chmod-ed under /tmp and the stack directory, tested for
# reading by `nobody` the moment the event arrives; readable ones are written down.
WATCHER = """
inotifywait --monitor --recursive --quiet --event create,moved_to,attrib,close_write \
    --format '%w%f' /tmp /opt/prisma 2>/dev/null |
while read -r path; do
    [ -f "$path" ] && runuser -u nobody -- test -r "$path" && echo "$path" >> /root/readable
done
"""


@pytest.fixture(scope="module")
def through_sudo(stand_in_images, ssh_key, tmp_path_factory):
    with own_deployer(stand_in_images, ssh_key, tmp_path_factory) as deployer:
        deployer.host.exec(
            f"useradd --create-home --shell /bin/bash {SUDO_USER} && "
            f"echo '{SUDO_USER} ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/{SUDO_USER} && "
            f"install -d -m 700 -o {SUDO_USER} /home/{SUDO_USER}/.ssh && "
            f"install -m 600 -o {SUDO_USER} /root/.ssh/authorized_keys /home/{SUDO_USER}/.ssh/ && "
            "apt-get update -qq && apt-get install -y -qq inotify-tools >/dev/null",
            timeout=600,
        )
        deployer.backups_dir = tmp_path_factory.mktemp("backups")
        first = run(deployer)
        assert first.returncode == 0, first.output
        deployer.mysql(
            "CREATE TABLE graphcool.Kept (id INT PRIMARY KEY);"
            "INSERT INTO graphcool.Kept VALUES (1), (2);"
        )
        yield deployer


def run(deployer, deploy_file="deploy.py", flags=("-y", "--json"), environment=None, **data):
    env = {
        "PRISMA_SSH_USER": SUDO_USER,
        "PRISMA_BACKUP_DIR": str(deployer.backups_dir),
        **(environment or {}),
    }
    return deployer.run(deploy_file, flags=flags, environment=env, **data)


def digest(host, path: str) -> str:
    return host.exec(f"sha256sum {path} 2>/dev/null || echo missing").stdout.split()[0]


def test_dumps_and_secrets_are_never_readable_by_others_in_sudo_transfers(through_sudo):
    host = through_sudo.host
    host.exec("cat > /root/watch.sh", input=WATCHER)
    host.exec("rm -f /root/readable; nohup bash /root/watch.sh >/dev/null 2>&1 &")
    time.sleep(2)  # inotifywait sets up its watches
    # Positive control: the watcher sees a file that others can read.
    host.exec("install -m 644 /dev/null /tmp/canary && echo x > /tmp/canary")

    backup = run(through_sudo, "backup.py", flags=("-y",))
    assert backup.returncode == 0, backup.output
    dumps = sorted(through_sudo.backups_dir.glob(f"{host.address}/*.sql.gz"))
    assert dumps, backup.output
    restore = run(
        through_sudo,
        "restore.py",
        flags=("-y",),
        restore_file=str(dumps[-1]),
        restore_confirm=host.address,
    )
    assert restore.returncode == 0, restore.output
    # .env, a secret, uploaded through sudo: there and back.
    for environment in ({"PRISMA_SCHEMA_MANAGER_SECRET": "x" * 24}, {}):
        changed = run(through_sudo, environment=environment)
        assert changed.returncode == 0, changed.output
        assert changed.total_changes > 0
    time.sleep(1)
    host.exec("pkill inotifywait; rm -f /tmp/canary")

    readable = set(host.exec("cat /root/readable", check=False).stdout.split())
    assert "/tmp/canary" in readable  # the watcher works
    assert readable == {"/tmp/canary"}, readable
    assert run(through_sudo).total_changes == 0


def test_a_different_password_is_refused_while_docker_is_down(through_sudo):
    host = through_sudo.host
    env_before, fingerprint_before = digest(host, f"{STACK}/.env"), digest(host, FINGERPRINT)
    host.exec("systemctl stop docker.socket docker.service")
    try:
        refused = run(through_sudo, environment={"PRISMA_DB_PASSWORD": OTHER_PASSWORD})
    finally:
        host.exec("systemctl start docker")
    assert refused.returncode != 0
    assert "differs from the one the database was initialised with" in refused.output
    assert digest(host, f"{STACK}/.env") == env_before
    assert digest(host, FINGERPRINT) == fingerprint_before
    assert run(through_sudo).returncode == 0


def test_a_stack_without_a_fingerprint_gets_one_only_after_the_password_logs_in(through_sudo):
    host = through_sudo.host
    host.exec(f"rm {FINGERPRINT}")
    env_before = digest(host, f"{STACK}/.env")

    refused = run(through_sudo, environment={"PRISMA_DB_PASSWORD": OTHER_PASSWORD})
    assert refused.returncode != 0
    assert "could not be shown to log in to the running database" in refused.output
    assert digest(host, f"{STACK}/.env") == env_before
    assert host.exec(f"test -e {FINGERPRINT}", check=False).returncode != 0

    proven = run(through_sudo)
    assert proven.returncode == 0, proven.output
    assert host.exec(f"stat -c '%a %U' {FINGERPRINT}").stdout.split() == ["600", "root"]
    password = through_sudo.secret("db_password")
    assert password not in proven.output
    assert hashlib.sha256(password.encode()).hexdigest() not in proven.output
    assert run(through_sudo).total_changes == 0
