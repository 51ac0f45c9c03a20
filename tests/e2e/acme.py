"""
A real ACME server beside a test host: Debian's pebble (Let's Encrypt's test server)
with pebble-challtestsrv as the DNS server it validates through (every name resolves to
127.0.0.1, which in the host's network namespace is the host itself), started like the
registry in the host's network namespace. The HTTPS proxy is a stand-in for caddy:2
built from Debian's caddy package (the same program).
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from pathlib import Path

from tests.e2e import harness
from tests.e2e.harness import LABEL, OWNER_LABEL, TestHost, docker

PEBBLE_IMAGE = "prisma-e2e/pebble:trixie"
CADDY_IMAGE = "prisma-e2e/caddy:2"
ACME_PORT = 14000


@dataclass(frozen=True)
class HttpsImages:
    """The local tags of the ACME server's and the proxy's images, as build_image()
    names them (with the fingerprint of their build)."""

    pebble: str
    caddy: str


@functools.cache
def build_https_images() -> HttpsImages:
    """Built once per run; the tags build_image() gave them. (The bare tags above name no
    image: a machine that had them from an older harness hid that the tests used them.)"""
    return HttpsImages(
        harness.build_image("pebble", PEBBLE_IMAGE), harness.build_image("caddy", CADDY_IMAGE)
    )


@dataclass(frozen=True)
class Pebble:
    container: str
    host_address: str  # the test host's own address, where the host's containers reach it

    @property
    def directory_url(self) -> str:
        return f"https://{self.host_address}:{ACME_PORT}/dir"

    def exec(self, command: str) -> str:
        return docker("exec", self.container, "sh", "-c", command).stdout

    def orders(self) -> int:
        """New orders Pebble has accepted so far (each logged once)."""
        logs = docker("logs", self.container).stdout + docker("logs", self.container).stderr
        return sum("POST /order-plz ->" in line for line in logs.splitlines())

    def trust_bundle(self, directory: Path) -> Path:
        """The roots a client needs: the CA of Pebble's own HTTPS listener, and the root
        Pebble issues certificates under (made at its start)."""
        listener = self.exec("cat /pebble/listener-ca.pem")
        issuing = self.exec(
            "curl --silent --fail --cacert /pebble/listener-ca.pem https://127.0.0.1:15000/roots/0"
        )
        bundle = directory / "pebble-roots.pem"
        bundle.write_text(listener + issuing)
        return bundle


def host_address(host: TestHost) -> str:
    """The test host's own (non-Docker) IPv4 address, as the host itself sees it."""
    return host.exec(
        "ip -o -4 addr show scope global | awk '$2 !~ /^(docker|br-|veth)/ "
        '{sub("/.*", "", $4); print $4; exit}\''
    ).stdout.strip()


def start_pebble(host: TestHost) -> Pebble:
    name = f"{host.name}-pebble"
    docker("rm", "-f", name, check=False)
    docker(
        "run",
        "-d",
        "--name",
        name,
        "--label",
        f"{LABEL}=1",
        "--label",
        f"{OWNER_LABEL}={os.getpid()}",
        "--network",
        f"container:{host.name}",
        build_https_images().pebble,
    )
    pebble = Pebble(name, host_address(host))
    deadline = time.monotonic() + 60
    while "Listening on" not in docker("logs", name).stdout + docker("logs", name).stderr:
        if time.monotonic() > deadline:
            raise harness.HarnessError(f"{name} did not start: {docker('logs', name).stderr}")
        time.sleep(0.5)
    return pebble


def remove_pebble(pebble: Pebble) -> None:
    docker("rm", "-f", pebble.container, check=False)
