"""
deploy.py end to end on a fresh Debian 13 host over SSH: install, converge, repair drift,
stay silent about secrets. The tests of this module share one host and run in order,
each leaving it converged for the next.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks.stack.envfile import ENV_KEYS
from tasks.stack.facts import COMPOSE_ASKED, compose_hashes_probe
from tasks.stack.layout import StackPaths

pytestmark = pytest.mark.e2e

UPLOAD = (
    "Deploy the Prisma stack | Upload the stack: docker-compose.yml and .env (0600) "
    "in a 0700 directory"
)
CONVERGE = "Deploy the Prisma stack | Converge the stack (compose up only where it differs)"
WAIT = "Deploy the Prisma stack | Wait until Prisma answers GET /status"


def file_digest(host, path: str) -> str:
    return host.exec(f"sha256sum {path}").stdout.split()[0]


def status_body(host) -> str:
    with urllib.request.urlopen(host.url(4466, "/status"), timeout=10) as response:
        return response.read().decode()


def container_env(host, service: str) -> dict[str, str]:
    inspected = host.exec(
        "docker inspect --format '{{json .Config.Env}}' "
        f"$(docker ps -q --filter label=com.docker.compose.service={service})"
    ).stdout
    return dict(item.split("=", 1) for item in json.loads(inspected))


def service_states(host) -> dict[str, str]:
    lines = host.exec(
        "docker ps -a --filter label=com.docker.compose.project=prisma "
        "--format '{{.Label \"com.docker.compose.service\"}} {{.State}}'"
    ).stdout.split("\n")
    return dict(line.split() for line in lines if line.strip())


@pytest.fixture(scope="module")
def first_run(deployer):
    result = deployer.run()
    assert result.returncode == 0, result.output
    return result


def test_fresh_host_gets_docker_and_a_healthy_stack(deployer, first_run):
    host = deployer.host
    assert host.exec("systemctl is-enabled docker").stdout.strip() == "enabled"
    assert host.exec("systemctl is-active docker").stdout.strip() == "active"
    assert host.exec("docker compose version --short").stdout.startswith("2.")
    assert service_states(host) == {"prisma-db": "running", "prisma-database": "running"}
    assert status_body(host) == "OK"

    daemon = json.loads(host.exec("cat /etc/docker/daemon.json").stdout)
    assert daemon["log-driver"] == "json-file"
    assert daemon["log-opts"] == {"max-size": "10m", "max-file": "3"}
    assert daemon["live-restore"] is True
    # daemon.json was there before the packages started Docker: no restart for it.
    steps = [name.split(" | ")[-1] for name in first_run.changed_operations]
    assert "Write /etc/docker/daemon.json" in steps
    assert "Restart Docker for the new daemon.json" not in steps


def test_prisma_reaches_the_database_with_the_generated_credentials(deployer, first_run):
    env = container_env(deployer.host, "prisma-database")
    password = deployer.secret("db_password")
    assert len(password) >= 32
    assert env["SQL_CLIENT_PASSWORD"] == password
    assert env["SQL_INTERNAL_PASSWORD"] == password
    assert env["SCHEMA_MANAGER_SECRET"] == deployer.secret("schema_manager_secret")
    assert env["CLUSTER_PUBLIC_KEY"] == deployer.secret("cluster_public_key.pem")
    assert env["SQL_CLIENT_HOST"] == "prisma-db"
    assert env["JAVA_OPTS"] == "-Xmx1G"
    # The double records each start in the internal database, proving it logged in.
    started = deployer.mysql("SELECT COUNT(*) FROM graphcool.DoubleConnection;")
    assert int(started) >= 1


def test_stack_files_and_local_secrets_are_private(deployer, first_run):
    modes = deployer.host.exec("stat -c '%a %U %G' /opt/prisma /opt/prisma/.env").stdout
    assert modes.split("\n")[:2] == ["700 root root", "600 root root"]
    host_store = deployer.secrets_dir / deployer.host.address
    assert oct(host_store.stat().st_mode & 0o777) == "0o700"
    for stored in host_store.iterdir():
        assert oct(stored.stat().st_mode & 0o777) == "0o600", stored


def test_second_run_changes_nothing(deployer, first_run):
    result = deployer.run()
    assert result.returncode == 0, result.output
    assert result.changed_operations == []
    assert result.total_changes == 0


def test_removed_database_container_is_recreated_and_keeps_data(deployer, first_run):
    host = deployer.host
    deployer.mysql(
        "CREATE TABLE graphcool.Kept (id INT PRIMARY KEY); INSERT INTO graphcool.Kept VALUES (7);"
    )
    prisma_before = deployer.container_id("prisma-database")
    host.exec("docker rm -f prisma-db")

    result = deployer.run()

    assert result.returncode == 0, result.output
    assert CONVERGE in result.changed_operations
    assert set(result.changed_operations) <= {CONVERGE, WAIT}
    assert deployer.container_id("prisma-database") == prisma_before
    assert service_states(host) == {"prisma-db": "running", "prisma-database": "running"}
    assert deployer.mysql("SELECT id FROM graphcool.Kept;").strip() == "7"
    assert status_body(host) == "OK"


def test_stopped_server_is_started_again(deployer, first_run):
    database_before = deployer.container_id("prisma-db")
    deployer.host.exec("docker stop prisma-prisma-database-1")

    result = deployer.run()

    assert result.returncode == 0, result.output
    assert CONVERGE in result.changed_operations
    assert deployer.container_id("prisma-db") == database_before
    assert service_states(deployer.host)["prisma-database"] == "running"
    assert status_body(deployer.host) == "OK"


def test_changed_setting_recreates_only_the_service_that_uses_it(deployer, first_run):
    database_before = deployer.container_id("prisma-db")
    prisma_before = deployer.container_id("prisma-database")
    env_before = file_digest(deployer.host, "/opt/prisma/.env")
    compose_before = file_digest(deployer.host, "/opt/prisma/docker-compose.yml")
    deployer.data["prisma_java_heap"] = "512m"

    result = deployer.run()

    assert result.returncode == 0, result.output
    assert UPLOAD in result.changed_operations
    assert file_digest(deployer.host, "/opt/prisma/.env") == env_before
    assert file_digest(deployer.host, "/opt/prisma/docker-compose.yml") != compose_before
    assert deployer.container_id("prisma-db") == database_before
    assert deployer.container_id("prisma-database") != prisma_before
    assert container_env(deployer.host, "prisma-database")["JAVA_OPTS"] == "-Xmx512m"
    assert deployer.run().total_changes == 0


def started_at(host) -> dict[str, str]:
    lines = host.exec(
        "docker ps --filter label=com.docker.compose.project=prisma "
        "--format '{{.Names}}' | xargs docker inspect --format '{{.Name}} {{.State.StartedAt}}'"
    ).stdout.splitlines()
    return dict(line.split() for line in lines)


def dockerd_pid(host) -> str:
    return host.exec("systemctl show --property MainPID --value docker").stdout.strip()


@pytest.mark.parametrize(
    ("data", "how"),
    [
        ({"docker_daemon_options": {"debug": True}}, "Reload"),  # dockerd re-reads it
        ({"docker_log_max_size": "20m"}, "Restart"),  # only a restart applies it
    ],
)
def test_a_daemon_json_change_never_stops_the_containers(deployer, first_run, data, how):
    before, pid_before = started_at(deployer.host), dockerd_pid(deployer.host)
    deployer.data.update(data)
    result = deployer.run()
    assert result.returncode == 0, result.output
    changed = [name.split(" | ")[-1] for name in result.changed_operations]
    assert [name for name in changed if "Docker for the new daemon.json" in name] == [
        f"{how} Docker for the new daemon.json"
        + (" (options it re-reads)" if how == "Reload" else "")
    ]
    assert (dockerd_pid(deployer.host) == pid_before) == (how == "Reload")
    assert started_at(deployer.host) == before  # live-restore: the containers kept running
    assert deployer.run().total_changes == 0


def read_asks_compose(host) -> bool:
    """Whether the host's read of the stack's hashes asks `compose config` (the record
    does not match the files): compose_hashes_probe() as the ComposeProject fact runs
    it, with a sha256sum of its own; deploy.py's whole read runs the same check on the
    digests it took already."""
    probe = compose_hashes_probe(StackPaths("/opt/prisma", "prisma"))
    return COMPOSE_ASKED in host.exec(probe).stdout.split()


@pytest.mark.parametrize(
    "spoil",
    [
        "rm /opt/prisma/.compose-hashes",  # lost
        "sed -i 's/^recorded ./recorded x/' /opt/prisma/.compose-hashes",  # files' digests
    ],
)
def test_a_record_that_left_the_files_is_written_again_without_touching_a_container(
    deployer, first_run, spoil
):
    """Without a record that matches the files (lost, or written for other bytes of the
    same meaning), each read asks `docker compose config`: the deploy writes it again,
    and touches no container."""
    host = deployer.host
    record = host.exec("cat /opt/prisma/.compose-hashes").stdout
    before = started_at(host)
    assert not read_asks_compose(host)
    host.exec(spoil)
    assert read_asks_compose(host)  # the control: the read pays for Compose now

    result = deployer.run()

    assert result.returncode == 0, result.output
    assert result.changed_operations == [CONVERGE]
    assert host.exec("cat /opt/prisma/.compose-hashes").stdout == record
    assert not read_asks_compose(host)
    assert started_at(host) == before
    assert deployer.run().total_changes == 0


USER_SECRET = "s$e\"c'r#e t=\\x $HOME ${PORT} ü"


def management_status(host, secret: str) -> int:
    """GET /cluster/schema/<project>, the one route SCHEMA_MANAGER_SECRET guards in 1.0:
    401 with a wrong secret, 400 (no such project) with the right one."""
    # HTTP header values go out as latin-1 text: send the secret's UTF-8 bytes through it.
    header = f"Bearer {secret}".encode().decode("latin-1")
    request = urllib.request.Request(
        host.url(4466, "/cluster/schema/nothing@here"), headers={"Authorization": header}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_secret_from_the_environment_reaches_the_server_exactly(deployer, first_run):
    database_before = deployer.container_id("prisma-db")
    env_before = file_digest(deployer.host, "/opt/prisma/.env")

    result = deployer.run(environment={"PRISMA_SCHEMA_MANAGER_SECRET": USER_SECRET})

    assert result.returncode == 0, result.output
    assert UPLOAD in result.changed_operations
    assert file_digest(deployer.host, "/opt/prisma/.env") != env_before
    assert container_env(deployer.host, "prisma-database")["SCHEMA_MANAGER_SECRET"] == USER_SECRET
    assert management_status(deployer.host, USER_SECRET) == 400
    assert management_status(deployer.host, deployer.secret("schema_manager_secret")) == 401
    assert deployer.container_id("prisma-db") == database_before
    # The local store still holds the generated value: it was not overwritten.
    assert deployer.secret("schema_manager_secret") != USER_SECRET

    back = deployer.run()
    assert back.returncode == 0, back.output
    assert management_status(deployer.host, deployer.secret("schema_manager_secret")) == 400


def test_another_database_password_is_refused_before_anything_changes(deployer, first_run):
    env_before = file_digest(deployer.host, "/opt/prisma/.env")

    refused = deployer.run(flags=("-y",), environment={"PRISMA_DB_PASSWORD": "x" * 24})

    assert refused.returncode != 0
    assert "differs from the one the database was initialised with" in refused.output
    assert file_digest(deployer.host, "/opt/prisma/.env") == env_before
    assert status_body(deployer.host) == "OK"


def _mysql_greeting(port: int) -> bytes:
    """What a client connecting to 127.0.0.1:port receives first (a MySQL server greets)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
            connection.settimeout(5)
            return connection.recv(64)
    except (ConnectionError, TimeoutError, OSError):
        return b""


