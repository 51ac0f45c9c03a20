"""
Faults on a real host, each followed by a normal deploy that must converge with the data
intact: deploys killed mid-run, dockerd stopped, a container removed, the host
restarted, files edited by hand, apt held by another process.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
import urllib.request
import uuid

import pytest

from tests.e2e.conftest import own_deployer

pytestmark = pytest.mark.e2e

# Hold apt's lock the way unattended-upgrades does (an fcntl write lock), from perl,
# which every Debian host has.
HOLD_APT_LOCK = r"""perl -MFcntl -e 'open(my $h, ">>", "/var/lib/dpkg/lock-frontend") or die;
my $lock = pack("s s x4 q q i x4", F_WRLCK, 0, 0, 0, 0);
fcntl($h, F_SETLKW, $lock) or die; sleep($ARGV[0])'"""


def answers(host, seconds: float = 90) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(host.url(4466, "/status"), timeout=5) as response:
                if response.read() == b"OK":
                    return True
        except OSError:
            pass
        time.sleep(1)
    return False


def kept_rows(deployer) -> str:
    return deployer.mysql("SELECT COUNT(*) FROM graphcool.Kept;").strip()


def converges(deployer) -> None:
    """A normal deploy converges, and one more run changes nothing."""
    result = deployer.run()
    assert result.returncode == 0, result.output
    assert answers(deployer.host)
    again = deployer.run()
    assert again.returncode == 0, again.output
    assert again.total_changes == 0, again.changed_operations


def killed_after(deployer, seconds: float, after: str = "", **data) -> str:
    """Start a deploy and kill it (SIGKILL, as a lost laptop would) `seconds` after it
    started, or after it printed `after`. Asserts the kill happened (not a run that
    ended by itself); returns the last operation the run had started."""
    output = deployer.secrets_dir.parent / f"killed-{uuid.uuid4().hex[:8]}.log"
    process = deployer.start(output=output, **data)
    if after:
        _wait_for_output(process, output, after)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL, (
        f"the run ended by itself ({process.returncode}) before the kill at {seconds}s"
        + (f" after {after!r}" if after else "")
    )
    started = re.findall(r"--> Starting operation: (.+)", _plain(output))
    return started[-1].strip() if started else "(no operation yet: preparing)"


def _plain(output) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", output.read_text())


def _wait_for_output(process: subprocess.Popen, output, text: str, seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while text not in _plain(output):
        assert process.poll() is None, f"the run ended ({process.returncode}) before {text!r}"
        assert time.monotonic() < deadline, f"no {text!r} after {seconds}s"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def faulty(stand_in_images, ssh_key, tmp_path_factory):
    with own_deployer(stand_in_images, ssh_key, tmp_path_factory) as deployer:
        yield deployer


def test_first_deploys_killed_at_several_points_then_one_converges(faulty):
    # Each killed run leaves less for the next to do: later runs are killed sooner, so
    # every kill lands before the run could finish, on a quiet machine too.
    reached = [killed_after(faulty, seconds) for seconds in (10, 6, 4, 3)]
    # Killed in different places of the install, not all at one point.
    assert len(set(reached)) >= 2, reached
    assert any(step.startswith("Install Docker") for step in reached), reached
    converges(faulty)
    faulty.mysql(
        "CREATE TABLE graphcool.Kept (id INT PRIMARY KEY); INSERT INTO graphcool.Kept VALUES (1);"
    )


def test_a_deploy_killed_while_recreating_a_service(faulty):
    # Killed while `compose up` recreates the server, early and later: timed from the
    # converge's start, since how long the run takes to get there varies.
    converge = "Starting operation: Deploy the Prisma stack | Converge the stack"
    for seconds in (0.3, 1):
        # asserts the kill happened
        killed_after(faulty, seconds, after=converge, prisma_java_heap="384m")
    faulty.data["prisma_java_heap"] = "384m"
    converges(faulty)
    assert kept_rows(faulty) == "1"


def test_dockerd_stopped(faulty):
    faulty.host.exec("systemctl stop docker.socket docker.service")
    converges(faulty)
    assert kept_rows(faulty) == "1"


def test_a_removed_service_container(faulty):
    faulty.host.exec("docker rm -f prisma-prisma-database-1")
    converges(faulty)
    assert kept_rows(faulty) == "1"


def test_the_host_restarted(faulty):
    faulty.host.restart()
    assert answers(faulty.host), "the stack did not come back by itself"
    converges(faulty)
    assert kept_rows(faulty) == "1"


@pytest.mark.parametrize("path", ["/opt/prisma/.env", "/opt/prisma/docker-compose.yml"])
def test_a_file_edited_by_hand_is_restored_and_the_user_told(faulty, path):
    before = faulty.host.exec(f"sha256sum {path}").stdout
    faulty.host.exec(f"echo '# edited by hand' >> {path}")

    result = faulty.run(flags=("-y",))

    assert result.returncode == 0, result.output
    assert f"{path} was changed on the host since the last deploy" in result.output
    assert faulty.host.exec(f"sha256sum {path}").stdout == before
    assert faulty.run().total_changes == 0
    assert kept_rows(faulty) == "1"


def test_apt_held_by_another_process_is_waited_for_then_named(faulty):
    holder = subprocess.Popen(
        ["docker", "exec", faulty.host.name, "bash", "-c", f"{HOLD_APT_LOCK} 60"]
    )
    try:
        time.sleep(2)
        # A change that needs the package step (daemon.json) while apt stays busy.
        started = time.monotonic()
        refused = faulty.run(flags=("-y",), docker_log_max_file=4, docker_apt_lock_timeout=5)
        reached_apt_within = time.monotonic() - started - 5
        assert refused.returncode != 0
        assert "apt is still busy after 5s (docker_apt_lock_timeout)" in refused.output
        assert "/var/lib/dpkg/lock-frontend held by process" in refused.output
        assert "(perl)" in refused.output
    finally:
        holder.kill()
        faulty.host.exec("pkill -f F_SETLKW", check=False)

    # Held for a while only: the deploy waits, then goes on. The lock is held longer
    # than the run takes to reach apt (the refusal above took less than that), so a
    # daemon.json written after the release proves the run waited for it.
    assert reached_apt_within < 14, "the run needs longer than the lock is held below"
    released = "/root/apt-released"
    faulty.host.exec(f"rm -f {released}")
    waiter = subprocess.Popen(
        [
            "docker", "exec", faulty.host.name, "bash", "-c",
            f"{HOLD_APT_LOCK} 15; date +%s > {released}",
        ]
    )  # fmt: skip
    time.sleep(1)
    faulty.data["docker_log_max_file"] = 4
    waited = faulty.run(flags=("-y",))
    waiter.wait(timeout=60)
    assert waited.returncode == 0, waited.output
    release = int(faulty.host.exec(f"cat {released}").stdout)
    written = int(faulty.host.exec("stat -c %Y /etc/docker/daemon.json").stdout)
    assert written >= release, "daemon.json was written while apt was still held"
    converges(faulty)
    assert kept_rows(faulty) == "1"
