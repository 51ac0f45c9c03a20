"""Exact strings of the pure command builders (read by people reviewing a change: a
builder's output is the contract with the host's shell)."""

from __future__ import annotations

import shlex

from tasks.backups.commands import backup_command, backup_script, restore_command
from tasks.host.probes import host_read
from tasks.images.commands import retag_commands, write_record_command
from tasks.reports.commands import status_report
from tasks.stack import commands
from tasks.stack.layout import StackPaths

P = StackPaths("/opt/prisma", "prisma")
UNSET = (
    "env -u PORT -u SCHEMA_MANAGER_SECRET -u SCHEMA_MANAGER_ENDPOINT -u SQL_CLIENT_HOST "
    "-u SQL_CLIENT_PORT -u SQL_CLIENT_USER -u SQL_CLIENT_PASSWORD -u SQL_CLIENT_CONNECTION_LIMIT "
    "-u SQL_INTERNAL_HOST -u SQL_INTERNAL_PORT -u SQL_INTERNAL_USER -u SQL_INTERNAL_PASSWORD "
    "-u SQL_INTERNAL_DATABASE -u SQL_INTERNAL_CONNECTION_LIMIT -u CLUSTER_ADDRESS "
    "-u CLUSTER_PUBLIC_KEY"
)
COMPOSE = (
    f"{UNSET} docker compose --project-name prisma --file /opt/prisma/docker-compose.yml "
    "--env-file /opt/prisma/.env"
)
URL = "http://127.0.0.1:4466/status"


def test_compose_logs():
    assert commands.compose_logs(P, 40) == (
        f"{COMPOSE} logs --no-color --timestamps --tail 40 prisma-db prisma-database"
    )


def test_compose_up_records_what_it_converged_to():
    assert commands.compose_up(P) == (
        f"{COMPOSE} up --detach --remove-orphans --quiet-pull && "
        f"{{ {COMPOSE} config --hash '*' | sed 's/^/hash /'; "
        "sha256sum /opt/prisma/docker-compose.yml /opt/prisma/.env | sed 's/^/recorded /'; } "
        "> /opt/prisma/.compose-hashes.new "
        "&& mv /opt/prisma/.compose-hashes.new /opt/prisma/.compose-hashes"
    )


def test_http_answer_and_wait_for_ok():
    assert commands.http_answer(URL) == (
        "curl --silent --max-time 5 --write-out ' (HTTP %{http_code})' "
        "http://127.0.0.1:4466/status 2>/dev/null || true"
    )
    assert commands.wait_for_ok("http://h/status", 30) == (
        'deadline=$(( $(date +%s) + 30 )); while [ "$(date +%s)" -lt "$deadline" ]; do '
        '[ "$(curl --silent --max-time 5 http://h/status 2>/dev/null)" = OK ] && exit 0; '
        "sleep 0.5; done; exit 1"
    )


def test_database_login_reads_the_password_from_a_file_and_removes_it():
    assert commands.database_login("/tmp/x y") == (
        "docker exec -i prisma-db sh -c "
        '\'MYSQL_PWD="$(cat)" exec mysql --user=root --batch --skip-column-names '
        "-e \"SELECT 1\"' < '/tmp/x y'; status=$?; rm -f '/tmp/x y'; exit $status"
    )


def test_status_report_reads_chosen_fields_only():
    project = "%7B%22label%22%3A%5B%22com.docker.compose.project%3Dprisma%22%5D%7D"
    urls = [f"http://localhost/containers/json?all=1&filters={project}",
            "http://localhost/images/json"]  # fmt: skip
    # Of each inspection (which holds the environment, secrets included) only these
    # fields leave the host.
    fields = '"(StartedAt|Image)":"[^"]*"|"Health":\\{"Status":"[^"]*"'
    assert status_report(P, URL) == f"{host_read(urls, URL, inspect_fields=fields)}; true"
    assert status_report(P, URL).endswith(f"{shlex.quote('inspect=' + fields)}; true")


def test_the_upgrade_record_and_the_retags():
    assert write_record_command(P, ["a b", "c"]) == (
        "printf '%s\\n' 'a b' c > /opt/prisma/.previous-images"
    )
    recorded = {"s": ("sha256:1", "r:1", "r@sha256:2"), "t": ("sha256:3", "q:1", "")}
    assert retag_commands(recorded, ["s", "t", "u"]) == [
        "docker image inspect sha256:1 >/dev/null 2>&1 || docker pull --quiet r@sha256:2 "
        ">/dev/null && docker tag sha256:1 r:1",
        "docker image inspect sha256:3 >/dev/null 2>&1 && docker tag sha256:3 q:1",
    ]


def test_backup_and_restore_commands():
    script = backup_script(P, 7)
    assert backup_command(P, 7) == f"bash -c {shlex.quote(script)}"
    assert "ls -1t /opt/prisma/backups/prisma-*.sql.gz | tail -n +8 |" in script
    assert "grep -Ev '^(mysql|sys|information_schema|performance_schema)$'" in script
    assert restore_command("/opt/prisma/backups/restore-x.sql.gz", "ab12") == "bash -c " + (
        shlex.quote(
            "\nset -euo pipefail\n"
            "echo ab12  /opt/prisma/backups/restore-x.sql.gz | sha256sum --check --quiet\n"
            "gunzip -c /opt/prisma/backups/restore-x.sql.gz | docker exec -i prisma-db sh -c "
            "'MYSQL_PWD=\"$MYSQL_ROOT_PASSWORD\" exec mysql -uroot'\n"
        )
    )
