"""The DigitalOcean side's pure parts: what is declared, what must change, request
bodies, and the API wrapper's rules (paging, rate limits, errors without the token)."""

from __future__ import annotations

import pytest
from msgspec.structs import replace

from tasks.cloud.api import Api, ApiError, _reset_wait, token_from
from tasks.cloud.commands import droplet_body, firewall_body, record_body
from tasks.cloud.decide import CannotChange, firewall_differs, plan_account
from tasks.cloud.read import AccountState
from tasks.cloud.wanted import wanted_account
from tasks.settings import SettingsError, load_settings

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO5dbaRepT0Rn8t6f16HXTigFGy9DjXfkZgzc5L/sj4K me@box"


def wanted(**data):
    return wanted_account(load_settings("@local", data), "prisma", KEY)


def converged(w) -> AccountState:
    """An account in which everything declared exists as declared."""
    droplets, volumes, ips, records = {}, {}, [], {}
    for index, d in enumerate(w.droplets):
        droplet = {
            "id": index, "name": d.name, "region": {"slug": w.region}, "size_slug": w.size,
            "disk": 50, "tags": list(w.tags), "image": {"slug": w.image}, "status": "active",
        }  # fmt: skip
        droplets[d.name] = droplet
        volumes[d.volume] = {"id": f"v{index}", "name": d.volume, "size_gigabytes": 10}
        volumes[d.volume]["droplet_ids"] = [index]
        ips.append({"ip": f"192.0.2.{index}", "droplet": {"id": index}})
        if d.dns_name:
            records[d.dns_name] = {"id": index, "data": f"192.0.2.{index}"}
    body = firewall_body(w)
    return AccountState(
        key={"id": 1}, tags=frozenset(w.tags), droplets=droplets, volumes=volumes,
        reserved_ips=tuple(ips), zone="example.com", records=records,
        firewall={"id": "f", **body}, sizes={w.size: {"disk": 50}, "s-1vcpu-1gb": {"disk": 25}},
    )  # fmt: skip


def test_a_count_names_droplets_with_the_prefix_and_one_volume_each():
    w = wanted(do_droplets=3, do_name_prefix="api", prisma_domain="prisma.example.com")
    assert [(d.name, d.volume, d.dns_name) for d in w.droplets] == [
        ("api-01", "api-01-data", "api-01.prisma.example.com"),
        ("api-02", "api-02-data", "api-02.prisma.example.com"),
        ("api-03", "api-03-data", "api-03.prisma.example.com"),
    ]
    assert wanted(prisma_domain="prisma.example.com").droplets[0].dns_name == "prisma.example.com"


def test_nothing_changes_on_a_converged_account():
    w = wanted(do_droplets=2, prisma_domain="p.example.com", do_tags=["prod"])
    assert plan_account(w, converged(w), {}, []).changes == ()


def test_from_nothing_every_resource_is_created_in_order():
    w = wanted(prisma_domain="p.example.com")
    plan = plan_account(w, AccountState(zone="example.com", sizes={w.size: {"disk": 50}}), {}, [])
    kinds = [c.kind for c in plan.changes]
    assert kinds == ["ssh_key", "tag", "volume", "droplet", "reserved_ip", "record", "firewall"]
    assert plan.new_droplets == {"prisma-01"}


def test_a_kept_reserved_ip_is_assigned_again_and_the_kept_volume_attached():
    w = wanted()
    found = converged(w)
    droplet = found.droplets["prisma-01"]
    found.volumes["prisma-01-data"]["droplet_ids"] = []
    found = replace(found, reserved_ips=({"ip": "192.0.2.0"},))
    kinds = [c.kind for c in plan_account(w, found, {"prisma-01": "192.0.2.0"}, []).changes]
    assert kinds == ["attach", "assign_ip"] and droplet["id"] == 0


@pytest.mark.parametrize(
    "change,message",
    [
        ({"region": {"slug": "nyc3"}}, "a droplet cannot move"),
        ({"size_slug": "s-1vcpu-1gb", "disk": 80}, "a disk cannot shrink"),
        ({"size_slug": "s-1vcpu-1gb", "disk": 20}, "--data do_resize_confirm=prisma-01"),
    ],
)
def test_what_cannot_change_in_place_is_refused(change, message):
    w = wanted()
    found = converged(w)
    found.droplets["prisma-01"].update(change)
    with pytest.raises(CannotChange, match=message):
        plan_account(w, found, {}, [])


def test_a_resize_goes_ahead_with_consent_naming_the_droplet():
    w = wanted()
    found = converged(w)
    found.droplets["prisma-01"].update(size_slug="s-1vcpu-1gb", disk=25)
    assert [c.kind for c in plan_account(w, found, {}, ["prisma-01"]).changes] == ["resize"]


def test_firewall_mirrors_the_host_firewall_and_sees_a_changed_rule():
    w = wanted(do_ssh_sources=["203.0.113.0/24"], prisma_firewall_extra_ports=[9100])
    body = firewall_body(w)
    assert body["inbound_rules"][0] == {
        "protocol": "tcp", "sources": {"addresses": ["203.0.113.0/24"]}, "ports": "22"
    }  # fmt: skip
    assert [r["ports"] for r in body["inbound_rules"]] == ["22", "4466", "9100"]
    assert body["tags"] == ["prisma"]
    assert not firewall_differs(w, {**body, "outbound_rules": [
        {**r, "ports": "0"} if "ports" in r else r for r in body["outbound_rules"]]})  # fmt: skip
    assert firewall_differs(w, {**body, "inbound_rules": body["inbound_rules"][1:]})


