"""
The droplet firewall end to end: a port published by a container but not allowed is
refused from outside the host, the Prisma port answers, SSH keeps working, and the
rules survive a Docker restart and a reboot.
"""

from __future__ import annotations

import socket
import time
import urllib.request

import pytest

from tests.e2e.conftest import own_deployer

pytestmark = pytest.mark.e2e

OTHER_PORT = 3307  # a port some other container publishes on the host
SECOND_SSH_PORT = 2222  # sshd also listens here, through a ListenAddress line


def greeting(port: int) -> bytes:
    """What a client connecting to 127.0.0.1:port gets first (MySQL greets at once)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
            connection.settimeout(5)
            return connection.recv(64)
    except OSError:
        return b""


def greets_inside(host, port_in_host: int) -> bool:
    """From inside the host (loopback, which the firewall lets through): the port
    listens and greets. Shown before a refusal from outside is taken as the firewall's."""
    probe = host.exec(
        f"timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port_in_host}; head -c 4 <&3 | wc -c'",
        check=False,
    )
    return probe.returncode == 0 and probe.stdout.strip() not in ("", "0")


def refused_outside(host, port_in_host: int) -> bool:
    """The port listens on the host, and a client outside gets nothing."""
    assert greets_inside(host, port_in_host), f"nothing listens on {port_in_host} in the host"
    return greeting(host.published[port_in_host]) == b""


