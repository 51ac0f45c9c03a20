"""Host data validation: every bad input names the setting and what it expects."""

from __future__ import annotations

import pytest

from tasks.settings import DEFAULTS, SETTINGS, SettingsError, load_settings


def test_defaults_follow_the_seed():
    settings = load_settings("h", {})
    assert settings.prisma_image == "prismagraphql/prisma:1.0"
    assert settings.prisma_db_image == "mysql:5.7"
    assert settings.prisma_port == 4466
    assert settings.prisma_java_heap == "1G"
    assert settings.prisma_sql_client_connection_limit == 10
    assert settings.prisma_sql_internal_connection_limit == 10
    assert settings.prisma_db_max_connections == 1000
    assert settings.prisma_db_name == "graphcool"
    assert settings.prisma_db_debug_port is None
    assert settings.docker_source == "official"


def test_every_setting_has_a_meaning_and_a_valid_default():
    for setting in SETTINGS:
        assert setting.meaning.strip(), setting.name
        setting.check(setting.default)
    assert set(DEFAULTS) == {setting.name for setting in SETTINGS}


def test_good_values_of_the_stricter_checks_pass():
    for directory in ("/opt/prisma", "/srv/prisma", "/var/lib/prisma", "/root/stack_1"):
        assert load_settings("h", {"prisma_stack_dir": directory}).prisma_stack_dir == directory
    for address in ("0.0.0.0", "::", "10.0.0.5", "fe80::1"):
        load_settings("h", {"prisma_bind_address": address})
    options = {"log-level": "warn", "live-restore": True}
    assert load_settings("h", {"docker_daemon_options": options}).docker_daemon_options == options


def test_other_tools_host_data_is_left_alone():
    load_settings("h", {"ssh_user": "root", "ssh_port": 22, "_sudo": True, "droplet_id": 5})


