"""
The end-to-end harness: real Debian hosts (systemd + sshd containers) on the local
Docker engine, stand-in images served from a local registry inside each host's network
namespace, and the real `pyinfra` CLI run over SSH against them.

Everything a test reaches goes through ports published on 127.0.0.1; a test never
addresses a container's own IP (see ../shared/notes/test-hosts.md).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock

PROJECT_ROOT = Path(__file__).resolve().parents[2]
IMAGES_DIR = Path(__file__).resolve().parent / "images"
CACHE_DIR = Path(os.environ.get("PRISMA_E2E_CACHE", "~/.cache/prisma-e2e")).expanduser()

LABEL = "prisma-e2e"  # every container, volume and image the harness makes carries it
# The test run that started a container: a concurrent run leaves it alone.
OWNER_LABEL = f"{LABEL}.owner"
HOST_IMAGE = "prisma-e2e/host:trixie"
BASE_IMAGE = "prisma-e2e/base:trixie"
REGISTRY_IMAGE = "prisma-e2e/registry:2"
REGISTRY_PORT_IN_HOST = 5000
REGISTRY_IN_HOST = f"127.0.0.1:{REGISTRY_PORT_IN_HOST}"
# One registry storage for every host of this test run (an image is pushed once per run),
# and only of this run: another run pushing other builds under the same tags cannot
# change what this one pulls.
SHARED_REGISTRY_VOLUME = f"prisma-e2e-registry-{os.getpid()}"
S3_IMAGE = "prisma-e2e/s3:trixie"
S3_PORT_IN_HOST = 9000
PING_PORT_IN_HOST = 9100

HOST_PACKAGES = "openssh-server,systemd,systemd-sysv,ca-certificates,curl,iproute2,procps,sudo"
# A fresh cloud image's Python: python3 (cloud-init needs it), but no venv, pip or git.
CLOUD_HOST_PACKAGES = f"{HOST_PACKAGES},python3"


class HarnessError(RuntimeError):
    """The harness could not provide a test host; the message says what is missing."""


def run(
    *args: str,
    check: bool = True,
    input: str | None = None,
    timeout: float = 600,
    environment: dict[str, str] | None = None,
) -> subprocess.CompletedProcess:
    env = {**os.environ, **environment} if environment else None
    result = subprocess.run(
        list(args), input=input, capture_output=True, text=True, timeout=timeout, env=env
    )
    if check and result.returncode != 0:
        raise HarnessError(
            f"{' '.join(args[:4])}... failed ({result.returncode}): {result.stderr.strip()[-2000:]}"
        )
    return result


def docker(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return run("docker", *args, **kwargs)


def engine_problem() -> str | None:
    """Why the local Docker engine cannot be used, or None when it can."""
    if not shutil.which("docker"):
        return "no docker client on PATH"
    result = run("docker", "info", "--format", "{{.ServerVersion}}", check=False, timeout=30)
    if result.returncode != 0:
        return f"no Docker engine answers: {result.stderr.strip()[:300]}"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def refused_port() -> Iterator[int]:
    """A 127.0.0.1 port that refuses connections while the block runs: bound here and
    never listened on, so no test host of another worker can be given it meanwhile."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


def image_exists(reference: str) -> bool:
    return docker("image", "inspect", reference, check=False).returncode == 0


def references_of(repository: str) -> list[str]:
    """This engine's references in repository: `repository:tag`, and `repository@digest`
    for each digest a push gave it."""
    listed = docker(
        "images", "--digests", "--format", "{{.Tag}} {{.Digest}}", repository, check=False
    ).stdout.split("\n")
    references = []
    for line in listed:
        tag, _, digest = line.partition(" ")
        references += [f"{repository}:{tag}"] if tag and tag != "<none>" else []
        references += [f"{repository}@{digest}"] if digest and digest != "<none>" else []
    return references


def forget_references(repository: str) -> None:
    """Remove this engine's references in repository (a test host's registry): each test
    host's registry has a port of its own, so each push left its tag and its digest in
    this engine's image list, 1,860 of them on one machine before 2026-11-30. The
    images keep their own tags; one that has no other reference is removed with it."""
    references = references_of(repository)
    if references:
        docker("rmi", *references, check=False)


# ---------------------------------------------------------------------------
# Images
# ---------------------------------------------------------------------------