def wait_for_greeting(port: int, present: bool, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if bool(greeting(port)) == present:
            return True
        time.sleep(1)
    return False


def status(host, attempts: int = 60) -> str:
    for _attempt in range(attempts):
        try:
            with urllib.request.urlopen(host.url(4466, "/status"), timeout=5) as response:
                return response.read().decode()
        except OSError:
            time.sleep(1)
    return "unreachable"


@pytest.fixture(scope="module")
def guarded(stand_in_images, ssh_key, tmp_path_factory):
    published = (4466, 3306, 3366, OTHER_PORT, SECOND_SSH_PORT)
    with own_deployer(stand_in_images, ssh_key, tmp_path_factory, publish=published) as deployer:
        # sshd -T prints these as `listenaddress` lines; its `port` line stays 22.
        deployer.host.exec(
            "printf 'ListenAddress 0.0.0.0:22\\nListenAddress 0.0.0.0:%s\\n' "
            f"{SECOND_SSH_PORT} > /etc/ssh/sshd_config.d/second-port.conf "
            "&& systemctl restart ssh"
        )
        yield deployer


def ssh_banner(port: int) -> bytes:
    return greeting(port)[:4]


def test_without_the_firewall_another_published_port_is_reachable(guarded):
    result = guarded.run(prisma_firewall=False)
    assert result.returncode == 0, result.output
    guarded.host.exec(
        "docker run -d --name other --restart always -p 3307:3306 -e MYSQL_ROOT_PASSWORD=x "
        f"{guarded.data['prisma_db_image']}"
    )
    assert wait_for_greeting(guarded.host.published[OTHER_PORT], present=True)


def test_the_firewall_lets_in_only_ssh_and_prisma(guarded):
    result = guarded.run()  # inventories/do.py turns the firewall on
    assert result.returncode == 0, result.output
    assert "Configure the firewall | Apply the firewall now and at every boot" in (
        result.changed_operations
    )

    assert refused_outside(guarded.host, OTHER_PORT)
    assert status(guarded.host) == "OK"
    # Every port sshd listens on is let in, those of ListenAddress lines too.
    assert ssh_banner(guarded.host.published[SECOND_SSH_PORT]) == b"SSH-"
    # SSH still works: the next run connects and has nothing to do.
    again = guarded.run()
    assert again.returncode == 0, again.output
    assert again.total_changes == 0
    rules = guarded.host.exec("iptables -S PRISMA-INPUT").stdout.splitlines()
    ssh_rule = rules.index("-A PRISMA-INPUT -p tcp -m tcp --dport 22 -j RETURN")
    assert ssh_rule < rules.index("-A PRISMA-INPUT -p tcp -j REJECT --reject-with tcp-reset")


def test_rules_survive_a_docker_restart_and_a_reboot(guarded):
    guarded.host.exec("systemctl restart docker")
    assert status(guarded.host) == "OK"
    assert wait_for_greeting(guarded.host.published[OTHER_PORT], present=False, seconds=5)
    assert refused_outside(guarded.host, OTHER_PORT)

    guarded.host.restart()
    assert status(guarded.host) == "OK"  # the stack came back by itself
    assert guarded.host.exec("docker ps -q --filter name=other").stdout.strip()  # running
    assert refused_outside(guarded.host, OTHER_PORT)
    after_reboot = guarded.run()
    assert after_reboot.returncode == 0, after_reboot.output
    assert after_reboot.total_changes == 0


def test_rules_flushed_by_hand_are_put_back(guarded):
    guarded.host.exec("iptables -D DOCKER-USER -j PRISMA-DOCKER")
    assert wait_for_greeting(guarded.host.published[OTHER_PORT], present=True)
    result = guarded.run()
    assert result.returncode == 0, result.output
    assert refused_outside(guarded.host, OTHER_PORT)


TAMPERINGS = {
    "a flushed chain": "iptables -F PRISMA-INPUT",
    "a deleted REJECT": "iptables -D PRISMA-DOCKER -p tcp -j REJECT --reject-with tcp-reset",
    "an IPv6 change": "ip6tables -D PRISMA-INPUT -j DROP",
}


@pytest.mark.parametrize("tampering", sorted(TAMPERINGS))
def test_every_change_to_the_rules_is_seen_and_repaired(guarded, tampering):
    check = "/usr/local/sbin/prisma-firewall check"
    assert guarded.host.exec(check, check=False).returncode == 0
    guarded.host.exec(TAMPERINGS[tampering])
    assert guarded.host.exec(check, check=False).returncode != 0  # the tampering took
    result = guarded.run()
    assert result.returncode == 0, result.output
    assert "Configure the firewall | Re-apply the firewall rules" in result.changed_operations
    assert guarded.host.exec(check, check=False).returncode == 0
    assert refused_outside(guarded.host, OTHER_PORT)
    assert guarded.run().total_changes == 0


def test_docker_does_not_start_without_the_firewall(guarded):
    """Fail closed: after a boot in which the rules cannot be applied, Docker, and so every
    published port, stays down; once they can, it comes back. (A restart of Docker alone
    would not show it: with live-restore the containers, and the rules in force, stay.)"""
    assert status(guarded.host) == "OK"
    guarded.host.exec("chmod -x /usr/local/sbin/prisma-firewall")
    try:
        guarded.host.restart()
        docker = guarded.host.exec("systemctl is-active docker", check=False).stdout.strip()
        assert docker != "active"
        assert status(guarded.host, attempts=5) == "unreachable"
    finally:
        guarded.host.exec("chmod +x /usr/local/sbin/prisma-firewall")
    guarded.host.exec("systemctl reset-failed; systemctl start docker")
    assert status(guarded.host) == "OK"
    assert guarded.run().returncode == 0  # the firewall unit failed at boot: started again
    assert guarded.run().total_changes == 0


def test_turning_the_firewall_off_removes_it(guarded):
    result = guarded.run(prisma_firewall=False)
    assert result.returncode == 0, result.output
    assert wait_for_greeting(guarded.host.published[OTHER_PORT], present=True)
    assert guarded.host.exec("iptables -S PRISMA-INPUT", check=False).returncode != 0
    assert guarded.run(prisma_firewall=False).total_changes == 0
    # Docker starts again without the firewall's rules.
    guarded.host.exec("systemctl restart docker")
    assert status(guarded.host) == "OK"
