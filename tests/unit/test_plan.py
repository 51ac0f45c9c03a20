"""plan_deploy: what deploy.py will change, decided once from the host's reading."""

from __future__ import annotations

from pyinfra.api import HiddenValue

from tasks.facts import EngineState, HostSnapshot, Platform
from tasks.plan import plan_deploy
from tasks.secrets import StackSecrets
from tasks.settings import load_settings

SECRETS = StackSecrets(HiddenValue("p" * 32), HiddenValue("m" * 32), HiddenValue("key"))


def test_a_fresh_host_has_work_in_every_part_and_records_the_fingerprint():
    settings = load_settings("h", {"docker_source": "distro", "prisma_firewall": True})
    fresh = HostSnapshot(engine=EngineState(Platform("debian", "13", "trixie"), systemd=True))
    plan = plan_deploy(settings, fresh, SECRETS)
    assert plan.changes_anything
    assert plan.engine and plan.firewall
    assert plan.stack[0].startswith("Docker changes first")
    assert plan.db_fingerprint is not None and plan.db_fingerprint.startswith("scrypt:")
    assert "p" * 32 not in repr(plan)  # .env is held as a HiddenValue
    assert plan.env_file.unmask().count("SQL_CLIENT_PASSWORD=") == 1
