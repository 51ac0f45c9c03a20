"""
A local stand-in of the DigitalOcean API for provision.py and destroy.py: the endpoints
pydo calls, with their documented request and response shapes, small pages (the client
must follow links.pages.next), 422 errors for what the API refuses, 429 rate limits on
demand (with the ratelimit-reset header), and a log of every request.

Behind it, real resources: creating a droplet starts a test host of its own (systemd +
sshd container, the registered key in root's authorized_keys). Every droplet's public
IPv4 is 127.0.0.1 (tests reach hosts only there), so each gets its own forwarded SSH port,
fixed per droplet name (`ssh_port`); the project reaches them through PRISMA_SSH_PORTS
(`ssh_ports_variable`), as a user behind a NAT with a port per droplet would. A volume is
a sparse file on a loop device that appears in the droplet at DigitalOcean's path,
/dev/disk/by-id/scsi-0DO_Volume_<name>. Power off kills the droplet's container (a hard
power-off, as the API's), power on starts it again; a resize is refused while it runs.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from tests.e2e import harness
from tests.e2e.do_api import droplet as droplet_object
from tests.e2e.do_api import serve_https, write_self_signed_certificate

REGIONS = ("fra1", "nyc3", "ams3")
SIZES = {"s-1vcpu-1gb": 25, "s-1vcpu-2gb": 50, "s-2vcpu-4gb": 80}
IMAGES = ("debian-13-x64", "debian-12-x64", "ubuntu-24-04-x64")
DEVICE_DIR = "/dev/disk/by-id"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


class Refused(Exception):
    def __init__(self, status: int, error_id: str, message: str):
        super().__init__(message)
        self.status, self.error_id, self.message = status, error_id, message


def fingerprint(public_key: str) -> str:
    digest = hashlib.md5(base64.b64decode(public_key.split()[1])).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


@dataclass
class CloudApi:
    token: str
    workdir: Path
    # droplet name -> its 127.0.0.1 SSH port, chosen on first use and kept, so a droplet
    # created again under a name is reached where the user's PRISMA_SSH_PORTS says
    ssh_ports: dict[str, int] = field(default_factory=dict)
    page_size_cap: int = 2
    domains: tuple[str, ...] = ("example.test",)
    requests: list[dict] = field(default_factory=list)
    rate_limited: int = 0  # the next N requests answer 429
    keys: dict[str, dict] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)
    droplets: dict[int, dict] = field(default_factory=dict)
    hosts: dict[int, harness.TestHost] = field(default_factory=dict)
    volumes: dict[str, dict] = field(default_factory=dict)
    loops: dict[str, tuple[str, Path]] = field(default_factory=dict)  # id -> (loop, file)
    reserved_ips: dict[str, dict] = field(default_factory=dict)
    records: dict[str, list[dict]] = field(default_factory=dict)
    firewalls: dict[str, dict] = field(default_factory=dict)
    ids: itertools.count = field(default_factory=lambda: itertools.count(1001))
    lock: threading.RLock = field(default_factory=threading.RLock)

    # --- the server ---------------------------------------------------------------------

    def start(self) -> CloudApi:
        certificate, key = write_self_signed_certificate(self.workdir)
        for domain in self.domains:
            self.records.setdefault(domain, [])
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self):
                parsed = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null") if length else None
                status, answer, headers = api.answer(
                    self.command,
                    unquote(parsed.path),
                    query,
                    body,
                    self.headers.get("Authorization"),
                )
                payload = b"" if answer is None else json.dumps(answer).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self.server, self.url = serve_https(Handler, certificate, key)
        self.ca_file = certificate
        return self

    def ssh_port(self, name: str) -> int:
        with self.lock:
            return self.ssh_ports.setdefault(name, harness.free_port())

    def ssh_ports_variable(self, names) -> str:
        """PRISMA_SSH_PORTS for these droplet names: 'prisma-01:41022,prisma-02:...'."""
        return ",".join(f"{name}:{self.ssh_port(name)}" for name in names)

    def host_of(self, name: str) -> harness.TestHost:
        (droplet_id,) = [i for i, d in self.droplets.items() if d["name"] == name]
        return self.hosts[droplet_id]

    def writes(self, since: int = 0) -> list[dict]:
        return [r for r in self.requests[since:] if r["method"] in WRITES]

    def answer(self, method, path, query, body, authorization):
        self.requests.append({"method": method, "path": path, "query": query, "body": body})
        if authorization != f"Bearer {self.token}":
            return 401, {"id": "unauthorized", "message": "Unable to authenticate you."}, {}
        with self.lock:
            if self.rate_limited:
                self.rate_limited -= 1
                reset = str(int(time.time()) + 1)
                headers = {"ratelimit-limit": "5000", "ratelimit-remaining": "0"}
                return (
                    429,
                    {"id": "too_many_requests", "message": "API Rate limit exceeded."},
                    {
                        **headers,
                        "ratelimit-reset": reset,
                    },
                )
            try:
                status, answer = self.route(method, path, query, body or {})
            except Refused as refused:
                return refused.status, {"id": refused.error_id, "message": refused.message}, {}
        return status, answer, {}

    def route(self, method, path, query, body):
        for pattern, handler in ROUTES:
            match = re.fullmatch(pattern, f"{method} {path}")
            if match:
                return handler(self, query, body, *match.groups())
        raise Refused(404, "not_found", "The resource you were accessing could not be found.")

    def page(self, key: str, items: list, query: dict, path: str) -> tuple[int, dict]:
        per_page = min(int(query.get("per_page", 20)), self.page_size_cap)
        number = int(query.get("page", 1))
        pages = {}
        if number * per_page < len(items):
            pages["next"] = f"{self.url}{path}?page={number + 1}&per_page={per_page}"
        chunk = items[(number - 1) * per_page : number * per_page]
        return 200, {key: chunk, "links": {"pages": pages}, "meta": {"total": len(items)}}

    # --- real resources behind the API --------------------------------------------------

    def _boot(self, droplet: dict, public_keys: list[str], volume_ids: list[str]) -> None:
        host = harness.start_test_host(
            "\n".join(public_keys) + "\n",
            publish=(4466,),
            ssh_port=self.ssh_port(droplet["name"]),
            extra_args=("--device-cgroup-rule", "b 7:* rmw"),
        )
        with self.lock:
            self.hosts[droplet["id"]] = host
            for volume_id in volume_ids:
                self._plug(droplet["id"], volume_id)
            droplet["status"] = "active"

    def _plug(self, droplet_id: int, volume_id: str) -> None:
        host = self.hosts.get(droplet_id)
        loop, _ = self.loops[volume_id]
        major, minor = (
            int(n) for n in Path(f"/sys/block/{Path(loop).name}/dev").read_text().split(":")
        )
        name = self.volumes[volume_id]["name"]
        if host is not None:
            host.exec(
                f"mkdir -p {DEVICE_DIR} && "
                f"mknod {DEVICE_DIR}/scsi-0DO_Volume_{name} b {major} {minor}"
            )

    def power(self, droplet: dict, on: bool) -> None:
        """A hard power-off (the container killed) or a boot (started again: its registry
        sidecar too, and the volumes plugged back into the new /dev)."""
        host = self.hosts[droplet["id"]]
        if not on:
            harness.docker("kill", host.name)
            droplet["status"] = "off"
            return
        harness.docker("start", host.name)
        host.start_registry()
        host.wait_until_booted()
        for volume_id in droplet["volume_ids"]:
            self._plug(droplet["id"], volume_id)
        droplet["status"] = "active"

    def close(self) -> None:
        self.server.shutdown()
        for host in list(self.hosts.values()):
            host.remove()
        for loop, image in self.loops.values():
            harness.run("losetup", "-d", loop, check=False)
            image.unlink(missing_ok=True)


# --- endpoints ----------------------------------------------------------------------------


def _regions(api, query, body):
    items = [{"slug": s, "name": s, "available": True, "sizes": list(SIZES)} for s in REGIONS]
    return api.page("regions", items, query, "/v2/regions")


def _sizes(api, query, body):
    items = [
        {
            "slug": s,
            "disk": disk,
            "memory": 1024,
            "vcpus": 1,
            "regions": list(REGIONS),
            "available": True,
        }
        for s, disk in SIZES.items()
    ]
    return api.page("sizes", items, query, "/v2/sizes")


def _image(api, query, body, slug):
    if slug not in IMAGES:
        raise Refused(404, "not_found", "The resource you were accessing could not be found.")
    return 200, {"image": {"id": IMAGES.index(slug) + 1, "slug": slug, "distribution": "Debian"}}


def _get_key(api, query, body, identifier):
    key = api.keys.get(identifier) or next(
        (k for k in api.keys.values() if str(k["id"]) == identifier), None
    )
    if key is None:
        raise Refused(404, "not_found", "The resource you were accessing could not be found.")
    return 200, {"ssh_key": key}


def _create_key(api, query, body):
    if not body.get("name") or len((body.get("public_key") or "").split()) < 2:
        raise Refused(
            422,
            "unprocessable_entity",
            "Key invalid, key should be of the format `type key [comment]`",
        )
    fp = fingerprint(body["public_key"])
    if fp in api.keys:
        raise Refused(422, "unprocessable_entity", "SSH Key is already in use on your account")
    api.keys[fp] = {"id": next(api.ids), "fingerprint": fp, **body}
    return 201, {"ssh_key": api.keys[fp]}


def _get_tag(api, query, body, name):
    if name not in api.tags:
        raise Refused(404, "not_found", "The resource you were accessing could not be found.")
    return 200, {"tag": {"name": name, "resources": {}}}


def _create_tag(api, query, body):
    api.tags.add(body["name"])
    return 201, {"tag": {"name": body["name"], "resources": {}}}


def _tag_resources(api, query, body, name):
    for resource in body["resources"]:
        droplet = api.droplets[int(resource["resource_id"])]
        droplet["tags"] = sorted({*droplet["tags"], name})
    return 204, None


def _list_droplets(api, query, body):
    items = [
        d
        for d in api.droplets.values()
        if ("tag_name" not in query or query["tag_name"] in d["tags"])
        and ("name" not in query or query["name"] == d["name"])
    ]
    return api.page("droplets", items, query, "/v2/droplets")


def _check_slugs(body):
    for key, known in (("region", REGIONS), ("size", SIZES), ("image", IMAGES)):
        if body.get(key) not in known:
            raise Refused(
                422, "unprocessable_entity", f"You specified an invalid {key} for Droplet creation."
            )


def _create_droplet(api, query, body):
    _check_slugs(body)
    name = body.get("name", "")
    if not re.fullmatch(r"[A-Za-z0-9.-]{1,253}", name):
        raise Refused(
            422,
            "unprocessable_entity",
            "Name Only valid hostname characters are allowed. (a-z, A-Z, 0-9, . and -)",
        )
    keys = [api.keys.get(k) for k in body.get("ssh_keys", [])]
    if None in keys:
        raise Refused(422, "unprocessable_entity", "SSH key not found.")
    droplet_id = next(api.ids)
    droplet = droplet_object(droplet_id, name, "127.0.0.1", list(body.get("tags", [])))
    droplet.update(status="new", size_slug=body["size"], disk=SIZES[body["size"]])
    droplet["region"] = {"slug": body["region"], "name": body["region"]}
    droplet["image"] = {"slug": body["image"], "distribution": "Debian"}
    droplet["volume_ids"] = list(body.get("volumes", []))
    api.tags.update(droplet["tags"])
    api.droplets[droplet_id] = droplet
    for volume_id in droplet["volume_ids"]:
        api.volumes[volume_id]["droplet_ids"] = [droplet_id]
    public_keys = [key["public_key"] for key in keys]
    threading.Thread(
        target=api._boot, args=(droplet, public_keys, droplet["volume_ids"]), daemon=True
    ).start()
    return 202, {"droplet": droplet, "links": {"actions": []}}


def _get_droplet(api, query, body, droplet_id):
    if int(droplet_id) not in api.droplets:
        raise Refused(404, "not_found", "The resource you were accessing could not be found.")
    return 200, {"droplet": api.droplets[int(droplet_id)]}


def _delete_droplet(api, query, body, droplet_id):
    droplet = api.droplets.pop(int(droplet_id), None)
    if droplet is None:
        raise Refused(404, "not_found", "The resource you were accessing could not be found.")
    host = api.hosts.pop(droplet["id"], None)
    if host is not None:
        host.remove()
    for volume in api.volumes.values():
        volume["droplet_ids"] = [i for i in volume["droplet_ids"] if i != droplet["id"]]
    for ip in api.reserved_ips.values():
        if (ip.get("droplet") or {}).get("id") == droplet["id"]:
            ip["droplet"] = None
    return 204, None


def _droplet_action(api, query, body, droplet_id):
    droplet = api.droplets[int(droplet_id)]
    kind = body.get("type")
    if kind == "resize":
        if droplet["status"] != "off":
            raise Refused(
                422,
                "unprocessable_entity",
                "Droplet is currently on. Please power it off to run this event.",
            )
        droplet.update(size_slug=body["size"])
    elif kind in ("power_off", "power_on"):
        api.power(droplet, on=kind == "power_on")
    return 201, {"action": {"id": next(api.ids), "status": "completed", "type": kind}}


def _list_volumes(api, query, body):
    items = [
        v
        for v in api.volumes.values()
        if query.get("region", v["region"]["slug"]) == v["region"]["slug"]
        and query.get("name", v["name"]) == v["name"]
    ]
    return api.page("volumes", items, query, "/v2/volumes")


def _create_volume(api, query, body):
    if any(v["name"] == body["name"] for v in api.volumes.values()):
        raise Refused(409, "conflict", "a volume with that name already exists")
    volume_id = f"vol-{next(api.ids)}"
    image = api.workdir / f"{volume_id}.img"
    harness.run("truncate", "-s", f"{min(body['size_gigabytes'], 1) * 256}M", str(image))
    loop = harness.run("losetup", "-f", "--show", str(image)).stdout.strip()
    api.loops[volume_id] = (loop, image)
    api.volumes[volume_id] = {
        "id": volume_id,
        "name": body["name"],
        "size_gigabytes": body["size_gigabytes"],
        "region": {"slug": body["region"]},
        "droplet_ids": [],
        "tags": body.get("tags", []),
        "description": body.get("description", ""),
    }
    return 201, {"volume": api.volumes[volume_id]}


def _delete_volume(api, query, body, volume_id):
    volume = api.volumes.get(volume_id)
    if volume is None:
        raise Refused(404, "not_found", "The resource you were accessing could not be found.")
    if volume["droplet_ids"]:
        raise Refused(409, "conflict", "Volume is currently attached to a Droplet")
    del api.volumes[volume_id]
    loop, image = api.loops.pop(volume_id)
    harness.run("losetup", "-d", loop, check=False)
    image.unlink(missing_ok=True)
    return 204, None


def _volume_action(api, query, body, volume_id):
    if body.get("type") == "attach":
        api.volumes[volume_id]["droplet_ids"] = [body["droplet_id"]]
        api.droplets[body["droplet_id"]]["volume_ids"].append(volume_id)
        api._plug(body["droplet_id"], volume_id)
    return 202, {"action": {"id": next(api.ids), "status": "in-progress", "type": body.get("type")}}


def _list_ips(api, query, body):
    return api.page("reserved_ips", list(api.reserved_ips.values()), query, "/v2/reserved_ips")


def _create_ip(api, query, body):
    address = f"192.0.2.{len(api.reserved_ips) + 10}"  # TEST-NET-1: never connected to
    droplet = api.droplets.get(body.get("droplet_id"))
    if droplet is None or droplet["status"] != "active":
        raise Refused(422, "unprocessable_entity", "Droplet is not active")
    api.reserved_ips[address] = {"ip": address, "droplet": droplet, "region": droplet["region"]}
    return 202, {"reserved_ip": api.reserved_ips[address], "links": {}}


def _delete_ip(api, query, body, address):
    if api.reserved_ips.pop(address, None) is None:
        raise Refused(404, "not_found", "The resource you were accessing could not be found.")
    return 204, None


def _ip_action(api, query, body, address):
    api.reserved_ips[address]["droplet"] = api.droplets[body["droplet_id"]]
    return 201, {"action": {"id": next(api.ids), "status": "in-progress", "type": body["type"]}}


def _list_domains(api, query, body):
    return api.page(
        "domains", [{"name": d, "ttl": 1800} for d in api.records], query, "/v2/domains"
    )


def _list_records(api, query, body, domain):
    items = [r for r in api.records[domain] if query.get("type", r["type"]) == r["type"]]
    return api.page("domain_records", items, query, f"/v2/domains/{domain}/records")


def _create_record(api, query, body, domain):
    record = {"id": next(api.ids), **body}
    api.records[domain].append(record)
    return 201, {"domain_record": record}


def _patch_record(api, query, body, domain, record_id):
    record = next(r for r in api.records[domain] if r["id"] == int(record_id))
    record.update(body)
    return 200, {"domain_record": record}


def _delete_record(api, query, body, domain, record_id):
    api.records[domain] = [r for r in api.records[domain] if r["id"] != int(record_id)]
    return 204, None


def _list_firewalls(api, query, body):
    return api.page("firewalls", list(api.firewalls.values()), query, "/v2/firewalls")


def _save_firewall(api, query, body, firewall_id=None):
    status = 200 if firewall_id else 202
    firewall_id = firewall_id or f"fw-{next(api.ids)}"
    api.firewalls[firewall_id] = {"id": firewall_id, "status": "succeeded", **body}
    return status, {"firewall": api.firewalls[firewall_id]}


ROUTES = [
    (r"GET /v2/regions", _regions),
    (r"GET /v2/sizes", _sizes),
    (r"GET /v2/images/([^/]+)", _image),
    (r"GET /v2/account/keys/([^/]+)", _get_key),
    (r"POST /v2/account/keys", _create_key),
    (r"GET /v2/tags/([^/]+)", _get_tag),
    (r"POST /v2/tags", _create_tag),
    (r"POST /v2/tags/([^/]+)/resources", _tag_resources),
    (r"GET /v2/droplets", _list_droplets),
    (r"POST /v2/droplets", _create_droplet),
    (r"GET /v2/droplets/(\d+)", _get_droplet),
    (r"DELETE /v2/droplets/(\d+)", _delete_droplet),
    (r"POST /v2/droplets/(\d+)/actions", _droplet_action),
    (r"GET /v2/volumes", _list_volumes),
    (r"POST /v2/volumes", _create_volume),
    (r"DELETE /v2/volumes/([^/]+)", _delete_volume),
    (r"POST /v2/volumes/([^/]+)/actions", _volume_action),
    (r"GET /v2/reserved_ips", _list_ips),
    (r"POST /v2/reserved_ips", _create_ip),
    (r"DELETE /v2/reserved_ips/([^/]+)", _delete_ip),
    (r"POST /v2/reserved_ips/([^/]+)/actions", _ip_action),
    (r"GET /v2/domains", _list_domains),
    (r"GET /v2/domains/([^/]+)/records", _list_records),
    (r"POST /v2/domains/([^/]+)/records", _create_record),
    (r"PATCH /v2/domains/([^/]+)/records/(\d+)", _patch_record),
    (r"DELETE /v2/domains/([^/]+)/records/(\d+)", _delete_record),
    (r"GET /v2/firewalls", _list_firewalls),
    (r"POST /v2/firewalls", _save_firewall),
    (r"PUT /v2/firewalls/([^/]+)", _save_firewall),
]
