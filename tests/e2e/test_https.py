"""
HTTPS in front of Prisma end to end, against a real ACME server: Pebble (Let's
Encrypt's test server) beside the test host, the proxy a stand-in of caddy:2 built from
Debian's caddy. The test domains resolve to the host inside the test (/etc/hosts on the
host; Pebble's DNS answers 127.0.0.1, the host itself in its network namespace). The
tests share one host and run in order. Every request from here goes to ports published
on 127.0.0.1, with the domain as TLS server name and Host.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import ssl
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.acme import Pebble, build_https_images, remove_pebble, start_pebble
from tests.e2e.conftest import Deployer, own_deployer
from tests.e2e.harness import docker

pytestmark = pytest.mark.e2e

DOMAIN = "prisma.test"
NEXT_DOMAIN = "next.prisma.test"
ELSEWHERE = "elsewhere.prisma.test"  # resolves, on the host, to an address not its own
ELSEWHERE_ADDRESS = "192.0.2.10"
NOBODY = "198.51.100.0/24"  # admin sources that match no request of this test


@dataclass
class Site:
    deployer: Deployer
    pebble: Pebble
    bundle: Path  # Pebble's listener CA and its issuing root

    def https(self, path: str, name: str = DOMAIN, **options) -> Answer:
        return https_request(self.deployer.host.published[443], name, path, self.bundle, **options)

    def proxy_id(self) -> str:
        return self.deployer.container_id("prisma-proxy")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    certificate: dict


def _parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def https_request(
    port: int, name: str, path: str, bundle: Path | None, method: str = "GET", extra: str = ""
) -> Answer:
    """One HTTP/1.1 request over TLS verified for `name` against bundle (None: the
    system's roots): the same checks a client of https://<name> makes."""
    context = ssl.create_default_context(cafile=str(bundle) if bundle else None)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=name) as tls,
    ):
        request = f"{method} {path} HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n{extra}\r\n"
        tls.sendall(request.encode())
        received = b""
        while chunk := tls.recv(65536):
            received += chunk
        status, headers, body = _parse(received)
        return Answer(status, headers, body, tls.getpeercert())


