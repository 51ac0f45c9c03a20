"""
Fixtures of the end-to-end suite. Outside CI a machine without a Docker engine skips
these tests with the reason; under CI (CI=true) or with PRISMA_E2E_REQUIRED=1 they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e import harness
from tests.e2e.harness import PyinfraRun, StandInImages, TestHost


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)


def _required() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") or bool(
        os.environ.get("PRISMA_E2E_REQUIRED")
    )


def _first_worker_of_the_run(tmp_path_factory) -> bool:
    """True once per test run: always without pytest-xdist; with it, for the first of
    its workers to ask (they share the run's base temporary directory's parent)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return True
    marker = tmp_path_factory.getbasetemp().parent / "leftovers-removed"
    if marker.exists():
        return False
    marker.touch()
    return True


@pytest.fixture(scope="session")
def stand_in_images(tmp_path_factory) -> StandInImages:
    problem = harness.engine_problem()
    if problem:
        if _required():
            pytest.fail(f"the end-to-end harness cannot start: {problem}", pytrace=False)
        pytest.skip(f"end-to-end harness unavailable: {problem}")
    try:
        # Under the cache's lock: a worker that came second must not remove the volume
        # of a host the first one has just started (it is not yet in use).
        with harness.cache_lock():
            if _first_worker_of_the_run(tmp_path_factory):
                harness.remove_leftovers()
            return harness.build_images()
    except harness.HarnessError as error:
        pytest.fail(f"the end-to-end harness cannot build its images: {error}", pytrace=False)


@pytest.fixture(scope="session")
def ssh_key(tmp_path_factory) -> tuple[Path, str]:
    directory = tmp_path_factory.mktemp("ssh")
    key = directory / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key, (directory / "id_ed25519.pub").read_text()


@dataclass
class Deployer:
    """Runs the project's deploy files against one test host, as a user would."""

    host: TestHost
    key: Path
    secrets_dir: Path
    data: dict[str, object] = field(default_factory=dict)
    runs: list[PyinfraRun] = field(default_factory=list)

    @property
    def environment(self) -> dict[str, str]:
        return {
            "PRISMA_HOSTS": self.host.address,
            "PRISMA_SSH_KEY": str(self.key),
            "PRISMA_SECRETS_DIR": str(self.secrets_dir),
        }

    def run(
        self,
        deploy_file: str = "deploy.py",
        flags: tuple[str, ...] = ("-y", "--json"),
        inventory: str = "inventories/do.py",
        environment: dict[str, str] | None = None,
        prefix: tuple[str, ...] = (),
        **data: object,
    ) -> PyinfraRun:
        result = harness.run_pyinfra(
            inventory,
            deploy_file,
            {**self.environment, **(environment or {})},
            {**self.data, **data},
            flags=flags,
            prefix=prefix,
        )
        self.runs.append(result)
        return result

    def start(
        self, flags: tuple[str, ...] = ("-y",), output: Path | None = None, **data: object
    ) -> subprocess.Popen:
        """Start deploy.py in the background (its own process group); its output goes to
        `output` (discarded without one)."""
        sink = output.open("w") if output else subprocess.DEVNULL
        try:
            return subprocess.Popen(
                harness.pyinfra_command(
                    "inventories/do.py", "deploy.py", {**self.data, **data}, flags
                ),
                cwd=harness.PROJECT_ROOT,
                env=harness.pyinfra_environment(self.environment),
                stdout=sink,
                stderr=subprocess.STDOUT if output else subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            if output:
                sink.close()

    def secret(self, name: str) -> str:
        return (self.secrets_dir / self.host.address / name).read_text()

    def mysql(self, sql: str) -> str:
        """Run SQL in the database container with the stored root password."""
        return self.host.exec(
            "docker exec -i -e MYSQL_PWD prisma-db mysql -uroot -N -B",
            input=sql,
            environment={"MYSQL_PWD": self.secret("db_password")},
        ).stdout

    def container_id(self, service: str) -> str:
        return self.host.exec(
            "docker ps -aq --no-trunc --filter label=com.docker.compose.project=prisma "
            f"--filter label=com.docker.compose.service={service}"
        ).stdout.strip()


def stack_data(host: TestHost, images: StandInImages) -> dict[str, object]:
    """Host data pointing the deploy at the test registry, as a private mirror would."""
    return {
        "docker_source": "distro",
        "prisma_db_image": host.push(images.database, "mariadb:11"),
        "prisma_image": host.push(images.prisma, "prisma:1.0"),
        "prisma_health_timeout": 120,
        # The test registry lives in the host's network namespace: let the pushes in.
        "prisma_firewall_extra_ports": [harness.REGISTRY_PORT_IN_HOST],
    }


@contextmanager
def own_host(ssh_key, **options) -> Iterator[TestHost]:
    """A fresh test host for one module; kept afterwards with PRISMA_E2E_KEEP=1."""
    host = harness.start_test_host(ssh_key[1], **options)
    try:
        yield host
    finally:
        if not os.environ.get("PRISMA_E2E_KEEP"):
            host.remove()


@contextmanager
def own_deployer(images, ssh_key, tmp_path_factory, **options) -> Iterator[Deployer]:
    """A Deployer on a fresh host of its own, with an empty local secret store."""
    with own_host(ssh_key, **options) as host:
        secrets_dir = tmp_path_factory.mktemp("secrets")
        shutil.rmtree(secrets_dir)  # the deploy creates it, as on a user's first run
        yield Deployer(host, ssh_key[0], secrets_dir, stack_data(host, images))


@pytest.fixture(scope="module")
def deployer(stand_in_images, ssh_key, tmp_path_factory) -> Iterator[Deployer]:
    with own_deployer(stand_in_images, ssh_key, tmp_path_factory) as deployer:
        yield deployer
