"""The proxy part: Caddy's JSON built as data, the domain check, the readings, the plan."""

from __future__ import annotations

import datetime
import json

import pytest
import yaml

from tasks.errors import HostRefused
from tasks.proxy import commands
from tasks.proxy.config import MANAGEMENT_PATH_PATTERN, files_digest, proxy_config, proxy_files
from tasks.proxy.decide import check_domain_points_here, domain_problem, proxy_problems
from tasks.proxy.facts import ProxyState, parse_proxy
from tasks.settings import SettingsError, load_settings
from tasks.stack.compose_file import render_compose_file
from tasks.stack.layout import StackPaths
from tests.e2e.do_api import write_self_signed_certificate

HTTPS = {"prisma_domain": "prisma.example.com", "prisma_acme_email": "ops@example.com"}


def settings(**data):
    return load_settings("h", {**HTTPS, **data})


def site_routes(config: dict) -> list[dict]:
    server = config["apps"]["http"]["servers"]["prisma"]
    return server["routes"][0]["handle"][0]["routes"]


def test_the_config_serves_only_the_domain_with_certificates_from_the_configured_ca():
    config = proxy_config(settings())
    server = config["apps"]["http"]["servers"]["prisma"]
    assert server["listen"] == [":443"]
    assert server["routes"][0]["match"] == [{"host": ["prisma.example.com"]}]
    (policy,) = config["apps"]["tls"]["automation"]["policies"]
    assert policy == {
        "subjects": ["prisma.example.com"],
        "issuers": [
            {
                "module": "acme",
                "ca": "https://acme-v02.api.letsencrypt.org/directory",
                "email": "ops@example.com",
            }
        ],
    }
    assert config["storage"] == {"module": "file_system", "root": "/data/caddy"}
    assert config["admin"] == {"listen": "localhost:2019"}


def test_management_paths_are_refused_except_to_the_admin_sources():
    hsts, refuse, upstream = site_routes(proxy_config(settings()))
    assert hsts["handle"][0]["response"]["set"] == {
        "Strict-Transport-Security": ["max-age=31536000"]
    }
    assert refuse["handle"][0]["status_code"] == 403
    assert refuse["match"][0] == {"path": ["/cluster", "/cluster/*"]}
    assert upstream["handle"][0]["upstreams"] == [{"dial": "prisma-database:4466"}]
    admins = site_routes(proxy_config(settings(prisma_admin_sources=["203.0.113.7"])))[1]
    assert all(
        matcher["not"] == [{"remote_ip": {"ranges": ["203.0.113.7/32"]}}]
        for matcher in admins["match"]
    )


@pytest.mark.parametrize(
    ("path", "management"),
    [
        ("/svc/dev/private", True),
        ("/svc/dev/import", True),
        ("/svc/dev/EXPORT", True),
        ("/ws/svc/dev/private", True),
        ("/svc/dev/import/extra", True),
        ("/svc/dev", False),
        ("/svc/private", False),
        ("/status", False),
    ],
)
def test_the_data_apis_management_endpoints_are_matched(path, management):
    import re

    assert bool(re.search(MANAGEMENT_PATH_PATTERN, path)) is management


def test_no_value_changes_the_documents_structure():
    # Past the checks (which would refuse it), a value still stays one JSON string.
    from dataclasses import replace

    hostile = '"}, "admin": {"listen": "0.0.0.0:2019"}, "x": {"'
    config = json.loads(json.dumps(proxy_config(replace(settings(), prisma_acme_email=hostile))))
    assert config["admin"] == {"listen": "localhost:2019"}
    issuer = config["apps"]["tls"]["automation"]["policies"][0]["issuers"][0]
    assert issuer["email"] == hostile


def test_a_private_ca_file_is_uploaded_and_trusted(tmp_path):
    ca, _key = write_self_signed_certificate(tmp_path)
    pem = ca.read_text()
    https = settings(
        prisma_acme_ca="https://ca.internal:9000/acme/dir", prisma_acme_ca_root=str(ca)
    )
    files = proxy_files(https)
    paths = StackPaths.of(https)
    assert files[paths.acme_ca_root_file] == pem
    issuer = proxy_config(https)["apps"]["tls"]["automation"]["policies"][0]["issuers"][0]
    assert issuer["trusted_roots_pem_files"] == ["/etc/prisma-proxy/acme-ca-root.pem"]
    assert proxy_files(load_settings("h", {})) == {}


def test_with_a_domain_prisma_is_published_on_loopback_and_the_proxy_on_80_and_443():
    compose = yaml.safe_load(render_compose_file(settings()))
    assert compose["services"]["prisma-database"]["ports"] == ["127.0.0.1:4466:4466"]
    proxy = compose["services"]["prisma-proxy"]
    assert proxy["ports"] == ["80:80", "443:443"]
    assert proxy["image"] == "caddy:2"
    assert "proxy-data:/data" in proxy["volumes"]
    assert "/opt/prisma/proxy:/etc/prisma-proxy:ro" in proxy["volumes"]
    assert {"proxy-data", "proxy-config"} <= set(compose["volumes"])
    plain = yaml.safe_load(render_compose_file(load_settings("h", {})))
    assert "prisma-proxy" not in plain["services"]
    assert plain["services"]["prisma-database"]["ports"] == ["0.0.0.0:4466:4466"]


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"prisma_admin_sources": ["10.0.0.0/8"], "prisma_domain": None}, "prisma_admin_sources"),
        ({"prisma_port": 443}, "prisma_port"),
        ({"prisma_db_debug_port": 80}, "prisma_db_debug_port"),
        ({"prisma_bind_address": "10.1.2.3"}, "prisma_bind_address"),
    ],
)
def test_settings_that_clash_with_the_proxy_are_refused(data, named):
    with pytest.raises(SettingsError, match=f"'{named}'"):
        settings(**data)


