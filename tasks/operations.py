"""Custom pyinfra operations of this project: each yields commands only when needed."""

from __future__ import annotations

import shlex
from io import StringIO

from pyinfra import host, logger, state
from pyinfra.api import FileUploadCommand, FunctionCommand, HiddenValue, StringCommand, operation
from pyinfra.api.arguments import CONNECTOR_ARGUMENT_KEYS
from pyinfra.facts.files import FileContents
from pyinfra.operations.util.files import generate_color_diff

from tasks import commands
from tasks.commands import StackPaths
from tasks.drift import stack_drift
from tasks.facts import ComposeStack, HttpBody, PathState, StackFiles
from tasks.redaction import redact

LOG_LINES_ON_FAILURE = 40


def failure(message: str) -> FunctionCommand:
    """A command that fails this host's operation with a message (never raises: an
    exception in an operation would stop every host, not just this one)."""

    def report(state, host) -> bool:
        host.log_styled(message, fg="red", log_func=logger.error)
        return False

    return FunctionCommand(report, (), {})


def connector_arguments() -> dict:
    """The running operation's connection arguments (sudo etc.), for FunctionCommands."""
    arguments = host.current_op_global_arguments or {}
    return {key: arguments[key] for key in CONNECTOR_ARGUMENT_KEYS if key in arguments}


@operation()
def already_converged(summary: str):
    """
    Report a part of the host that its one-round-trip fact found already as wanted.

    + summary: what was checked
    """
    host.noop(summary)
    yield from ()


def _ownership_commands(path: str, current: PathState, mode: int, touched: bool):
    if touched or (current.user, current.group) != ("root", "root"):
        yield StringCommand("chown", "root:root", shlex.quote(path))
    if touched or current.mode != mode:
        yield StringCommand("chmod", f"{mode}", shlex.quote(path))


def _directory_commands(path: str, current: PathState, mode: int):
    created = current.kind != "directory"
    if created:
        yield StringCommand("mkdir", "-p", shlex.quote(path))
    yield from _ownership_commands(path, current, mode, created)


def _show_diff(path: str, content: str) -> None:
    current = host.get_fact(FileContents, path=path) or []
    host.log(f"Will modify {path}", logger.info)
    for line in generate_color_diff([line + "\n" for line in current], content.splitlines(True)):
        logger.info(f"  {line}")


def _file_commands(
    path: str, content: str, current: PathState, mode: int, secret: bool, edited: bool
):
    """Upload content when the file differs; then make it root's with the given mode."""
    changed = not current.holds(content)
    if changed and edited:
        host.log(
            f"{path} was changed on the host since the last deploy (by hand?); "
            "restoring the deployed version" + (" (contents not shown)" if secret else ""),
            logger.warning,
        )
    if changed:
        if secret:
            host.log(f"{path}: content will change (secret, not shown)", logger.info)
        elif state.config.DIFF:
            _show_diff(path, content)
        temp_file = host.get_temp_filename(path)
        if secret and connector_arguments().get("_sudo"):
            # With sudo pyinfra uploads to a temp file first: create it 0600 as the SSH
            # user so the secret is never world-readable, even for a moment.
            yield StringCommand(
                "install", "-m", "600", "/dev/null", shlex.quote(temp_file), _sudo=False
            )
        yield FileUploadCommand(StringIO(content), path, remote_temp_filename=temp_file)
    yield from _ownership_commands(path, current, mode, changed)