BAD_INPUT = [
    ({"prisma_port": "4466x"}, "'prisma_port' must be an integer from 1 to 65535"),
    ({"prisma_port": 0}, "'prisma_port' must be an integer from 1 to 65535"),
    ({"prisma_port": 70000}, "'prisma_port' must be an integer from 1 to 65535"),
    ({"prisma_port": True}, "'prisma_port' must be an integer from 1 to 65535"),
    ({"prisma_port": 4466.0}, "'prisma_port' must be an integer"),
    ({"docker_source": "snap"}, "'docker_source' must be one of 'official', 'distro'"),
    ({"prisma_image": "Prisma:1.0"}, "'prisma_image' must be a Docker image reference"),
    ({"prisma_image": "prisma:"}, "'prisma_image' must be a Docker image reference"),
    ({"prisma_db_image": "mysql 5.7"}, "'prisma_db_image' must be a Docker image reference"),
    ({"prisma_db_image": ""}, "'prisma_db_image' must be a Docker image reference"),
    ({"prisma_health_timeout": -1}, "'prisma_health_timeout' must be an integer from 1"),
    ({"prisma_health_timeout": "soon"}, "'prisma_health_timeout' must be an integer"),
    ({"prisma_java_heap": "1 GB"}, "'prisma_java_heap' must be a Java heap size"),
    ({"prisma_java_heap": "999999G"}, "'prisma_java_heap' must be a Java heap size from 64m"),
    ({"prisma_java_heap": "1m"}, "'prisma_java_heap' must be a Java heap size from 64m"),
    ({"prisma_stack_dir": "opt/prisma"}, "'prisma_stack_dir' must be a normalised absolute"),
    ({"prisma_stack_dir": "/opt/pri sma"}, "'prisma_stack_dir' must be a normalised absolute"),
    ({"prisma_stack_dir": "/.."}, "'prisma_stack_dir' must be a normalised absolute"),
    ({"prisma_stack_dir": "/etc"}, "'prisma_stack_dir' must be a normalised absolute"),
    ({"prisma_stack_dir": "/usr"}, "'prisma_stack_dir' must be a normalised absolute"),
    ({"prisma_stack_dir": "/opt"}, "'prisma_stack_dir' must be a normalised absolute"),
    ({"prisma_stack_dir": "/opt/../etc"}, "'prisma_stack_dir' must be a normalised absolute"),
    ({"prisma_stack_dir": "/opt/./prisma"}, "'prisma_stack_dir' must be a normalised absolute"),
    ({"prisma_stack_dir": "/opt//prisma"}, "'prisma_stack_dir' must be a normalised absolute"),
    ({"prisma_stack_dir": "/opt/prisma/"}, "'prisma_stack_dir' must be a normalised absolute"),
    ({"prisma_stack_dir": "/run/prisma"}, "'prisma_stack_dir' must be a normalised absolute"),
    ({"prisma_stack_dir": "/var/lib"}, "'prisma_stack_dir' must be a normalised absolute"),
    ({"prisma_project_name": "Prisma"}, "'prisma_project_name' must be a Compose project"),
    ({"prisma_bind_address": "localhost"}, "'prisma_bind_address' must be an IPv4 or IPv6"),
    ({"prisma_bind_address": "fe80::1%eth0"}, "'prisma_bind_address' must be an IPv4 or IPv6"),
    (
        {"prisma_bind_address": 'fe80::1%x"\n    privileged: true'},
        "'prisma_bind_address' must be an IPv4 or IPv6 address without a zone ID",
    ),
    ({"prisma_db_debug_port": 99999}, "'prisma_db_debug_port' must be an integer from 1"),
    (
        {"prisma_db_debug_port": 4466},
        "'prisma_db_debug_port' and 'prisma_port' must differ",
    ),
    ({"docker_log_max_file": 0}, "'docker_log_max_file' must be an integer from 1 to 100"),
    ({"docker_log_max_size": "10MB"}, "'docker_log_max_size' must be a size such as '10m'"),
    ({"docker_daemon_options": ["x"]}, "'docker_daemon_options' must be a mapping"),
    (
        {"docker_daemon_options": {"hosts": ["tcp://0.0.0.0:2375"]}},
        "'docker_daemon_options' must be a mapping without the key 'hosts': it can expose",
    ),
    (
        {"docker_daemon_options": {"iptables": False}},
        "without the key 'iptables': it turns off Docker's iptables rules",
    ),
    ({"docker_daemon_options": {"ip6tables": False}}, "without the key 'ip6tables'"),
    ({"docker_daemon_options": {"firewall-backend": "nftables"}}, "'firewall-backend'"),
    ({"docker_daemon_options": {"userland-proxy": True}}, "without the key 'userland-proxy'"),
    ({"docker_version": "27 .1"}, "'docker_version' must be a Docker version"),
    ({"prisma_db_password": ""}, "'prisma_db_password' must be a non-empty string"),
    ({"prisma_db_password": 12345}, "'prisma_db_password' must be a non-empty string"),
    ({"prisma_cluster_public_key": "not a key"}, "'prisma_cluster_public_key' must be a PEM"),
    ({"prisma_prot": 1}, "unknown setting 'prisma_prot'; did you mean 'prisma_port'?"),
    ({"prisma_port": 22}, "'prisma_port' must not be an SSH port (22)"),
    ({"prisma_port": 2222, "ssh_port": 2222}, "'prisma_port' must not be an SSH port (22, 2222)"),
    ({"prisma_schema_manager_secret": "MUCHSECRET"}, "not a published example value"),
    ({"prisma_db_password": "graphcool"}, "not a published example value"),
    ({"prisma_schema_manager_secret": "short"}, "must be at least 16 characters"),
    ({"prisma_firewall": "yes"}, "'prisma_firewall' must be true or false"),
    ({"prisma_firewall_extra_ports": [80, 0]}, "'prisma_firewall_extra_ports' must be an integer"),
    ({"prisma_firewall_extra_ports": 9100}, "'prisma_firewall_extra_ports' must be a list"),
    ({"logs_since": "yesterday"}, "'logs_since' must be a duration such as '10m'"),
    ({"logs_service": "db"}, "'logs_service' must be one of 'all', 'prisma-db'"),
    ({"status_format": "yaml"}, "'status_format' must be one of 'table', 'json'"),
    ({"backup_keep": 0}, "'backup_keep' must be an integer from 1 to 1000"),
    ({"restore_file": "dump.sql"}, "'restore_file' must be a path to a .sql.gz file"),
    ({"nuke_confirmm": "h"}, "unknown setting 'nuke_confirmm'; did you mean 'nuke_confirm'?"),
    ({"docker_sorce": "distro"}, "unknown setting 'docker_sorce'; did you mean 'docker_source'?"),
    ({"prisma_whatever": 1}, "unknown setting 'prisma_whatever'"),
]


@pytest.mark.parametrize(("data", "expected"), BAD_INPUT)
def test_bad_input_is_named_with_what_is_expected(data, expected):
    with pytest.raises(SettingsError) as error:
        load_settings("droplet-1", data)
    assert expected in str(error.value)
    assert "host droplet-1" in str(error.value)


def test_a_bad_secret_is_reported_without_its_value():
    with pytest.raises(SettingsError) as error:
        load_settings("h", {"prisma_cluster_public_key": "hunter2-not-a-key"})
    assert "hunter2" not in str(error.value)


def test_health_url_follows_the_bind_address():
    assert load_settings("h", {}).health_url == "http://127.0.0.1:4466/status"
    assert (
        load_settings("h", {"prisma_bind_address": "10.0.0.5", "prisma_port": 80}).health_url
        == "http://10.0.0.5:80/status"
    )
    assert load_settings("h", {"prisma_bind_address": "::1"}).health_url == (
        "http://[::1]:4466/status"
    )


def test_readme_documents_every_setting_as_defined():
    from tasks.project import PROJECT_ROOT
    from tasks.settings.table import settings_table

    readme = (PROJECT_ROOT / "README.md").read_text()
    regenerate = (
        "python -c 'from tasks.settings.table import settings_table; print(settings_table())'"
    )
    assert settings_table() in readme, f"regenerate: {regenerate}"