def test_request_bodies():
    w = wanted(do_vpc_uuid="vpc-1", do_monitoring=False)
    body = droplet_body(w, w.droplets[0], "vol-9")
    assert body["ssh_keys"] == [w.key.fingerprint] and body["volumes"] == ["vol-9"]
    assert body["vpc_uuid"] == "vpc-1" and body["monitoring"] is False
    assert body["image"] == "debian-13-x64" and body["tags"] == ["prisma"]
    assert record_body("p.example.com", "example.com", "192.0.2.1")["name"] == "p"
    assert record_body("example.com", "example.com", "192.0.2.1")["name"] == "@"


@pytest.mark.parametrize(
    "data", [{"do_droplets": 0}, {"do_droplets": 500}, {"do_droplets": ["Bad_Name"]},
             {"do_droplets": ["a", "a"]}, {"do_ssh_sources": ["nowhere"]}]
)  # fmt: skip
def test_bad_declarations_are_refused(data):
    with pytest.raises(SettingsError):
        load_settings("@local", data)


def test_the_token_comes_only_from_the_environment():
    with pytest.raises(ApiError, match="set DIGITALOCEAN_TOKEN"):
        token_from({"DIGITALOCEAN_TOKEN": "  "})


class Refusal(Exception):
    def __init__(self, status, headers=None):
        self.status_code = status
        self.response = type("R", (), {"headers": headers or {}, "json": lambda s: {
            "id": "unprocessable_entity", "message": "Name is taken"}})()  # fmt: skip


def test_rate_limits_are_waited_out_until_the_reset():
    api = Api.__new__(Api)
    waits = []
    api.sleep = waits.append
    answers = [Refusal(429, {"ratelimit-reset": "9999999999"}), {"ok": 1}]

    def request():
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert api.call("droplets", "list droplets", request) == {"ok": 1}
    assert waits == [3600]  # capped
    assert _reset_wait({"Ratelimit-Reset": "105"}, now=100.0) == 5.0


def test_errors_name_the_resource_and_the_call():
    api = Api.__new__(Api)
    api.sleep = lambda _: None

    def request():
        raise Refusal(422)

    with pytest.raises(ApiError) as error:
        api.call("volume prisma-01-data", "create volume", request)
    assert str(error.value) == (
        "DigitalOcean API: create volume for volume prisma-01-data failed: "
        "HTTP 422 (unprocessable_entity: Name is taken)"
    )


def test_lists_are_followed_across_pages():
    api = Api.__new__(Api)
    pages = {1: {"x": [1, 2], "links": {"pages": {"next": "..."}}}, 2: {"x": [3], "links": {}}}
    assert api.all_pages("x", "list x", lambda per_page, page: pages[page], "x") == [1, 2, 3]


def test_every_new_droplet_is_created_before_any_waits_to_be_active():
    w = wanted(do_droplets=3)
    plan = plan_account(w, AccountState(sizes={w.size: {"disk": 50}}), {}, [])
    kinds = [c.kind for c in plan.changes]
    last_creation = max(i for i, kind in enumerate(kinds) if kind == "droplet")
    first_address = kinds.index("reserved_ip")
    assert kinds.count("droplet") == 3 and last_creation < first_address


def test_resizes_of_several_droplets_are_refused_at_once_naming_each():
    w = wanted(do_droplets=3)
    found = converged(w)
    for name in ("prisma-01", "prisma-03"):
        found.droplets[name].update(size_slug="s-1vcpu-1gb", disk=25)
    with pytest.raises(CannotChange) as refused:
        plan_account(w, found, {}, ["prisma-01"])
    assert str(refused.value).startswith("prisma-03 is s-1vcpu-1gb, do_size says")
    assert str(refused.value).endswith("--data do_resize_confirm=prisma-01,prisma-03")
    plan = plan_account(w, found, {}, ["prisma-01", "prisma-03"])
    assert [(c.kind, c.target) for c in plan.changes] == [
        ("resize", "prisma-01"),
        ("resize", "prisma-03"),
    ]


def _destroyed_with_data_kept(w) -> AccountState:
    """The droplet deleted, its volume, reserved IP and DNS record kept."""
    found = converged(w)
    free_ip = {"ip": "192.0.2.0", "droplet": None}
    found.volumes["prisma-01-data"]["droplet_ids"] = []
    return replace(found, droplets={}, reserved_ips=(free_ip,))


def test_a_kept_reserved_ip_is_found_through_the_dns_record_on_another_machine():
    w = wanted(prisma_domain="p.example.com")
    plan = plan_account(w, _destroyed_with_data_kept(w), {}, [])  # no local record of it
    assert [(c.kind, c.value) for c in plan.changes] == [
        ("droplet", ""),
        ("assign_ip", "192.0.2.0"),
    ]


def test_without_a_domain_or_a_local_record_a_new_reserved_ip_is_made():
    w = wanted()
    plan = plan_account(w, _destroyed_with_data_kept(w), {}, [])
    assert [c.kind for c in plan.changes] == ["droplet", "reserved_ip"]
    plan = plan_account(w, _destroyed_with_data_kept(w), {"prisma-01": "192.0.2.0"}, [])
    assert [c.kind for c in plan.changes] == ["droplet", "assign_ip"]
