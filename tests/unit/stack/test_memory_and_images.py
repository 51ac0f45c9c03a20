"""The memory preflight, the containers' memory limits, the architecture refusal, the
database healthcheck and the fixed internal database name."""

from __future__ import annotations

import pytest
import yaml

from tasks.engine.facts import DockerEngineState, SwapState
from tasks.engine.packages import Platform
from tasks.errors import HostRefused
from tasks.plan.decide import refuse_unfit_host
from tasks.plan.read import WholeHostState
from tasks.settings import load_settings
from tasks.stack.compose_file import render_compose_file
from tasks.stack.decide import (
    check_images_run_on,
    check_memory_fits,
    image_architecture,
    repository_and_tag,
)
from tasks.stack.memory import compose_size, gib, memory_needed, server_memory_limit

MIB, GIB = 1024**2, 1024**3
TRIXIE = Platform("debian", "13", "trixie")


def test_what_the_stack_needs_follows_the_heap():
    assert server_memory_limit(load_settings("h", {})) == GIB + 256 * MIB
    assert memory_needed(load_settings("h", {})) == GIB + (256 + 512 + 128) * MIB
    assert memory_needed(load_settings("h", {"prisma_java_heap": "512m"})) == 1408 * MIB
    assert compose_size(1280 * MIB) == "1280m"
    assert compose_size(1280 * MIB + 1) == "1281m"
    assert gib(GIB + GIB // 2) == "1.50 GiB"


def test_containers_get_memory_limits_from_the_settings():
    compose = yaml.safe_load(render_compose_file(load_settings("h", {"prisma_java_heap": "640m"})))
    assert compose["services"]["prisma-database"]["mem_limit"] == "896m"
    assert compose["services"]["prisma-db"]["mem_limit"] == "512m"


def test_memory_below_the_need_is_refused_with_the_numbers():
    settings = load_settings("h", {})  # 1G heap: needs 1.88 GiB
    one_gb_droplet = 981 * MIB
    with pytest.raises(HostRefused) as refused:
        check_memory_fits(settings, one_gb_droplet, 0)
    message = str(refused.value)
    assert "the stack needs 1.88 GiB" in message
    assert "this host has 0.96 GiB of memory and 0.00 GiB of swap" in message
    assert "prisma_swap_size='939M' or more" in message
    # Exactly enough, with swap, or unknown memory: accepted.
    check_memory_fits(settings, one_gb_droplet, 939 * MIB)
    check_memory_fits(settings, memory_needed(settings), 0)
    check_memory_fits(settings, 0, 0)
    with pytest.raises(HostRefused):
        check_memory_fits(settings, memory_needed(settings) - 1, 0)


def test_the_swap_file_to_be_made_counts_before_it_exists():
    small = WholeHostState(engine=DockerEngineState(TRIXIE, "amd64", memory_bytes=981 * MIB))
    with pytest.raises(HostRefused, match="prisma_swap_size"):
        refuse_unfit_host(load_settings("h", {}), small)
    refuse_unfit_host(load_settings("h", {"prisma_swap_size": "1G"}), small)
    with pytest.raises(HostRefused, match="prisma_swap_size='939M'"):
        refuse_unfit_host(load_settings("h", {"prisma_swap_size": "512M"}), small)
    # Swap the host has anyway counts too; this deploy's own file is not counted twice.
    swapped = SwapState(total_bytes=2 * GIB)
    refuse_unfit_host(load_settings("h", {}), _with_swap(small, swapped))
    ours = SwapState(total_bytes=GIB - 4096, file_bytes=GIB - 4096, file_exists=True)
    with pytest.raises(HostRefused):
        refuse_unfit_host(load_settings("h", {}), _with_swap(small, ours))


def _with_swap(found: WholeHostState, swap: SwapState) -> WholeHostState:
    engine = found.engine
    return WholeHostState(
        engine=DockerEngineState(
            engine.platform, engine.architecture, memory_bytes=engine.memory_bytes, swap=swap
        )
    )


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("mysql:5.7", ("mysql", "5.7")),
        ("docker.io/library/mysql:5.7.44", ("mysql", "5.7.44")),
        ("library/mysql:5.7@sha256:" + "a" * 64, ("mysql", "5.7")),
        ("mysql", ("mysql", "latest")),
        ("registry:5000/prisma", ("registry:5000/prisma", "latest")),
        ("registry:5000/prisma:1.0", ("registry:5000/prisma", "1.0")),
        ("index.docker.io/library/mysql:8", ("mysql", "8")),
        ("docker.io/prismagraphql/prisma:1.0", ("prismagraphql/prisma", "1.0")),
    ],
)
def test_image_references_are_read_as_docker_reads_them(reference, expected):
    assert repository_and_tag(reference) == expected


def test_images_known_for_one_architecture():
    assert image_architecture("mysql:5.7") == "amd64"
    assert image_architecture("mysql:5.7.44") == "amd64"
    assert image_architecture("prismagraphql/prisma:1.0") == "amd64"
    assert image_architecture("prismagraphql/prisma:1.0.1") == "amd64"
    for other in ("mysql:5.70", "mysql:8.0", "prismagraphql/prisma:1.1", "me/mysql:5.7"):
        assert image_architecture(other) is None


def test_an_architecture_without_the_image_is_refused_naming_the_override():
    settings = load_settings("h", {})
    with pytest.raises(HostRefused) as refused:
        check_images_run_on(settings, "arm64")
    assert str(refused.value) == (
        "host h: setting 'prisma_db_image' is mysql:5.7, which exists for amd64 only, and "
        "this host is arm64; give an image built for arm64 as 'prisma_db_image' (a registry "
        "of your own, as with a private mirror)"
    )
    with pytest.raises(HostRefused, match=r"'prisma_image' is prismagraphql/prisma:1\.0"):
        check_images_run_on(load_settings("h", {"prisma_db_image": "me/mysql:5.7"}), "arm64")
    check_images_run_on(settings, "amd64")
    check_images_run_on(settings, "")  # unknown: the platform check refuses such hosts
    mine = {"prisma_db_image": "me/mysql:5.7", "prisma_image": "me/prisma:1.0"}
    check_images_run_on(load_settings("h", mine), "arm64")


def test_an_arm64_host_is_refused_before_anything_changes():
    arm = WholeHostState(engine=DockerEngineState(TRIXIE, "arm64", memory_bytes=8 * GIB))
    with pytest.raises(HostRefused, match="exists for amd64 only"):
        refuse_unfit_host(load_settings("h", {}), arm)


def test_the_database_healthcheck_logs_in_instead_of_pinging():
    compose = yaml.safe_load(render_compose_file(load_settings("h", {})))
    kind, command = compose["services"]["prisma-db"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL"
    assert "mysqladmin ping" not in command
    assert 'MYSQL_PWD="$$MYSQL_ROOT_PASSWORD" mysql --host=127.0.0.1 --user=root' in command
    assert '--database="$$MYSQL_DATABASE" --execute="SELECT 1"' in command


def test_the_internal_database_is_the_one_prisma_1_0_creates():
    compose = yaml.safe_load(render_compose_file(load_settings("h", {})))
    assert compose["services"]["prisma-db"]["environment"]["MYSQL_DATABASE"] == (
        "${SQL_INTERNAL_DATABASE}"
    )
    with pytest.raises(HostRefused, match=r"setting 'prisma_db_name' was removed: Prisma 1\.0"):
        load_settings("h", {"prisma_db_name": "graphcool"})
