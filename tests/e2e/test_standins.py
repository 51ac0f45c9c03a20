"""
The stand-ins fail the way the real images fail (tests/e2e/images/README.md cites the
real sources), and the deploy copes with or refuses what that exposes: passwords the
mysql 5.7 entrypoint cannot take, a healthcheck that must log in, Prisma 1.0's required
BUGSNAG_API_KEY and fixed schema name, its slow start, RS256 cluster tokens signed with the
key the deploy keeps, memory limits, and an architecture without the images.
"""

from __future__ import annotations

import base64
import json
import shlex
import time
import urllib.error
import urllib.request

import pytest
import yaml
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.e2e import harness
from tests.e2e.conftest import own_deployer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(stand_in_images, ssh_key, tmp_path_factory):
    with own_deployer(stand_in_images, ssh_key, tmp_path_factory) as deployer:
        result = deployer.run()
        assert result.returncode == 0, result.output
        compose = yaml.safe_load(deployer.host.exec("cat /opt/prisma/docker-compose.yml").stdout)
        deployer.compose = compose
        yield deployer


def run_container(stack, name: str, image: str, environment: dict[str, str], *command: str):
    """Run a container of a stand-in on the test host, on the stack's network; environment
    values travel in docker's environment, not in argv."""
    flags = " ".join(f"-e {key}" for key in environment)
    stack.host.exec(f"docker rm -f {name} >/dev/null 2>&1; true")
    stack.host.exec(
        f"docker run -d --name {name} --network prisma_prisma {flags} {image} "
        + " ".join(f"'{argument}'" for argument in command),
        environment=environment,
    )


def wait_exit(stack, name: str, seconds: float = 60) -> int | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = stack.host.exec(
            f"docker inspect -f '{{{{.State.Status}}}} {{{{.State.ExitCode}}}}' {name}"
        )
        status, code = state.stdout.split()
        if status == "exited":
            return int(code)
        time.sleep(0.5)
    return None


def logs(stack, name: str) -> str:
    result = stack.host.exec(f"docker logs {name}", check=False)
    return result.stdout + result.stderr


def database_command(stack) -> list[str]:
    return stack.compose["services"]["prisma-db"]["command"]


# --- mysql:5.7's entrypoint ---------------------------------------------------------


