"""decide_deploy: what deploy.py will change, decided once from the host's reading."""

from __future__ import annotations

from pyinfra.api import HiddenValue

from tasks.engine.facts import DockerEngineState
from tasks.engine.packages import Platform
from tasks.firewall.facts import FirewallState
from tasks.plan import decide_deploy
from tasks.plan.decide import refuse_unfit_host
from tasks.plan.read import WholeHost, WholeHostState
from tasks.secrets.resolve import StackSecrets
from tasks.settings import load_settings
from tasks.stack.layout import StackPaths

SECRETS = StackSecrets(HiddenValue("p" * 32), HiddenValue("m" * 32), HiddenValue("key"))


def test_a_fresh_host_has_work_in_every_part_and_records_the_fingerprint():
    settings = load_settings("h", {"docker_source": "distro", "prisma_firewall": True})
    fresh = WholeHostState(
        engine=DockerEngineState(Platform("debian", "13", "trixie"), systemd=True),
        firewall=FirewallState(systemd=True),
    )
    plan = decide_deploy(settings, fresh, SECRETS)
    assert plan.changes_anything
    assert plan.engine.needed and plan.firewall.needed
    assert plan.stack.problems[0].startswith("Docker changes first")
    fingerprint = plan.stack.wanted.fingerprint_to_record()
    assert fingerprint is not None and fingerprint.startswith("scrypt:")
    assert "p" * 32 not in repr(plan)  # .env is held as a HiddenValue
    assert plan.stack.wanted.env_file.unmask().count("SQL_CLIENT_PASSWORD=") == 1


def test_the_whole_host_is_read_in_one_command_and_split_back_per_part():
    fact = WholeHost()
    command = fact.command(paths=StackPaths("/opt/prisma", "prisma"), url="http://x/status")
    assert command.count("2>/dev/null & ") == 6 and "& wait;" in command
    found = fact.process(
        [
            "--- probe",
            "os debian 13 trixie",
            "path /etc/docker/daemon.json file 644 root root abc",
            "--- probe",
            "path /usr/local/sbin/prisma-firewall missing",
            "systemd",
            "--- probe",
            "path /opt/prisma directory 700 root root -",
            "volume",
            "--- probe",
            "hash prisma-db h1",
            "--- probe",
            "status OK",
            "--- probe",
            "restic 0.18.0-1 ii",
            "repository s3:http://127.0.0.1:9000/b/h",
        ]
    )
    assert found.engine.platform == Platform("debian", "13", "trixie")
    assert "/opt/prisma" not in found.engine.paths  # each part sees only its own lines
    assert found.firewall.systemd and not found.engine.systemd
    assert found.stack.files.volume and found.stack.files.path("/opt/prisma").exists
    assert found.stack.project.desired_hashes == {"prisma-db": "h1"}
    assert found.stack.status_body == "OK"
    assert found.backups.restic_version == "0.18.0-1"
    assert found.backups.initialised_repository == "s3:http://127.0.0.1:9000/b/h"


def test_a_heap_the_host_cannot_hold_is_refused_before_anything_changes():
    import pytest

    from tasks.errors import HostRefused

    settings = load_settings("h", {"prisma_java_heap": "4G"})
    small = WholeHostState(
        engine=DockerEngineState(Platform("debian", "13", "trixie"), memory_bytes=2 * 1024**3)
    )
    with pytest.raises(HostRefused, match=r"'prisma_java_heap' is 4G .* more than this host's"):
        refuse_unfit_host(settings, small)
    big = WholeHostState(
        engine=DockerEngineState(Platform("debian", "13", "trixie"), memory_bytes=8 * 1024**3)
    )
    refuse_unfit_host(settings, big)