def eventually(check, seconds: float = 60):
    """check()'s value once it returns without raising (the last error after seconds)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return check()
        except (OSError, AssertionError, ValueError):
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def issuer(answer: Answer) -> str:
    return " ".join(value for part in answer.certificate["issuer"] for _, value in part)


@pytest.fixture(scope="module")
def site(stand_in_images, ssh_key, tmp_path_factory):
    images = build_https_images()
    published = (80, 443, 4466)
    with own_deployer(stand_in_images, ssh_key, tmp_path_factory, publish=published) as deployer:
        pebble = start_pebble(deployer.host)
        try:
            deployer.host.exec(
                f"printf '%s {DOMAIN} {NEXT_DOMAIN}\\n%s {ELSEWHERE}\\n' "
                f"{pebble.host_address} {ELSEWHERE_ADDRESS} >> /etc/hosts"
            )
            bundle = pebble.trust_bundle(tmp_path_factory.mktemp("acme"))
            deployer.data.update(
                prisma_domain=DOMAIN,
                prisma_acme_email="ops@prisma.test",
                prisma_acme_ca=pebble.directory_url,
                prisma_acme_ca_root=str(bundle),
                prisma_proxy_image=deployer.host.push(images.caddy, "caddy:2"),
                prisma_admin_sources=[NOBODY],
                prisma_firewall=True,
            )
            yield Site(deployer, pebble, bundle)
        finally:
            remove_pebble(pebble)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("prisma_domain", "prisma_test.example"),
        ("prisma_acme_email", "ops.prisma.test"),
        ("prisma_acme_ca", "http://acme.example/dir"),
        ("prisma_admin_sources", ["10.0.0.0/33"]),
    ],
)
def test_bad_settings_are_refused_before_the_host_changes(site, setting, value):
    refused = site.deployer.run(flags=("-y",), **{setting: value})
    assert refused.returncode != 0
    assert f"setting '{setting}' must be" in refused.output
    assert site.deployer.host.exec("test -e /opt/prisma", check=False).returncode == 1


def test_a_domain_pointing_elsewhere_is_refused_before_any_order(site):
    refused = site.deployer.run(flags=("-y",), prisma_domain=ELSEWHERE)
    assert refused.returncode != 0
    assert f"resolves to {ELSEWHERE_ADDRESS}" in refused.output
    assert site.pebble.host_address in refused.output  # the address expected
    assert site.pebble.orders() == 0
    assert site.deployer.host.exec("test -e /opt/prisma", check=False).returncode == 1


@pytest.fixture(scope="module")
def first_https(site):
    result = site.deployer.run()
    assert result.returncode == 0, result.output
    return result


def test_a_certificate_from_pebble_is_served_for_the_domain(site, first_https):
    answer = site.https("/status")
    assert (answer.status, answer.body) == (200, b"OK")
    assert "Pebble" in issuer(answer)
    assert answer.headers["strict-transport-security"] == "max-age=31536000"
    assert site.pebble.orders() == 1
    # Positive control: the same request trusting only the system's roots is refused.
    with pytest.raises(ssl.SSLCertVerificationError):
        https_request(site.deployer.host.published[443], DOMAIN, "/status", None)


def test_plain_http_redirects_to_https(site, first_https):
    port = site.deployer.host.published[80]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(
            f"GET /status HTTP/1.1\r\nHost: {DOMAIN}\r\nConnection: close\r\n\r\n".encode()
        )
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    status, headers, _ = _parse(received)
    assert status in (301, 308)
    assert headers["location"] == f"https://{DOMAIN}/status"


def test_the_prisma_port_is_refused_from_outside(site, first_https):
    host = site.deployer.host
    assert host.exec(
        "docker port $(docker ps -q --filter label=com.docker.compose.service=prisma-database)"
    ).stdout.split() == ["4466/tcp", "->", "127.0.0.1:4466"]
    with (
        pytest.raises(OSError),
        socket.create_connection(("127.0.0.1", host.published[4466]), timeout=5) as connection,
    ):
        connection.sendall(b"GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
        if not connection.recv(64):
            raise ConnectionResetError("closed without an answer")
    # Positive control: the host's own checks still reach it on loopback.
    assert host.exec("curl -s http://127.0.0.1:4466/status").stdout == "OK"


def test_the_firewall_lets_in_80_and_443_and_not_the_prisma_port(site, first_https):
    host = site.deployer.host
    assert 'PRISMA_PORTS="80 443"' in host.exec("cat /etc/default/prisma-firewall").stdout
    rules = host.exec("iptables -S PRISMA-INPUT; iptables -S PRISMA-DOCKER").stdout
    assert "--dport 443 -j RETURN" in rules and "--ctorigdstport 443 -j RETURN" in rules
    assert "--dport 80 -j RETURN" in rules
    assert "4466" not in rules
    assert host.exec("/usr/local/sbin/prisma-firewall check", check=False).returncode == 0


def test_management_paths_are_refused_outside_the_admin_sources(site, first_https):
    for method, path in (
        ("GET", "/cluster"),
        ("GET", "/cluster/schema/x"),
        ("POST", "/svc/dev/private"),
        ("POST", "/svc/dev/export"),
    ):
        assert site.https(path, method=method, extra="Content-Length: 0\r\n").status == 403, path
    assert site.https("/version").status == 200  # the rest is proxied


def test_a_websocket_upgrade_passes_through(site, first_https):
    key = base64.b64encode(b"sixteen byte key").decode()
    context = ssl.create_default_context(cafile=str(site.bundle))
    port = site.deployer.host.published[443]
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=DOMAIN) as tls,
    ):
        tls.sendall(
            (
                f"GET /svc/dev HTTP/1.1\r\nHost: {DOMAIN}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-ws\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += tls.recv(1)
        status, headers, _ = _parse(head)
        assert status == 101, head
        frame = (
            b"\x81\x85"
            + b"\x01\x02\x03\x04"
            + bytes(c ^ m for c, m in zip(b"hello", b"\x01\x02\x03\x04\x01", strict=True))
        )
        tls.sendall(frame)
        echoed = b""
        while len(echoed) < len(frame):
            echoed += tls.recv(64)
    expected = base64.b64encode(
        hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    ).decode()
    assert status == 101
    assert headers["sec-websocket-accept"] == expected
    assert echoed == frame


def test_second_run_changes_nothing(site, first_https):
    again = site.deployer.run()
    assert again.returncode == 0, again.output
    assert again.total_changes == 0, again.changed_operations


def test_admin_sources_are_applied_by_a_reload_without_a_new_container(site, first_https):
    host = site.deployer.host
    proxy = site.proxy_id()
    gateway = docker(
        "inspect", "--format", "{{range .NetworkSettings.Networks}}{{.Gateway}}{{end}}", host.name
    ).stdout.strip()
    result = site.deployer.run(prisma_admin_sources=[f"{gateway}/32"])
    assert result.returncode == 0, result.output
    assert "Apply the proxy's configuration" in " ".join(result.changed_operations)
    assert site.proxy_id() == proxy
    site.deployer.data["prisma_admin_sources"] = [f"{gateway}/32"]
    # From here (an admin source), the server itself answers: the double wants its secret.
    assert eventually(lambda: site.https("/cluster/schema/x")).status == 401
    # From the host itself (another source), the proxy still refuses.
    inside = host.exec(
        f"curl -s -o /dev/null -w '%{{http_code}}' --cacert /opt/prisma/proxy/acme-ca-root.pem "
        f"--resolve {DOMAIN}:443:127.0.0.1 https://{DOMAIN}/cluster/schema/x"
    ).stdout
    assert inside == "403"
    assert site.pebble.orders() == 1


def test_a_restart_of_the_stack_orders_no_new_certificate(site, first_https):
    for verb in ("stop.py", "start.py"):
        result = site.deployer.run(verb)
        assert result.returncode == 0, result.output
    assert eventually(lambda: site.https("/status")).body == b"OK"
    assert site.pebble.orders() == 1


def test_nuke_empties_the_database_and_keeps_the_certificates(site, first_https):
    host = site.deployer.host

    def created(volume: str) -> str:
        return host.exec(f"docker volume inspect --format '{{{{.CreatedAt}}}}' {volume}").stdout

    database, certificates = created("prisma_db-persistence"), created("prisma_proxy-data")
    time.sleep(1)  # CreatedAt has a resolution of one second
    result = site.deployer.run("nuke.py", nuke_confirm=host.address, nuke_backup=False)
    assert result.returncode == 0, result.output
    assert created("prisma_db-persistence") != database  # made again: empty
    assert created("prisma_proxy-data") == certificates
    assert eventually(lambda: site.https("/status")).body == b"OK"
    assert site.pebble.orders() == 1


def test_status_shows_the_certificate(site, first_https):
    report = site.deployer.run("status.py", flags=("-y",), status_format="json")
    assert report.returncode == 0, report.output
    document = json.loads(next(line for line in report.stdout.splitlines() if line.startswith("{")))
    certificate = document["certificate"]
    assert certificate["domain"] == DOMAIN
    assert "Pebble" in certificate["issuer"]
    assert certificate["days_left"] > 30


def test_a_failed_acme_order_is_named_with_the_proxys_logs(site, first_https):
    unreachable_ca = site.pebble.directory_url.replace(":14000", ":14009")
    failed = site.deployer.run(
        flags=("-y",),
        prisma_domain=NEXT_DOMAIN,
        prisma_acme_ca=unreachable_ca,
        prisma_health_timeout=25,
    )
    assert failed.returncode != 0
    assert "failed: the ACME order" in failed.output
    assert "log lines of the proxy" in failed.output and "14009" in failed.output


def test_a_new_domain_gets_its_own_certificate(site, first_https):
    before = site.pebble.orders()
    result = site.deployer.run(prisma_domain=NEXT_DOMAIN)
    assert result.returncode == 0, result.output
    answer = site.https("/status", name=NEXT_DOMAIN)
    assert answer.body == b"OK" and "Pebble" in issuer(answer)
    assert site.pebble.orders() == before + 1


def test_no_secret_appears_in_any_output(site, first_https):
    deployer = site.deployer
    secrets = [
        deployer.secret("db_password"),
        deployer.secret("schema_manager_secret"),
        *deployer.secret("cluster_private_key.pem").splitlines()[1:-1],
    ]
    assert len(deployer.runs) >= 10
    for run in deployer.runs:
        for secret in secrets:
            assert secret.strip() not in run.output
