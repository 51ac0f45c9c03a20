"""
The leak suite: every deploy file at -vvv (with pyinfra's --debug), with --dry, with
--diff, and failing on purpose. No secret value (database password, management secret,
private key) may appear in stdout, stderr or a log pyinfra writes, in any form
(leak_forms.py: raw, Compose-escaped, JSON-escaped, shell-quoted, line by line).

Every run here has the output masking switched off (PRISMA_TEST_UNMASKED=1, a test-only
switch of tasks/redaction.py): the masking is a last line of defence, and these tests
show that nothing relies on it. A positive control prints the secrets on purpose and
shows the grep finds every form.
"""

from __future__ import annotations

import pytest

from tasks.redaction import UNMASKED_VARIABLE
from tests.e2e import harness
from tests.e2e.conftest import own_deployer
from tests.e2e.leak_forms import forms

pytestmark = pytest.mark.e2e

LOUD = ("-y", "-vvv", "--debug")
DRY = ("--dry", "--diff", "-vvv", "--debug")
DIFF = ("-y", "--diff", "-vvv")
# A secret of the user's, with characters that shells and dotenv treat specially.
USER_SECRET = "leak-test $ecret 'quoted' \"double\" #hash =equals"


UNMASKED = {UNMASKED_VARIABLE: "1"}


@pytest.fixture(scope="module")
def leaky(stand_in_images, ssh_key, tmp_path_factory):
    with own_deployer(stand_in_images, ssh_key, tmp_path_factory) as deployer:
        deployer.backups = tmp_path_factory.mktemp("leak-backups")
        result = deployer.run(flags=LOUD, environment=UNMASKED)
        assert result.returncode == 0, result.output
        deployer.first_run = result
        yield deployer


def secrets_of(deployer) -> list[str]:
    return [
        deployer.secret("db_password"),
        deployer.secret("schema_manager_secret"),
        deployer.secret("cluster_private_key.pem"),
        USER_SECRET,
    ]


def run(deployer, deploy_file: str, flags, environment=None, **data):
    environment = {"PRISMA_BACKUP_DIR": str(deployer.backups), **UNMASKED, **(environment or {})}
    return deployer.run(deploy_file, flags=flags, environment=environment, **data)


def test_the_grep_finds_every_form_of_a_secret_printed_on_purpose(leaky):
    """Positive control: the same grep as below, on output that holds the secrets."""
    control = run(leaky, "tests/e2e/leak_control.py", ("-y",))
    assert control.returncode == 0, control.output
    for secret in secrets_of(leaky)[:3]:
        for form in forms(secret):
            assert form in control.output, form
    with pytest.raises(AssertionError, match="printed"):
        assert_no_secret(leaky, [control])
    # The first deploy, unmasked and at -vvv --debug, holds none of them.
    assert_no_secret(leaky, [leaky.first_run])


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
    runs.append(run(leaky, "deploy.py", DIFF, {"PRISMA_SCHEMA_MANAGER_SECRET": USER_SECRET}))
    runs.append(run(leaky, "deploy.py", DIFF))  # and back to the stored one
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
        run(leaky, "deploy.py", LOUD, prisma_image=broken, prisma_health_timeout=8),
        # An image that does not exist: compose itself fails.
        run(leaky, "deploy.py", LOUD, prisma_image="127.0.0.1:5000/prisma:missing"),
        # Refusals, before any change.
        run(leaky, "nuke.py", LOUD),
        run(
            leaky,
            "restore.py",
            LOUD,
            restore_file="/nonexistent.sql.gz",
            restore_confirm=leaky.host.address,
        ),
        run(leaky, "deploy.py", LOUD, prisma_cluster_public_key=leaky.secret("db_password")),
        run(leaky, "deploy.py", LOUD, prisma_schema_manager_secret="short"),
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
        for form in forms(secret):
            for text in texts:
                assert form not in text, "a secret is printed"
