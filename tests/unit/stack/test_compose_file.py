"""docker-compose.yml made from files/docker-compose.yml and the settings, as data:
faithful to the seed, safer, and no value can change its structure."""

from __future__ import annotations

from dataclasses import replace

import yaml

from tasks.settings import load_settings
from tasks.stack.compose_file import BASE_FILE, compose_document, render_compose_file
from tasks.stack.envfile import ENV_KEYS
from tasks.yaml_text import load_yaml

SEED_SQL_MODE = (
    "ALLOW_INVALID_DATES,ANSI_QUOTES,ERROR_FOR_DIVISION_BY_ZERO,HIGH_NOT_PRECEDENCE,"
    "IGNORE_SPACE,NO_AUTO_CREATE_USER,NO_AUTO_VALUE_ON_ZERO,NO_BACKSLASH_ESCAPES,"
    "NO_DIR_IN_CREATE,NO_ENGINE_SUBSTITUTION,NO_FIELD_OPTIONS,NO_KEY_OPTIONS,NO_TABLE_OPTIONS,"
    "NO_UNSIGNED_SUBTRACTION,NO_ZERO_DATE,NO_ZERO_IN_DATE,ONLY_FULL_GROUP_BY,PIPES_AS_CONCAT,"
    "REAL_AS_FLOAT,STRICT_ALL_TABLES,STRICT_TRANS_TABLES,ANSI,DB2,MAXDB,MSSQL,MYSQL323,MYSQL40,"
    "ORACLE,POSTGRESQL,TRADITIONAL"
)


def rendered(**data) -> dict:
    return yaml.safe_load(render_compose_file(load_settings("h", data)))


def test_defaults_are_the_seeds_stack():
    compose = rendered()
    database, prisma = compose["services"]["prisma-db"], compose["services"]["prisma-database"]
    assert database["image"] == "mysql:5.7"
    assert database["container_name"] == "prisma-db"
    assert database["restart"] == prisma["restart"] == "always"
    assert database["command"] == [
        "mysqld",
        "--max-connections=1000",
        f"--sql-mode={SEED_SQL_MODE}",
    ]
    assert database["volumes"] == ["db-persistence:/var/lib/mysql"]
    assert database["environment"] == {
        "MYSQL_ROOT_PASSWORD": "${SQL_INTERNAL_PASSWORD}",
        "MYSQL_DATABASE": "${SQL_INTERNAL_DATABASE}",
    }
    assert prisma["image"] == "prismagraphql/prisma:1.0"
    assert prisma["ports"] == ["0.0.0.0:4466:4466"]
    assert prisma["environment"]["JAVA_OPTS"] == "-Xmx1G"
    assert prisma["environment"]["SQL_CLIENT_HOST_CLIENT1"] == "${SQL_CLIENT_HOST}"
    for key in ENV_KEYS:
        assert prisma["environment"][key] == f"${{{key}}}"
    assert compose["networks"] == {"prisma": {"driver": "bridge"}}
    assert compose["volumes"] == {"db-persistence": None}


def test_the_database_port_is_published_only_on_request_and_only_on_loopback():
    assert "ports" not in rendered()["services"]["prisma-db"]
    debug = rendered(prisma_db_debug_port=3366)["services"]["prisma-db"]
    assert debug["ports"] == ["127.0.0.1:3366:3306"]


def test_settings_reach_the_file():
    compose = rendered(
        prisma_image="registry.example:5000/prisma:1.1",
        prisma_db_image="registry.example:5000/mysql:5.7",
        prisma_port=8080,
        prisma_bind_address="::1",
        prisma_java_heap="512m",
        prisma_db_max_connections=200,
    )
    database, prisma = compose["services"]["prisma-db"], compose["services"]["prisma-database"]
    assert prisma["image"] == "registry.example:5000/prisma:1.1"
    assert database["image"] == "registry.example:5000/mysql:5.7"
    assert prisma["ports"] == ["[::1]:8080:8080"]
    assert prisma["environment"]["JAVA_OPTS"] == "-Xmx512m"
    assert database["command"][:2] == ["mysqld", "--max-connections=200"]


def test_no_secret_and_no_version_key_in_the_file():
    text = render_compose_file(load_settings("h", {"prisma_db_password": "hunter2-hunter2"}))
    assert "hunter2" not in text
    assert "version:" not in text


# A value that adds a key to the service when pasted into a text template.
INJECTION = 'x"\n    privileged: true\n    image: "y'


def test_no_value_can_change_the_documents_structure():
    # Bypasses validation on purpose: the renderer itself must hold whatever it is given.
    # (Not the heap: the renderer computes the memory limit from it, so it must be a size.)
    settings = replace(
        load_settings("h", {}),
        prisma_image=INJECTION,
        prisma_db_image=INJECTION,
        prisma_bind_address=INJECTION,
    )
    compose = yaml.safe_load(render_compose_file(settings))
    database, prisma = compose["services"]["prisma-db"], compose["services"]["prisma-database"]
    assert set(compose) == {"services", "networks", "volumes"}
    assert set(compose["services"]) == {"prisma-db", "prisma-database"}
    assert "privileged" not in database and "privileged" not in prisma
    assert database["image"] == prisma["image"] == INJECTION
    (published,) = prisma["ports"]
    assert published.endswith(":4466:4466") and INJECTION in published


def test_the_injection_value_would_inject_under_text_templating():
    """Positive control: pasted into the old template's line, the value adds a key."""
    line = f'services:\n  prisma-database:\n    image: "{INJECTION}"\n'
    assert yaml.safe_load(line)["services"]["prisma-database"].get("privileged") is True


def test_a_dollar_in_a_value_reaches_compose_as_itself():
    settings = replace(load_settings("h", {}), prisma_image="registry/prisma:${PORT}")
    compose = yaml.safe_load(render_compose_file(settings))
    # Compose reads $$ as one literal $: the value is not interpolated.
    assert compose["services"]["prisma-database"]["image"] == "registry/prisma:$${PORT}"


def test_the_base_parsed_once_serves_every_host_unchanged():
    # The base file is parsed once per run: no host's settings may reach another's file.
    proxied = load_settings("a", {"prisma_domain": "p.example.com", "prisma_db_debug_port": 3366})
    plain = load_settings("b", {"prisma_image": "prismagraphql/prisma:1.1"})
    first = compose_document(proxied)
    first["services"]["prisma-db"]["command"].append("--changed-by-the-caller")
    first["services"]["prisma-database"]["environment"]["PORT"] = "changed"
    second = compose_document(plain)
    assert (
        "prisma-proxy" not in second["services"] and "ports" not in second["services"]["prisma-db"]
    )
    assert second["services"]["prisma-db"]["command"][-1].startswith("--sql-mode=")
    assert second["services"]["prisma-database"]["environment"]["PORT"] == "${PORT}"
    assert compose_document(plain) == second
    base = load_yaml(BASE_FILE.read_text())
    assert set(second["services"]) == set(base["services"])
    assert set(second["volumes"]) == set(base["volumes"])