@functools.cache
def cache_lock() -> FileLock:
    """Held while the cache or an image is built: pytest-xdist's workers (and test runs of
    other checkouts) share CACHE_DIR and the image tags, and two writers of one tar or
    one tag would each see the other's half-made result."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    return FileLock(CACHE_DIR / "build.lock")


def _rootfs_image(image: str, tar_name: str, *mmdebstrap_args: str, suite="trixie") -> None:
    """Import a Debian root filesystem as an image, building the tar once per cache."""
    with cache_lock():
        _import_rootfs(image, tar_name, *mmdebstrap_args, suite=suite)


def _import_rootfs(image: str, tar_name: str, *mmdebstrap_args: str, suite: str) -> None:
    if image_exists(image):
        return
    tar = CACHE_DIR / tar_name
    if not tar.exists():
        if not shutil.which("mmdebstrap"):
            raise HarnessError("mmdebstrap is not installed (apt-get install mmdebstrap)")
        # mmdebstrap picks its output format from the name: keep the .tar ending.
        partial = tar.with_name(f"{tar.stem}.partial.tar")
        run("mmdebstrap", "--variant=minbase", *mmdebstrap_args, suite, str(partial))
        partial.rename(tar)
    import_args = ["import", "--change", f"LABEL {LABEL}=1"]
    if image != BASE_IMAGE:
        import_args += ["--change", 'CMD ["/sbin/init"]']
    docker(*import_args, str(tar), image)


def _context_digest(context: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(context.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(context).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build_image(context: str, tag: str, fingerprinted: bool = True, **build_args: str) -> str:
    """docker build tests/e2e/images/<context>, skipped when already built; returns the
    local tag. A fingerprinted tag names the build (`<tag>-<fingerprint>`): test runs of
    other checkouts, whose stand-ins may differ, never retag the images this run pushes."""
    directory = IMAGES_DIR / context
    fingerprint = _context_digest(directory) + json.dumps(build_args, sort_keys=True)
    fingerprint = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
    if fingerprinted:
        tag = f"{tag}-{fingerprint}"
    with cache_lock():
        _build_unless_built(directory, tag, fingerprint, build_args)
    return tag


def _build_unless_built(directory: Path, tag: str, fingerprint: str, build_args: dict) -> None:
    current = docker(
        "image", "inspect", "--format", '{{index .Config.Labels "prisma-e2e.context"}}', tag,
        check=False,
    )  # fmt: skip
    if current.returncode == 0 and current.stdout.strip() == fingerprint:
        return
    arguments = ["build", "-q", "-t", tag, "--label", f"{LABEL}=1"]
    arguments += ["--label", f"prisma-e2e.context={fingerprint}"]
    arguments += ["--build-arg", f"BASE_IMAGE={BASE_IMAGE}"]
    for name, value in build_args.items():
        arguments += ["--build-arg", f"{name}={value}"]
    docker(*arguments, str(directory), timeout=1200)


@functools.cache
def s3_image() -> str:
    """The S3 stand-in's local tag, built once per run (S3_IMAGE names no image: the
    build's tag has its fingerprint)."""
    return build_image("s3", S3_IMAGE)


# Most tests run the double with a short start and little memory; one runs it with the
# real server's start time and memory (the image's defaults) to show the deploy copes.
QUICK_DOUBLE = {"DOUBLE_START_DELAY": "1", "DOUBLE_MEMORY_MB": "32"}


@dataclass(frozen=True)
class StandInImages:
    """Local tags of the stand-in images (the registry tags are chosen per test)."""

    database: str
    prisma: str
    prisma_next: str
    prisma_broken: str
    prisma_realistic: str  # the real server's start delay and memory


def host_image(release: str) -> str:
    """A bootable host image of a Debian release ('trixie' is built with the others)."""
    image = f"prisma-e2e/host:{release}"
    _rootfs_image(image, f"host-{release}.tar", f"--include={HOST_PACKAGES}", suite=release)
    return image


def cloud_host_image(release: str = "trixie") -> str:
    """A host with the Python state of a fresh Debian cloud image: python3 present, and
    no python3-venv, python3-pip or git (mmdebstrap installs no Recommends)."""
    image = f"prisma-e2e/host-cloud:{release}"
    _rootfs_image(
        image, f"host-cloud-{release}.tar", f"--include={CLOUD_HOST_PACKAGES}", suite=release
    )
    return image


