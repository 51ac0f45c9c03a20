"""
The leak suite: every deploy file at -vvv (with pyinfra's --debug), with --dry, with
--diff, and failing on purpose. No secret value (database password, management secret,
private key) may appear in stdout, stderr or a log pyinfra writes.
"""

from __future__ import annotations

import pytest

from tests.e2e import harness
from tests.e2e.conftest import own_deployer

pytestmark = pytest.mark.e2e

LOUD = ("-y", "-vvv", "--debug")
DRY = ("--dry", "--diff", "-vvv", "--debug")
DIFF = ("-y", "--diff", "-vvv")
# A secret of the user's, with characters that shells and dotenv treat specially.
USER_SECRET = "leak-test $ecret 'quoted' \"double\" #hash =equals"


@pytest.fixture(scope="module")
def leaky(stand_in_images, ssh_key, tmp_path_factory):
    with own_deployer(stand_in_images, ssh_key, tmp_path_factory) as deployer:
        deployer.backups = tmp_path_factory.mktemp("leak-backups")
        result = deployer.run(flags=LOUD)
        assert result.returncode == 0, result.output
        yield deployer


def secrets_of(deployer) -> list[str]:
    private_key = deployer.secret("cluster_private_key.pem").splitlines()[1:-1]
    return [
        deployer.secret("db_password"),
        deployer.secret("schema_manager_secret"),
        USER_SECRET,
        *private_key,
    ]


def run(deployer, deploy_file: str, flags, **data):
    environment = {"PRISMA_BACKUP_DIR": str(deployer.backups)}
    return deployer.run(deploy_file, flags=flags, environment=environment, **data)


EVERY_FILE = [
    ("deploy.py", {}),
    ("start.py", {}),
    ("stop.py", {}),
    ("start.py", {}),
    ("logs.py", {"logs_lines": 200}),
    ("status.py", {}),
    ("status.py", {"status_format": "json"}),
    ("upgrade.py", {}),
    ("rollback.py", {}),
    ("backup.py", {}),
]


def test_every_deploy_file_loud_dry_and_diffed_prints_no_secret(leaky, stand_in_images):
    leaky.host.push(stand_in_images.prisma_next, "prisma:1.0")  # so upgrade.py has work
    runs = []
    for deploy_file, data in EVERY_FILE:
        for flags in (LOUD, DRY):
            runs.append(run(leaky, deploy_file, flags, **data))
    # A changed secret (the user's own, from the environment) with --diff.
    runs.append(leaky.run(flags=DIFF, environment={"PRISMA_SCHEMA_MANAGER_SECRET": USER_SECRET}))
    runs.append(leaky.run(flags=DIFF))  # and back to the stored one
    (dump,) = leaky.backups.rglob("*.sql.gz")
    consent = {"nuke_confirm": leaky.host.address}
    runs.append(run(leaky, "nuke.py", LOUD, **consent))
    runs.append(
        run(leaky, "restore.py", LOUD, restore_file=str(dump), restore_confirm=leaky.host.address)
    )
    for result in runs:
        assert result.returncode == 0, result.output
    assert_no_secret(leaky, runs)


def test_failing_runs_print_no_secret(leaky, stand_in_images):
    broken = leaky.host.push(stand_in_images.prisma_broken, "prisma:broken")
    runs = [
        # The server never answers: the run fails showing both services' logs.
        leaky.run(flags=LOUD, prisma_image=broken, prisma_health_timeout=8),
        # An image that does not exist: compose itself fails.
        leaky.run(flags=LOUD, prisma_image="127.0.0.1:5000/prisma:missing"),
        # Refusals, before any change.
        run(leaky, "nuke.py", LOUD),
        run(
            leaky,
            "restore.py",
            LOUD,
            restore_file="/nonexistent.sql.gz",
            restore_confirm=leaky.host.address,
        ),
        leaky.run(flags=LOUD, prisma_cluster_public_key=leaky.secret("db_password")),
        leaky.run(flags=LOUD, prisma_schema_manager_secret="short"),
    ]
    for result in runs:
        assert result.returncode != 0, result.output
    assert "did not answer OK within 8s" in runs[0].output
    assert_no_secret(leaky, runs)
    # Back to a healthy stack for whatever runs next.
    assert leaky.run().returncode == 0


def assert_no_secret(deployer, runs) -> None:
    logs = [path for path in harness.PROJECT_ROOT.glob("pyinfra-debug.log")]
    texts = [result.output for result in runs] + [path.read_text() for path in logs]
    for secret in secrets_of(deployer):
        for text in texts:
            assert secret not in text