LINES = [
    "path /opt/prisma/proxy directory 755 root root -",
    "applied abc",
    "resolves 203.0.113.7",
    "resolves 127.0.1.1",
    "address eth0 203.0.113.7/24",
    "address docker0 172.17.0.1/16",
    "address br-1a2b 172.18.0.1/16",
    "address eth0 2001:db8::7/64",
    "certificate 2027-02-01 10:00:00Z CN=R11,O=Let's Encrypt,C=US",
    "certificate 2026-12-01 10:00:00Z CN=Old",
    "https OK",
]


def test_the_reading_keeps_the_hosts_own_addresses_and_the_latest_certificate():
    found = parse_proxy(LINES)
    assert found.addresses == ("2001:db8::7", "203.0.113.7")
    assert found.resolved == ("127.0.1.1", "203.0.113.7")
    assert found.certificate.issuer == "CN=R11,O=Let's Encrypt,C=US"
    assert found.certificate.not_after == datetime.datetime(
        2027, 2, 1, 10, tzinfo=datetime.timezone.utc
    )
    assert (found.applied, found.https_body) == ("abc", "OK")


def test_the_domain_must_point_only_at_the_host():
    here = parse_proxy(LINES)
    assert domain_problem("p.example.com", "203.0.113.7", here) is None  # loopback ignored
    elsewhere = ProxyState(resolved=("198.51.100.9", "203.0.113.7"), addresses=("203.0.113.7",))
    problem = domain_problem("p.example.com", "h", elsewhere)
    assert "198.51.100.9 is not this host's (203.0.113.7)" in problem
    nothing = domain_problem("p.example.com", "h", ProxyState(addresses=("203.0.113.7",)))
    assert "does not resolve" in nothing and "203.0.113.7" in nothing
    # A reserved IP is not on any interface: the address the deploy connects to counts.
    reserved = ProxyState(resolved=("198.51.100.9",), addresses=("10.0.0.5",))
    assert domain_problem("p.example.com", "198.51.100.9", reserved) is None
    with pytest.raises(HostRefused, match="No certificate was ordered"):
        check_domain_points_here(settings(), elsewhere)


def test_a_converged_proxy_has_no_problem_and_anything_else_has_one():
    https = settings()
    wanted = proxy_files(https)
    (path,) = wanted
    from tasks.host.paths import PathState, sha256_text

    good = PathState("file", 644, "root", "root", sha256_text(wanted[path]))
    converged = ProxyState(paths={path: good}, applied=files_digest(wanted), https_body="OK")
    assert proxy_problems(https, converged, wanted) == []
    stale = ProxyState(paths={path: good}, applied="old", https_body="OK")
    assert proxy_problems(https, stale, wanted) == ["the proxy has not applied these files"]
    down = ProxyState(paths={path: good}, applied=files_digest(wanted))
    assert proxy_problems(https, down, wanted) == [
        "https://prisma.example.com/status: does not answer OK"
    ]
    leftover = ProxyState(paths={"/opt/prisma/proxy": PathState("directory", 755)})
    assert proxy_problems(load_settings("h", {}), leftover, {}) == [
        "/opt/prisma/proxy: left from a domain"
    ]


def test_https_goes_through_the_name_on_loopback_verified_against_the_ca_file():
    probe = commands.https_probe(
        "https://p.example.com/status", "/opt/prisma/proxy/acme-ca-root.pem"
    )
    assert "--connect-to p.example.com:443:127.0.0.1:443" in probe
    assert "--cacert /opt/prisma/proxy/acme-ca-root.pem https://p.example.com/status" in probe
    assert "--insecure" not in probe and " -k " not in probe
    assert "--cacert" not in commands.https_probe("https://p.example.com/status", None)


def test_the_reload_is_caddys_own_and_records_what_it_applied():
    command = commands.reload_proxy(StackPaths("/opt/prisma", "prisma"), "d1g3st")
    assert (
        "exec -T prisma-proxy caddy reload --force --config /etc/prisma-proxy/caddy.json" in command
    )
    record = "/opt/prisma/.proxy-applied"
    assert command.endswith(f"echo d1g3st > {record}.new && mv {record}.new {record}")
    assert "up" not in command.split() and "restart" not in command


def test_the_proxy_is_a_service_of_the_stack_for_drift_upgrades_and_logs():
    from tasks.reports.commands import logged_services, logs_command
    from tasks.stack.layout import service_images

    assert service_images(settings())["prisma-proxy"] == "caddy:2"
    assert "prisma-proxy" not in service_images(load_settings("h", {}))
    paths = StackPaths("/opt/prisma", "prisma")
    assert logged_services(settings()) == ("prisma-db", "prisma-database", "prisma-proxy")
    assert logged_services(load_settings("h", {})) == ("prisma-db", "prisma-database")
    assert "service%3Dprisma-proxy%22" in logs_command(paths, settings())
    assert "prisma-proxy" not in logs_command(paths, load_settings("h", {}))