def build_images() -> StandInImages:
    _rootfs_image(HOST_IMAGE, "host-trixie.tar", f"--include={HOST_PACKAGES}")
    _rootfs_image(BASE_IMAGE, "base-trixie.tar")
    build_image("registry", REGISTRY_IMAGE, fingerprinted=False)
    double = "prisma-e2e/prisma-double"
    return StandInImages(
        database=build_image("mariadb", "prisma-e2e/mariadb:11"),
        prisma=build_image("prisma-double", f"{double}:1.0", DOUBLE_VERSION="1.0", **QUICK_DOUBLE),
        prisma_next=build_image(
            "prisma-double", f"{double}:1.1", DOUBLE_VERSION="1.1", **QUICK_DOUBLE
        ),
        prisma_broken=build_image(
            "prisma-double",
            f"{double}:broken",
            DOUBLE_VERSION="1.2",
            DOUBLE_MODE="broken",
            **QUICK_DOUBLE,
        ),
        prisma_realistic=build_image("prisma-double", f"{double}:1.0-real", DOUBLE_VERSION="1.0"),
    )


# The project's dependencies, and setuptools for `pip install -e .`'s isolated build.
# Every runtime dependency in pyproject.toml (a unit test keeps them in step), pyinfra
# pinned to the version the suite runs, and setuptools for pip's build of the project.
WHEELHOUSE_REQUIREMENTS = (
    "pyinfra==3.10.0",
    "click",
    "pyyaml",
    "paramiko",
    "pydo",
    "cryptography",
    "typing-extensions",
    "msgspec",
    "setuptools>=68",
)


def wheelhouse() -> Path:
    """Wheels of this project's dependencies for the test host's Python (3.13), once
    per requirement list (a test host installs from it with pip's --no-index)."""
    machine = platform.machine()
    target = CACHE_DIR / f"wheels-cp313-{machine}"
    listed = hashlib.sha256("\n".join(WHEELHOUSE_REQUIREMENTS).encode()).hexdigest()[:12]
    marker = target / f".complete-{listed}"
    with cache_lock():
        if not marker.exists():
            _download_wheels(target, machine)
            marker.touch()
    return target