def initialise(stack, name: str, password: str, command: list[str]) -> int | None:
    stack.host.exec(f"docker rm -f {name} >/dev/null 2>&1; docker volume rm -f {name} >/dev/null")
    flags = f"-v {name}:/var/lib/mysql -e MYSQL_ROOT_PASSWORD -e MYSQL_DATABASE=graphcool"
    stack.host.exec(
        f"docker run -d --name {name} {flags} {stack.data['prisma_db_image']} "
        + " ".join(f"'{argument}'" for argument in command),
        environment={"MYSQL_ROOT_PASSWORD": password},
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        text = logs(stack, name)
        if "ready for connections" in text and "init process done" in text:
            return 0
        code = wait_exit(stack, name, seconds=1)
        if code is not None:
            return code
    return None


def test_a_quote_in_the_password_leaves_a_half_initialised_volume(stack):
    """IDENTIFIED BY '${MYSQL_ROOT_PASSWORD}': the quote ends the string."""
    assert initialise(stack, "init-quote", "it's-a-long-password", database_command(stack)) == 1
    assert "error in your SQL syntax" in logs(stack, "init-quote")
    # The data directory is there: the next start skips initialisation for good.
    stack.host.exec("docker start init-quote")
    time.sleep(5)
    assert logs(stack, "init-quote").count("Initializing database files") == 1
    login = stack.host.exec(
        "docker exec -e MYSQL_PWD init-quote mysql -h127.0.0.1 -uroot -e 'SELECT 1'",
        check=False,
        environment={"MYSQL_PWD": "it's-a-long-password"},
    )
    assert login.returncode != 0


def test_the_seeds_sql_mode_applies_while_the_accounts_are_made(stack):
    """The temporary server runs with the user's arguments: under the seed's
    NO_BACKSLASH_ESCAPES the SQL keeps `\\\\` as two characters while the option file
    the later steps log in with reads one, so that login fails; without the seed's
    --sql-mode the same password works."""
    password = "back\\\\slash-password"
    assert initialise(stack, "init-backslash", password, database_command(stack)) == 1
    assert "Access denied for user 'root'@'localhost'" in logs(stack, "init-backslash")
    assert initialise(stack, "init-plain", password, ["mysqld"]) == 0


def test_the_deploy_refuses_such_a_password_before_the_host_changes(stack):
    env_before = stack.host.exec("sha256sum /opt/prisma/.env").stdout
    for password in ("it's-a-long-password", "back\\slash-password", 'dou"ble-password'):
        refused = stack.run(flags=("-y",), environment={"PRISMA_DB_PASSWORD": password})
        assert refused.returncode != 0
        assert "must be a password without ', \", \\ or control characters" in refused.output
        assert password not in refused.output
    assert stack.host.exec("sha256sum /opt/prisma/.env").stdout == env_before


def test_mysqladmin_ping_passes_a_wrong_password_and_the_healthcheck_does_not(stack):
    ping = "mysqladmin ping --host=127.0.0.1 --user=root --silent"
    wrong = {"MYSQL_PWD": "not-the-password"}
    # Positive control: the check the healthcheck replaced calls this database healthy.
    assert (
        stack.host.exec(f"docker exec -e MYSQL_PWD prisma-db {ping}", environment=wrong).returncode
        == 0
    )
    (_, healthcheck) = stack.compose["services"]["prisma-db"]["healthcheck"]["test"]
    healthcheck = healthcheck.replace("$$", "$")
    run = "docker exec -e MYSQL_ROOT_PASSWORD -e MYSQL_DATABASE=graphcool prisma-db sh -c"
    quoted = "'" + healthcheck.replace("'", "'\\''") + "'"
    bad = stack.host.exec(
        f"{run} {quoted}", check=False, environment={"MYSQL_ROOT_PASSWORD": "not-the-password"}
    )
    good = stack.host.exec(
        f"{run} {quoted}",
        check=False,
        environment={"MYSQL_ROOT_PASSWORD": stack.secret("db_password")},
    )
    assert bad.returncode != 0
    assert good.returncode == 0
    state = stack.host.exec("docker inspect -f '{{.State.Health.Status}}' prisma-db").stdout
    assert state.strip() == "healthy"


# --- prismagraphql/prisma:1.0 --------------------------------------------------------


def server_environment(stack) -> dict[str, str]:
    inspected = stack.host.exec(
        "docker inspect --format '{{json .Config.Env}}' prisma-prisma-database-1"
    ).stdout
    names = set(stack.compose["services"]["prisma-database"]["environment"])
    return {
        key: value
        for key, value in (item.split("=", 1) for item in json.loads(inspected))
        if key in names
    }


def test_the_server_prints_its_own_start_line(stack):
    assert "Server running on :4466" in logs(stack, "prisma-prisma-database-1")


def test_without_bugsnag_api_key_the_server_dies_at_start(stack):
    environment = server_environment(stack)
    assert environment.pop("BUGSNAG_API_KEY") == ""  # present, empty: what 1.0 needs
    run_container(stack, "no-bugsnag", stack.data["prisma_image"], environment)
    assert wait_exit(stack, "no-bugsnag") == 1
    assert "key not found: BUGSNAG_API_KEY" in logs(stack, "no-bugsnag")


def test_another_internal_database_name_stops_the_server(stack):
    environment = {**server_environment(stack), "SQL_INTERNAL_DATABASE": "prisma"}
    stack.mysql("CREATE DATABASE IF NOT EXISTS prisma;")  # as MYSQL_DATABASE=prisma would
    run_container(stack, "other-schema", stack.data["prisma_image"], environment)
    assert wait_exit(stack, "other-schema") == 255
    assert "Fatal error during deployment worker initialization" in logs(stack, "other-schema")
    # It made its tables in `graphcool` whatever the variable said.
    assert "Migration" in stack.mysql("SHOW TABLES IN graphcool;").split()


def test_containers_get_the_memory_limits_the_settings_give(stack):
    limits = stack.host.exec(
        "docker inspect -f '{{.HostConfig.Memory}}' prisma-db prisma-prisma-database-1"
    ).stdout.split()
    assert limits == [str(512 * 1024**2), str((1024 + 256) * 1024**2)]


def jwt_rs256(private_key, claims: dict) -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = part(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    body = part(json.dumps(claims).encode())
    signature = private_key.sign(f"{header}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{body}.{part(signature)}"


def cluster_request(stack, query: str, token: str | None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        stack.host.url(4466, "/cluster"),
        data=json.dumps({"query": query}).encode(),
        headers=headers,
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def status_of(stack, path: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(stack.host.url(4466, path), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_kept_cluster_key_signs_tokens_the_server_accepts(stack):
    entry_file = stack.secrets_dir / stack.host.address / "prisma-cluster.yml"
    assert oct(entry_file.stat().st_mode & 0o777) == "0o600"
    (entry,) = yaml.safe_load(entry_file.read_text())["clusters"].values()
    assert entry["host"] == "http://127.0.0.1:4466"
    assert entry["clusterSecret"] == stack.secret("cluster_private_key.pem")
    kept = serialization.load_pem_private_key(entry["clusterSecret"].encode(), None)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # What the 1.0 CLI signs: every service and stage, for ten minutes.
    claims = {"grants": [{"target": "*/*", "action": "*"}], "exp": int(time.time()) + 600}
    query = "{ listProjects { name } }"

    accepted = cluster_request(stack, query, jwt_rs256(kept, claims))
    assert accepted == {"data": {"listProjects": []}}
    for token in (jwt_rs256(other, claims), None, stack.secret("schema_manager_secret")):
        refused = cluster_request(stack, query, token)
        assert refused["errors"][0]["code"] == 3015, refused
    expired = cluster_request(stack, query, jwt_rs256(kept, {**claims, "exp": 1}))
    assert expired["errors"][0]["code"] == 3016
    # The management secret guards GET /cluster/schema/<project> only; no /management.
    secret = {"Authorization": f"Bearer {stack.secret('schema_manager_secret')}"}
    assert status_of(stack, "/cluster/schema/nothing@here", secret) == 400
    assert status_of(stack, "/cluster/schema/nothing@here", {}) == 401
    assert status_of(stack, "/management", secret) == 404


def test_a_host_of_another_architecture_is_refused_before_it_changes(stack):
    """dpkg's database says its own package is arm64, as on an arm64 droplet (dpkg's
    architecture is the host's): mysql:5.7 and prisma:1.0 have no such image (the deploy
    names them, so the test asks for the default image names)."""
    status = "/var/lib/dpkg/status"
    arm64 = "s/^Architecture: amd64$/Architecture: arm64/m if /^Package: dpkg$/m"
    stack.host.exec(
        f"cp -p {status} {status}.real && perl -00 -pi -e {shlex.quote(arm64)} {status}"
    )
    try:
        # The control: dpkg's database now says arm64.
        query = "dpkg-query -W -f='${Architecture}' dpkg"
        assert stack.host.exec(query).stdout.strip() == "arm64"
        env_before = stack.host.exec("sha256sum /opt/prisma/.env").stdout
        refused = stack.run(flags=("-y",), prisma_db_image="mysql:5.7")
        assert refused.returncode != 0
        assert "'prisma_db_image' is mysql:5.7, which exists for amd64 only" in refused.output
        assert "this host is arm64" in refused.output
        assert stack.host.exec("sha256sum /opt/prisma/.env").stdout == env_before
    finally:
        stack.host.exec(f"mv {status}.real {status}")


def test_a_push_leaves_no_reference_in_this_engine(stack, stand_in_images):
    """Each test host's registry has a port of its own: the tag a push needs and the
    digest the push gives it are removed after it, or every run of the suite and of the
    bench would leave them in this engine's image list."""
    repository = f"127.0.0.1:{stack.host.registry_port}/prisma"
    # The control: a reference made here by hand is listed, then forgotten.
    harness.docker("tag", stand_in_images.prisma, f"{repository}:control")
    assert harness.references_of(repository) == [f"{repository}:control"]
    harness.forget_references(repository)
    assert harness.references_of(repository) == []
    stack.host.push(stand_in_images.prisma, "prisma:1.0")  # the image the stack runs
    assert harness.references_of(repository) == []
    assert harness.image_exists(stand_in_images.prisma)


def mebibytes(size: str) -> float:
    units = {"B": 1 / 1024**2, "KiB": 1 / 1024, "MiB": 1, "GiB": 1024}
    for unit in sorted(units, key=len, reverse=True):
        if size.strip().endswith(unit):
            return float(size.strip()[: -len(unit)]) * units[unit]
    raise ValueError(size)


def test_the_deploy_waits_for_a_server_as_slow_as_the_real_one(stack, stand_in_images):
    """The realistic double: the real server's start time (about 20 s) and memory."""
    realistic = stack.host.push(stand_in_images.prisma_realistic, "prisma:1.0-real")
    started = time.monotonic()
    result = stack.run(prisma_image=realistic)
    took = time.monotonic() - started
    assert result.returncode == 0, result.output
    assert took >= 20
    assert "Deploy the Prisma stack | Wait until Prisma answers GET /status" in (
        result.changed_operations
    )
    usage = stack.host.exec(
        "docker stats --no-stream --format '{{.MemUsage}}' prisma-prisma-database-1"
    ).stdout  # e.g. "612.3MiB / 1.25GiB"
    used, _, limit = usage.partition(" / ")
    assert mebibytes(used) >= 600, usage
    assert mebibytes(limit) == 1280, usage
    stack.data["prisma_image"] = realistic
    assert stack.run().total_changes == 0
