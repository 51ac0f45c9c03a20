"""The .env rendering and the pure command builders."""

from __future__ import annotations

import json

from pyinfra.api import HiddenValue

from tasks.host.probes import parse_http_status
from tasks.secrets.resolve import StackSecrets
from tasks.settings import load_settings
from tasks.stack import commands
from tasks.stack.envfile import ENV_KEYS, env_values, quote_env_value, render_env
from tasks.stack.facts import ContainerState, compose_project_probe, parse_compose_project
from tasks.stack.layout import StackPaths

SECRETS = StackSecrets(
    db_password=HiddenValue("db pass $x"),
    schema_manager_secret=HiddenValue("sms"),
    cluster_public_key=HiddenValue("-----BEGIN PUBLIC KEY-----\nAAA\n-----END PUBLIC KEY-----\n"),
)


def test_env_has_the_seeds_contract_in_order():
    values = env_values(load_settings("h", {}), SECRETS)
    assert tuple(values) == ENV_KEYS
    assert values["PORT"] == "4466"
    assert values["SCHEMA_MANAGER_ENDPOINT"] == "http://prisma-database:4466/cluster/schema"
    assert values["CLUSTER_ADDRESS"] == "http://prisma-database:4466"
    assert values["SQL_CLIENT_HOST"] == values["SQL_INTERNAL_HOST"] == "prisma-db"
    assert values["SQL_CLIENT_USER"] == values["SQL_INTERNAL_USER"] == "root"
    assert values["SQL_CLIENT_PASSWORD"] == values["SQL_INTERNAL_PASSWORD"] == "db pass $x"
    assert values["SQL_INTERNAL_DATABASE"] == "graphcool"
    assert values["SQL_CLIENT_CONNECTION_LIMIT"] == values["SQL_INTERNAL_CONNECTION_LIMIT"] == "10"


def test_values_are_escaped_for_composes_dotenv():
    assert quote_env_value("plain") == '"plain"'
    assert quote_env_value('a$b"c\\d') == '"a\\$b\\"c\\\\d"'
    assert quote_env_value("line1\nline2\r") == '"line1\\nline2\\r"'
    assert quote_env_value("# = ' spaces ") == '"# = \' spaces "'


def test_rendered_env_is_one_line_per_variable():
    rendered = render_env(env_values(load_settings("h", {}), SECRETS))
    variable_lines = [line for line in rendered.splitlines() if not line.startswith("#")]
    assert [line.split("=", 1)[0] for line in variable_lines] == list(ENV_KEYS)
    assert 'SQL_CLIENT_PASSWORD="db pass \\$x"' in variable_lines


def test_compose_drops_env_file_variables_from_the_callers_environment():
    command = commands.compose(StackPaths("/srv/p", "proj"), "ps")
    assert command == (
        "env " + " ".join(f"-u {key}" for key in ENV_KEYS) + " docker compose "
        "--project-name proj --file /srv/p/docker-compose.yml --env-file /srv/p/.env ps"
    )


def test_compose_project_is_read_in_one_command():
    command = compose_project_probe(StackPaths("/opt/prisma", "prisma"))
    # Whether Compose is asked, by the record: see tests/unit/host/test_probes_run.py.
    assert "config --hash '*'" in command
    assert "filters=%7B%22label%22%3A%5B%22com.docker.compose.project%3Dprisma%22%5D%7D" in command
    assert command.startswith("perl -e ") and "'/var/run/docker.sock' " not in command
    assert " /var/run/docker.sock 'http://localhost/containers/json?" in command
    assert "config --format" not in command  # would print the environment, secrets included


def test_compose_project_output_is_parsed():
    containers = [
        {
            "State": "running",
            "Status": "Up 2 minutes (healthy)",
            "ImageID": "sha256:1",
            "Labels": {
                "com.docker.compose.service": "prisma-db",
                "com.docker.compose.config-hash": "abc",
            },
        },
        {
            "State": "exited",
            "Status": "Exited (1) 3 seconds ago",
            "ImageID": "sha256:2",
            "Labels": {
                "com.docker.compose.service": "prisma-database",
                "com.docker.compose.config-hash": "def",
            },
        },
    ]
    images = [
        {"Id": "sha256:1", "RepoTags": ["mysql:5.7"], "RepoDigests": ["mysql@sha256:9"]},
        {"Id": "sha256:2", "RepoTags": ["127.0.0.1:5000/prisma:1.0"], "RepoDigests": None},
        {"Id": "sha256:3", "RepoTags": ["<none>:<none>"], "RepoDigests": []},
    ]
    state = parse_compose_project(
        [
            json.dumps(containers),
            "answered http://localhost/containers/json?all=1&filters=x",
            json.dumps(images),
            "answered http://localhost/images/json",
            "hash prisma-db abc",
            "hash prisma-database def",
        ]
    )
    assert state.desired_hashes == {"prisma-db": "abc", "prisma-database": "def"}
    assert state.containers_of("prisma-db") == [
        ContainerState("prisma-db", "running", "abc", "sha256:1", "healthy")
    ]
    assert state.containers_of("prisma-database") == [
        ContainerState("prisma-database", "exited", "def", "sha256:2", "-")
    ]
    assert state.image_id("mysql:5.7") == "sha256:1"
    assert state.image_id("docker.io/library/mysql:5.7") == "sha256:1"
    assert state.image_id("mysql@sha256:9") == "sha256:1"
    assert state.image_id("127.0.0.1:5000/prisma:1.0") == "sha256:2"
    assert state.image_id("prismagraphql/prisma:1.0") == ""
    assert parse_http_status(["OK", "answered status"]) == "OK"


def test_an_unreachable_docker_api_reads_as_no_containers():
    unanswered = ["", "answered http://localhost/containers/json?all=1", "", "answered x"]
    assert parse_compose_project(unanswered).containers == ()
    assert parse_http_status(["", "answered status"]) == ""


def test_wait_for_ok_is_bounded():
    command = commands.wait_for_ok("http://127.0.0.1:4466/status", 90)
    assert command.startswith("deadline=$(( $(date +%s) + 90 ));")
    assert "= OK ] && exit 0" in command
    assert command.endswith("exit 1")