def _download_wheels(target: Path, machine: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    run(
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--only-binary=:all:",
        "--python-version",
        "3.13",
        "--implementation",
        "cp",
        "--abi",
        "cp313",
        "--platform",
        f"manylinux2014_{machine}",
        "--platform",
        f"manylinux_2_17_{machine}",
        "--platform",
        f"manylinux_2_28_{machine}",
        "-d",
        str(target),
        *WHEELHOUSE_REQUIREMENTS,
        timeout=900,
    )


# ---------------------------------------------------------------------------
# Test hosts
# ---------------------------------------------------------------------------


@dataclass
class TestHost:
    """A fresh Debian 13 'droplet': systemd + sshd in a container, reached on 127.0.0.1."""

    name: str
    ssh_port: int
    registry_port: int
    published: dict[int, int] = field(default_factory=dict)  # port in host -> 127.0.0.1 port

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.ssh_port}"

    def port_flags(self) -> list[str]:
        """docker run's -p flags: SSH, the host's registry, the published ports."""
        flags = ["-p", f"127.0.0.1:{self.ssh_port}:22"]
        flags += ["-p", f"127.0.0.1:{self.registry_port}:{REGISTRY_PORT_IN_HOST}"]
        for inside, outside in self.published.items():
            flags += ["-p", f"127.0.0.1:{outside}:{inside}"]
        return flags

    def exec(
        self,
        command: str,
        check: bool = True,
        input: str | None = None,
        timeout: float = 600,
        environment: dict[str, str] | None = None,
        workdir: str | None = None,
    ) -> subprocess.CompletedProcess:
        """Run a bash command on the host (in workdir); environment values travel
        outside argv."""
        arguments = ["exec"] + (["-i"] if input is not None else [])
        if workdir:
            arguments += ["-w", workdir]
        for key in environment or {}:
            arguments += ["-e", key]
        return docker(
            *arguments,
            self.name,
            "bash",
            "-c",
            command,
            check=check,
            input=input,
            timeout=timeout,
            environment=environment,
        )

    def url(self, port_in_host: int, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.published[port_in_host]}{path}"

    def push(self, local_image: str, repository: str) -> str:
        """Push local_image to this host's registry; return the reference the host pulls.
        The tag the push needs is removed after it, with the digests pushes gave its
        repository (see forget_references())."""
        outside = f"127.0.0.1:{self.registry_port}/{repository}"
        docker("tag", local_image, outside)
        try:
            for _attempt in range(30):
                result = docker("push", outside, check=False, timeout=900)
                if result.returncode == 0:
                    break
                time.sleep(1)  # the registry may still be starting
            else:
                raise HarnessError(f"docker push {outside} failed: {result.stderr.strip()[-500:]}")
        finally:
            forget_references(outside.rsplit(":", 1)[0])
        return f"{REGISTRY_IN_HOST}/{repository}"

    def wait_until_booted(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.exec("systemctl is-system-running", check=False).stdout.strip()
            ssh = self.exec("systemctl is-active ssh", check=False).stdout.strip()
            if state in ("running", "degraded") and ssh == "active":
                return
            time.sleep(1)
        raise HarnessError(f"{self.name}: systemd/sshd did not come up within {timeout}s")

    def authorize_key(self, public_key: str) -> None:
        self.exec(
            "install -d -m 700 /root/.ssh && cat > /root/.ssh/authorized_keys "
            "&& chmod 600 /root/.ssh/authorized_keys",
            input=public_key,
        )

    def start_registry(self) -> None:
        """A registry in the host's network namespace: 127.0.0.1:5000 from inside."""
        docker("rm", "-f", f"{self.name}-registry", check=False)
        docker(
            "run",
            "-d",
            "--name",
            f"{self.name}-registry",
            "--label",
            f"{LABEL}=1",
            "--label",
            f"{OWNER_LABEL}={os.getpid()}",
            "--network",
            f"container:{self.name}",
            "-v",
            f"{SHARED_REGISTRY_VOLUME}:/var/lib/docker-registry",
            REGISTRY_IMAGE,
        )

    def start_s3(self) -> None:
        """The S3 stand-in (moto) in the host's network namespace: 127.0.0.1:9000 from
        inside, and a ping recorder on 127.0.0.1:9100 whose requests `docker logs` shows."""
        docker("rm", "-f", f"{self.name}-s3", check=False)
        docker(
            "run",
            "-d",
            "--name",
            f"{self.name}-s3",
            "--label",
            f"{LABEL}=1",
            "--label",
            f"{OWNER_LABEL}={os.getpid()}",
            "--network",
            f"container:{self.name}",
            s3_image(),
        )

    def pings(self) -> list[str]:
        """`ping <method> <path>` lines the ping recorder saw, oldest first."""
        logs = docker("logs", f"{self.name}-s3").stdout
        return [line for line in logs.splitlines() if line.startswith("ping ")]

    def restart(self) -> None:
        docker("restart", "-t", "20", self.name)
        self.start_registry()
        self.wait_until_booted()

    def remove(self) -> None:
        docker("rm", "-f", "-v", f"{self.name}-registry", f"{self.name}-s3", self.name, check=False)
        docker("volume", "rm", "-f", f"{self.name}-docker", check=False)


def copy_volume(source: str, target: str) -> None:
    """A new volume `target` with everything `source` holds (ownership and modes kept)."""
    docker("volume", "create", "--label", f"{LABEL}=1", target)
    docker(
        "run", "--rm", "-v", f"{source}:/from:ro", "-v", f"{target}:/to", BASE_IMAGE,
        "cp", "-a", "/from/.", "/to/",
        timeout=1800,
    )  # fmt: skip


# What every test host runs with on this machine (see test-hosts.md).
HOST_FLAGS = (
    "--cap-add=ALL", "--cap-drop=SYS_RESOURCE",
    "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
    "--security-opt", "systempaths=unconfined",
    "--cgroupns=host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "--tmpfs", "/run", "--tmpfs", "/run/lock",
)  # fmt: skip
# Docker's own port allocator, and the kernel's bind (a port another process holds).
PORTS_TAKEN = ("port is already allocated", "address already in use")
PORT_ATTEMPTS = 3


def start_test_host(
    public_key: str,
    publish: tuple[int, ...] = (4466, 3306, 3366),
    prefix: str = "prisma-e2e",
    image: str = HOST_IMAGE,
    docker_volume_from: str | None = None,
    ssh_port: int | None = None,
    extra_args: tuple[str, ...] = (),
) -> TestHost:
    """Start a fresh Debian host (13 unless another image) with the flags this machine
    needs (see test-hosts.md); `docker_volume_from`: a copy of that volume as its
    /var/lib/docker (a clone of a provisioned host, with `image` its committed root)."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    if docker_volume_from:
        copy_volume(docker_volume_from, f"{name}-docker")
    for attempt in range(PORT_ATTEMPTS):
        host = TestHost(
            name=name,
            ssh_port=ssh_port or free_port(),
            registry_port=free_port(),
            published={port: free_port() for port in publish},
        )
        started = docker(
            "run", "-d", "--name", name, "--hostname", name,
            "--label", f"{LABEL}=1", "--label", f"{OWNER_LABEL}={os.getpid()}",
            *HOST_FLAGS, "-v", f"{name}-docker:/var/lib/docker",
            *host.port_flags(), *extra_args, image, "/sbin/init",
            check=False,
        )  # fmt: skip
        if started.returncode == 0:
            break
        # Docker can still hold a port the kernel has handed back (a container being
        # removed, seen once in CI), and another worker can have picked the same free
        # port a moment ago: the same host again, on other ports.
        docker("rm", "-f", name, check=False)
        taken = any(message in started.stderr for message in PORTS_TAKEN)
        if not taken or attempt == PORT_ATTEMPTS - 1:
            raise HarnessError(f"docker run {name} failed: {started.stderr.strip()[-2000:]}")
    try:
        host.wait_until_booted()
        host.authorize_key(public_key)
        host.start_registry()
    except Exception:
        host.remove()
        raise
    return host


def _process_alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers() -> None:
    """Remove containers of earlier, interrupted runs (by label), never those of a test
    run still going on; then the volumes no container uses any more."""
    listing = docker(
        "ps",
        "-a",
        "--filter",
        f"label={LABEL}=1",
        "--format",
        f'{{{{.ID}}}} {{{{index .Labels "{OWNER_LABEL}"}}}}',
        check=False,
    ).stdout.splitlines()
    owners = dict([*line.split(), ""][:2] for line in listing if line.strip())
    leftover = [container for container, owner in owners.items() if not _process_alive(owner)]
    if leftover:
        docker("rm", "-f", "-v", *leftover, check=False)
    volumes = docker("volume", "ls", "-q", "--filter", "name=prisma-e2e-", check=False)
    for volume in volumes.stdout.split():
        docker("volume", "rm", volume, check=False)  # refused while a container uses it


# ---------------------------------------------------------------------------
# Running pyinfra
# ---------------------------------------------------------------------------


@dataclass
class PyinfraRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def result(self) -> dict:
        """The --json payload's results section."""
        return json.loads(self.stdout)["results"]

    @property
    def changed_operations(self) -> list[str]:
        return [op["name"] for op in self.result["operations"] if op["success"]]

    @property
    def total_changes(self) -> int:
        return self.result["totals"]["success"]


def pyinfra_command(
    inventory: str,
    deploy_file: str,
    data: dict[str, object] | None = None,
    flags: tuple[str, ...] = ("-y", "--json"),
) -> list[str]:
    arguments = [sys.executable, "-m", "pyinfra", *flags, inventory, deploy_file]
    for key, value in (data or {}).items():
        text = value if isinstance(value, str) else json.dumps(value)
        arguments += ["--data", f"{key}={text}"]
    return arguments


def another_machine(directory: Path, name: str = "other-box") -> tuple[str, ...]:
    """A command prefix under which a process sees another machine: its own host name
    (a UTS namespace) and its own /etc/machine-id (a mount namespace)."""
    machine_id = directory / f"{name}-machine-id"
    machine_id.write_text(uuid.uuid4().hex + "\n")
    script = 'hostname "$0" && mount --bind "$1" /etc/machine-id && shift && exec "$@"'
    return ("unshare", "--uts", "--mount", "sh", "-c", script, name, str(machine_id))


def pyinfra_environment(environment: dict[str, str]) -> dict[str, str]:
    """This process's environment without PRISMA_* settings, plus the given ones."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PRISMA_")}
    env.update(environment)
    env["PYINFRA_PROGRESS"] = "off"
    return env


def run_pyinfra(
    inventory: str,
    deploy_file: str,
    environment: dict[str, str],
    data: dict[str, object] | None = None,
    flags: tuple[str, ...] = ("-y", "--json"),
    timeout: float = 900,
    prefix: tuple[str, ...] = (),
) -> PyinfraRun:
    """Run the real pyinfra CLI from the project root, as a user would (`prefix`: a
    command it runs under, e.g. another_machine())."""
    result = subprocess.run(
        [*prefix, *pyinfra_command(inventory, deploy_file, data, flags)],
        cwd=PROJECT_ROOT,
        env=pyinfra_environment(environment),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return PyinfraRun(result.returncode, result.stdout, result.stderr)