def test_database_port_is_not_reachable_from_outside_the_host(deployer, first_run):
    host = deployer.host
    # The test host's 3306 and 3366 (the seed's debug mapping) are published to this
    # machine; a listening MySQL would greet us through them.
    for port_in_host in (3306, 3366):
        assert _mysql_greeting(host.published[port_in_host]) == b""
    listening = host.exec("ss -Htln").stdout
    assert ":3306 " not in listening and ":3366 " not in listening
    assert host.exec("docker port prisma-db").stdout.strip() == ""


def test_no_secret_appears_in_any_output(deployer, first_run):
    verbose = deployer.run(flags=("-y", "-vvv"))
    assert verbose.returncode == 0, verbose.output
    dry = deployer.run(flags=("--dry", "--diff", "-vvv"))
    assert dry.returncode == 0, dry.output

    secrets = [
        USER_SECRET,
        deployer.secret("db_password"),
        deployer.secret("schema_manager_secret"),
        *deployer.secret("cluster_public_key.pem").splitlines()[1:-1],
        *deployer.secret("cluster_private_key.pem").splitlines()[1:-1],
    ]
    for run in deployer.runs:
        for secret in secrets:
            assert secret not in run.output


@pytest.fixture(scope="module")
def compose_scratch_dir(deployer, first_run):
    """The real rendered compose file in a scratch directory on the host."""
    from tasks.settings import load_settings
    from tasks.stack.compose_file import render_compose_file

    rendered = render_compose_file(load_settings("h", {}))
    deployer.host.exec(
        "mkdir -p /tmp/roundtrip && cat > /tmp/roundtrip/docker-compose.yml", input=rendered
    )
    return "/tmp/roundtrip"


# Any text an environment variable can hold: everything but NUL (and lone surrogates,
# which are not text).
ENV_TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)


def composes_literal(printed: str) -> str:
    """`compose config` prints a literal `$` as `$$` so its output stays a valid file."""
    return printed.replace("$$", "$")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.fixed_dictionaries({key: ENV_TEXT for key in ENV_KEYS}))
def test_any_value_reaches_the_containers_unchanged(deployer, compose_scratch_dir, values):
    """Property: .env rendering survives Compose's own parser and interpolation."""
    from tasks.stack.commands import compose
    from tasks.stack.envfile import render_env
    from tasks.stack.layout import StackPaths

    paths = StackPaths(compose_scratch_dir, "roundtrip")
    result = deployer.host.exec(
        f"cat > {paths.env_file} && {compose(paths, 'config --format json')}",
        input=render_env(values),
    )
    services = json.loads(result.stdout)["services"]
    prisma_env = services["prisma-database"]["environment"]
    for key in ENV_KEYS:
        assert composes_literal(prisma_env[key]) == values[key], key
    assert (
        composes_literal(services["prisma-db"]["environment"]["MYSQL_ROOT_PASSWORD"])
        == values["SQL_INTERNAL_PASSWORD"]
    )
