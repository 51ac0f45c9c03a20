"""The Prisma CLI's cluster entry: its content, where the CLI reaches the server, and
the operation that keeps it 0600 on this machine without the key in any argument."""

from __future__ import annotations

import yaml

from tasks.cluster.entry import ENTRY_FILE, HEADER, cluster_url, render_entry
from tasks.cluster.operations import cluster_entry_kept, entry_is_current
from tasks.secrets.store import CLUSTER_PRIVATE_KEY_FILE
from tasks.settings import load_settings
from tests.unit.fake_host import FakeFacts, fake_state, plan_operation

KEY = "-----BEGIN PRIVATE KEY-----\nMIIEv\nQIBADAN\n-----END PRIVATE KEY-----\n"


def test_the_entry_is_what_the_1_0_cli_reads():
    text = render_entry("prisma-fra1-01", "http://203.0.113.10:4466", KEY)
    assert text.startswith(HEADER)
    assert yaml.safe_load(text) == {
        "clusters": {"prisma-fra1-01": {"host": "http://203.0.113.10:4466", "clusterSecret": KEY}}
    }


def test_the_url_is_where_the_server_is_published():
    assert cluster_url(load_settings("h", {}), "203.0.113.10") == "http://203.0.113.10:4466"
    assert cluster_url(load_settings("h", {"prisma_port": 8080}), "a.example") == (
        "http://a.example:8080"
    )
    assert cluster_url(load_settings("h", {"prisma_bind_address": "::"}), "2001:db8::1") == (
        "http://[2001:db8::1]:4466"
    )
    assert cluster_url(load_settings("h", {}), "[2001:db8::1]") == "http://[2001:db8::1]:4466"
    bound = load_settings("h", {"prisma_bind_address": "10.0.0.5"})
    assert cluster_url(bound, "203.0.113.10") == "http://10.0.0.5:4466"


def _kept(tmp_path, **kwargs):
    return plan_operation(
        cluster_entry_kept, FakeFacts(), store_dir=str(tmp_path), cluster_name="h", **kwargs
    )


def test_without_a_private_key_nothing_is_written(tmp_path):
    commands, noops = _kept(tmp_path, url="http://x:4466")
    assert commands == []
    assert noops == ["no cluster private key in the local store: the key pair is yours"]


def test_the_entry_is_written_0600_and_the_key_is_in_no_argument(tmp_path):
    (tmp_path / CLUSTER_PRIVATE_KEY_FILE).write_text(KEY)
    (command,) = _kept(tmp_path, url="http://x:4466")[0]
    assert "PRIVATE KEY" not in repr(command)
    with fake_state(FakeFacts()) as (state, host):
        assert command.execute(state, host, {}) is True
    entry = tmp_path / ENTRY_FILE
    assert entry.read_text() == render_entry("h", "http://x:4466", KEY)
    assert entry.stat().st_mode & 0o777 == 0o600
    assert {path.name for path in tmp_path.iterdir()} == {CLUSTER_PRIVATE_KEY_FILE, ENTRY_FILE}

    commands, noops = _kept(tmp_path, url="http://x:4466")
    assert commands == [] and noops == [f"{entry} is up to date"]
    entry.chmod(0o644)
    assert len(_kept(tmp_path, url="http://x:4466")[0]) == 1  # a readable entry is rewritten
    entry.chmod(0o600)
    assert len(_kept(tmp_path, url="http://y:4466")[0]) == 1  # so is a changed address


def test_a_key_gone_before_the_write_writes_nothing(tmp_path):
    (tmp_path / CLUSTER_PRIVATE_KEY_FILE).write_text(KEY)
    (command,) = _kept(tmp_path, url="http://x:4466")[0]
    (tmp_path / CLUSTER_PRIVATE_KEY_FILE).unlink()
    with fake_state(FakeFacts()) as (state, host):
        assert command.execute(state, host, {}) is False
    assert not (tmp_path / ENTRY_FILE).exists()


def test_the_deploy_queues_the_operation_only_when_the_entry_is_not_current(tmp_path):
    assert entry_is_current(tmp_path, "h", "http://x:4466")  # no key: nothing to write
    (tmp_path / CLUSTER_PRIVATE_KEY_FILE).write_text(KEY)
    assert not entry_is_current(tmp_path, "h", "http://x:4466")
    entry = tmp_path / ENTRY_FILE
    entry.write_text(render_entry("h", "http://x:4466", KEY))
    entry.chmod(0o600)
    assert entry_is_current(tmp_path, "h", "http://x:4466")
    assert not entry_is_current(tmp_path, "h", "http://y:4466")
    entry.chmod(0o640)
    assert not entry_is_current(tmp_path, "h", "http://x:4466")