@operation()
def stack_files(
    paths: StackPaths,
    compose_file: str,
    env_file: HiddenValue,
    db_fingerprint: str | None = None,
):
    """
    Keep the stack directory (0700), docker-compose.yml (0644) and .env (0600), all
    owned by root, as given; read in one round trip.

    + paths: where the stack lives
    + compose_file: the rendered compose file (shown with ``--diff``)
    + env_file: the rendered .env, secret: never shown, diffed or put in a command
    + db_fingerprint: the database password's fingerprint to record (None: leave it)
    """
    current = host.get_fact(StackFiles, paths=paths)
    commands = [
        *_directory_commands(paths.directory, current.of(paths.directory), 700),
        *_file_commands(
            paths.compose_file,
            compose_file,
            current.of(paths.compose_file),
            644,
            secret=False,
            edited=current.edited_since_converge(paths.compose_file),
        ),
        *_file_commands(
            paths.env_file,
            env_file.unmask(),
            current.of(paths.env_file),
            600,
            secret=True,
            edited=current.edited_since_converge(paths.env_file),
        ),
    ]
    if db_fingerprint is not None:
        commands += _file_commands(
            paths.fingerprint_file,
            db_fingerprint + "\n",
            current.of(paths.fingerprint_file),
            600,
            secret=True,
            edited=False,
        )
    if not commands:
        host.noop(f"{paths.directory}, its compose file and .env are up to date")
    yield from commands


@operation()
def stack_converged(paths: StackPaths, service_images: dict[str, str]):
    """
    Bring the compose project in line with the files on the host, only when it differs.

    + paths: the stack's directory and project name
    + service_images: image reference per service, to notice a re-pointed tag

    Reads the desired per-service config hashes and the running containers in one
    round trip; runs ``compose up`` (which recreates only the affected services) when a
    container is missing, stopped, reconfigured, on an outdated image, or orphaned.
    """
    state = host.get_fact(ComposeStack, paths=paths)
    reasons = stack_drift(state, service_images)
    if not reasons:
        host.noop("the stack matches docker-compose.yml and .env")
        return
    logger.debug(f"{host.print_prefix}stack drift: {'; '.join(reasons)}")
    yield commands.compose_up(paths)


def run_quietly(host, command: str, arguments: dict):
    """Run a command whose output this project prints itself (masked), or not at all."""
    return host.run_shell_command(
        StringCommand(command), print_output=False, print_input=False, **arguments
    )


def wait_until_ok(state, host, url, timeout, paths, arguments) -> bool:
    """Poll url on the host until it answers OK; on timeout say why, with masked logs."""
    answered, _ = run_quietly(host, commands.wait_for_ok(url, timeout), arguments)
    if answered:
        return True
    _, answer = run_quietly(host, commands.http_answer(url), arguments)
    _, logs = run_quietly(host, commands.compose_logs(paths, LOG_LINES_ON_FAILURE), arguments)
    host.log_styled(
        f"{url} did not answer OK within {timeout}s (last answer: "
        f"{redact(answer.stdout.strip()) or 'none'}); last {LOG_LINES_ON_FAILURE} log lines "
        "of each service:",
        fg="red",
        log_func=logger.error,
    )
    # The services' own logs are the first thing a user needs here.
    for line in logs.stdout_lines + logs.stderr_lines:
        logger.error(f"    {redact(line)}")
    return False


@operation()
def server_answers(url: str, timeout: int, paths: StackPaths):
    """
    Wait until GET url answers ``OK`` on the host; fail with the services' logs if not.

    + url: the status URL as seen from the host
    + timeout: seconds to wait
    + paths: the stack, whose logs explain a failure

    Already answering: nothing to do, no change.
    """
    if host.get_fact(HttpBody, url=url) == "OK":
        host.noop(f"{url} answers OK")
        return
    yield FunctionCommand(wait_until_ok, (url, timeout, paths, connector_arguments()), {})


@operation()
def apt_is_free(timeout: int):
    """
    Wait, at most `timeout` seconds, until no other process holds apt's or dpkg's locks;
    then fail naming the holders. apt-get update does not wait for them by itself.

    + timeout: seconds to wait

    Waiting changes nothing: no change either way.
    """
    if state.is_executing:
        free, output = run_quietly(
            host, commands.wait_for_apt_locks(timeout), connector_arguments()
        )
        if not free:
            held = [
                line.split()[1:4] for line in output.stdout_lines if line.startswith("apt-lock ")
            ]
            holders = "; ".join(
                f"{lock} held by process {pid} ({name})" for lock, pid, name in held
            )
            yield failure(
                f"apt is still busy after {timeout}s (docker_apt_lock_timeout): {holders}. "
                "Let that process finish (a fresh droplet upgrades itself for a few minutes), "
                "then run again"
            )
            return
    host.noop("no other process holds apt")
