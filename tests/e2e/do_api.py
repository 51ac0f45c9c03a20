"""
A local stand-in of the DigitalOcean API's droplet listing (GET /v2/droplets; GET
/v2/volumes answers an empty list), served
over HTTPS on 127.0.0.1 with a throw-away certificate, so `inventories/do.py` runs its
real pydo code path. It answers with the documented response shape and records what it
was asked (path, query, Authorization header) for the tests to check.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse


def write_self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key; the certificate doubles as the CA bundle."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "do-api-stand-in")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_file = directory / "do-api.crt"
    key_file = directory / "do-api.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_file, key_file


def serve_https(handler: type[BaseHTTPRequestHandler], certificate, key):
    """A threaded HTTPS server on 127.0.0.1 (a free port) and its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"https://127.0.0.1:{server.server_address[1]}"


def droplet(droplet_id: int, name: str, public_ip: str, tags: list[str]) -> dict:
    """A droplet object as the API documents it (the fields the inventory reads, and more)."""
    return {
        "id": droplet_id,
        "name": name,
        "memory": 1024,
        "vcpus": 1,
        "disk": 25,
        "locked": False,
        "status": "active",
        "created_at": "2026-11-01T00:00:00Z",
        "image": {"id": 1, "distribution": "Debian", "name": "13 x64", "slug": "debian-13-x64"},
        "size_slug": "s-1vcpu-1gb",
        "networks": {
            "v4": [
                {
                    "ip_address": "10.110.0.5",
                    "netmask": "255.255.240.0",
                    "gateway": "10.110.0.1",
                    "type": "private",
                },
                {
                    "ip_address": public_ip,
                    "netmask": "255.255.255.0",
                    "gateway": "127.0.0.254",
                    "type": "public",
                },
            ],
            "v6": [],
        },
        "region": {"name": "Frankfurt 1", "slug": "fra1"},
        "tags": tags,
        "vpc_uuid": "00000000-0000-0000-0000-000000000000",
    }


@dataclass
class DropletApi:
    token: str
    droplets: list[dict]
    page_size_cap: int = 1  # small pages make the client follow links.pages.next
    requests: list[dict] = field(default_factory=list)
    url: str = ""
    ca_file: Path | None = None

    def start(self, directory: Path) -> DropletApi:
        certificate, key = write_self_signed_certificate(directory)
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                parsed = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
                api.requests.append(
                    {
                        "path": parsed.path,
                        "query": query,
                        "authorization": self.headers.get("Authorization"),
                    }
                )
                if self.headers.get("Authorization") != f"Bearer {api.token}":
                    return self._json(
                        401, {"id": "unauthorized", "message": "Unable to authenticate you."}
                    )
                if parsed.path == "/v2/volumes":  # the inventory looks for data volumes
                    return self._json(200, {"volumes": [], "links": {}, "meta": {"total": 0}})
                if parsed.path != "/v2/droplets":
                    return self._json(404, {"id": "not_found", "message": "not found"})
                return self._json(200, api.page(query))

            def _json(self, status: int, body: dict):
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server, self.url = serve_https(Handler, certificate, key)
        self.ca_file = certificate
        return self

    def page(self, query: dict) -> dict:
        tag = query.get("tag_name")
        matching = [d for d in self.droplets if tag is None or tag in d["tags"]]
        per_page = min(int(query.get("per_page", 20)), self.page_size_cap)
        number = int(query.get("page", 1))
        chunk = matching[(number - 1) * per_page : number * per_page]
        pages = {}
        if number * per_page < len(matching):
            pages["next"] = f"{self.url}/v2/droplets?page={number + 1}&per_page={per_page}"
        return {"droplets": chunk, "links": {"pages": pages}, "meta": {"total": len(matching)}}

    def stop(self) -> None:
        self.server.shutdown()
