"""Custom operations of the stack part: each yields commands only when needed."""

from __future__ import annotations

import shlex
from io import StringIO

from pyinfra import host, logger, state
from pyinfra.api import FileUploadCommand, FunctionCommand, HiddenValue, StringCommand, operation
from pyinfra.api.host import Host
from pyinfra.facts.files import FileContents
from pyinfra.operations.util.files import generate_color_diff

from tasks.host.facts import HttpBody
from tasks.host.paths import PathState
from tasks.pyinfra_helpers import (
    connector_arguments,
    log_error,
    put_private_file,
    run_quietly,
)
from tasks.redaction import redact
from tasks.secrets.fingerprint import fingerprint_matches, password_fingerprint
from tasks.stack import commands
from tasks.stack.decide import PROVE, VERIFY, stack_drift
from tasks.stack.facts import ComposeProject, StackFiles
from tasks.stack.layout import StackPaths

LOG_LINES_ON_FAILURE = 40

# --- Files ------------------------------------------------------------------------------


def _ownership(path: str, current: PathState, mode: int, touched: bool) -> list[str]:
    quoted = shlex.quote(path)
    steps = []
    if touched or (current.user, current.group) != ("root", "root"):
        steps.append(f"chown root:root {quoted}")
    if touched or current.mode != mode:
        steps.append(f"chmod {mode} {quoted}")
    return steps


def _in_one_command(steps: list[str]):
    """Steps joined into one command: each command is a round trip to the host."""
    if steps:
        yield StringCommand(" && ".join(steps))


def directory_commands(path: str, current: PathState, mode: int):
    """Create the directory if missing; then make it root's with the given mode."""
    created = current.kind != "directory"
    steps = [f"mkdir -p {shlex.quote(path)}"] if created else []
    yield from _in_one_command(steps + _ownership(path, current, mode, created))


def _show_diff(path: str, content: str) -> None:
    current = host.get_fact(FileContents, path=path) or []
    host.log(f"Will modify {path}", logger.info)
    for line in generate_color_diff([line + "\n" for line in current], content.splitlines(True)):
        logger.info(f"  {line}")


def file_commands(
    path: str, content: str, current: PathState, mode: int, secret: bool, edited: bool
):
    """Upload content when the file differs; then make it root's with the given mode."""
    changed = not current.has_content(content)
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
    yield from _in_one_command(_ownership(path, current, mode, changed))


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
    wanted = [
        (paths.compose_file, compose_file, 644, False),
        (paths.env_file, env_file.unmask(), 600, True),
    ]
    if db_fingerprint is not None:
        wanted.append((paths.fingerprint_file, db_fingerprint + "\n", 600, True))
    commands_ = list(directory_commands(paths.directory, current.path(paths.directory), 700))
    for path, content, mode, secret in wanted:
        # The fingerprint is the deploy's own record: nobody edits it by hand.
        edited = path != paths.fingerprint_file and current.edited_since_converge(path)
        commands_ += file_commands(path, content, current.path(path), mode, secret, edited)
    if not commands_:
        host.noop(f"{paths.directory}, its compose file and .env are up to date")
    yield from commands_


# --- The database password ---------------------------------------------------------------


PASSWORD_DIFFERS = (
    "the database password differs from the one the database was initialised with "
    "(prisma_db_password, PRISMA_DB_PASSWORD or .secrets/<host>/db_password changed?). MySQL "
    "keeps its first password: the server would be locked out. To change it, see 'The "
    "database password' in README.md; otherwise give the password it was created with"
)


def _verify(state, host: Host, paths: StackPaths, password: HiddenValue, arguments) -> bool:
    read, output = run_quietly(host, f"cat {shlex.quote(paths.fingerprint_file)}", arguments)
    if read and fingerprint_matches(password.unmask(), output.stdout):
        return True
    log_error(host, PASSWORD_DIFFERS)
    return False


def _prove(state, host: Host, paths: StackPaths, password: HiddenValue, arguments) -> bool:
    """Log in with the password; only then record its fingerprint."""
    made, output = run_quietly(host, "umask 077 && mktemp", arguments)
    password_file = output.stdout.strip()
    logged_in = (
        made
        and put_private_file(host, StringIO(password.unmask()), password_file, arguments)
        and run_quietly(host, commands.database_login(password_file), arguments)[0]
    )
    if logged_in:
        fingerprint = password_fingerprint(password.unmask()) + "\n"
        return put_private_file(host, StringIO(fingerprint), paths.fingerprint_file, arguments)
    log_error(
        host,
        f"the database volume {paths.db_volume} exists but no fingerprint of its password is "
        f"recorded ({paths.fingerprint_file}), and the password this run would use could not "
        "be shown to log in to the running database (not running, or access denied). Start "
        "the stack with the password it was created with (start.py), give that password "
        "(prisma_db_password, PRISMA_DB_PASSWORD or .secrets/<host>/db_password), then "
        "deploy again",
    )
    return False


@operation()
def database_password_checked(paths: StackPaths, password: HiddenValue, check: str | None):
    """
    Make sure the database password is the one the volume was initialised with, before
    anything changes: against the recorded fingerprint (VERIFY), or by logging in to the
    running database and only then recording its fingerprint (PROVE).

    + paths: the stack
    + password: the password this run would write to .env (secret)
    + check: VERIFY, PROVE, or anything else for nothing to check

    Checking changes nothing; recording a proven fingerprint is the only change.
    """
    if check == VERIFY:
        yield FunctionCommand(_verify, (paths, password, connector_arguments()), {})
    elif check == PROVE:
        yield FunctionCommand(_prove, (paths, password, connector_arguments()), {})
    else:
        host.noop("nothing to check about the database password")


# --- Containers -------------------------------------------------------------------------


@operation()
def stack_converged(paths: StackPaths, service_images: dict[str, str]):
    """
    Bring the compose project in line with the files on the host, only when it differs.

    + paths: the stack's directory and project name
    + service_images: image reference per service, to notice a re-pointed tag

    Reads the desired per-service config hashes and the running containers in one
    round trip; runs ``compose up`` (which recreates only the affected services) when a
    container is missing, stopped, reconfigured, on an outdated image, or orphaned.
    Where the containers match but the record of the last converge does not match the
    files, writes the record alone: no container is touched.
    """
    project = host.get_fact(ComposeProject, paths=paths)
    reasons = stack_drift(project, service_images)
    if reasons:
        logger.debug(f"{host.print_prefix}stack drift: {'; '.join(reasons)}")
        yield commands.compose_up(paths)
    elif project.compose_asked:
        # Else every later read asks `compose config` (see record_written()).
        logger.debug(f"{host.print_prefix}the Compose record does not match the files")
        yield commands.record_written(paths)
    else:
        host.noop("the stack matches docker-compose.yml and .env")


@operation()
def stack_stopped(paths: StackPaths):
    """
    Stop the stack's containers, keeping them, their volume and the data.

    + paths: the stack

    Nothing running: no change.
    """
    containers = host.get_fact(ComposeProject, paths=paths).containers
    if not any(container.status == "running" for container in containers):
        host.noop("the stack is already stopped")
        return
    yield commands.compose(paths, "stop")


@operation(is_idempotent=False)
def stack_reset(paths: StackPaths):
    """
    Hard-reset the stack to an empty database: kill, down with orphans, the database's
    volume removed, up.

    + paths: the stack

    Always changes the host; deploy files call it only with the host's named consent.
    """
    yield commands.compose(paths, "kill")
    yield commands.compose(paths, "down --remove-orphans")
    # The database's volume only: the proxy's keeps its certificates (the CA's rate limits).
    yield StringCommand("docker", "volume", "rm", "--force", shlex.quote(paths.db_volume))
    if paths.data_dir:  # Docker's volume is only bound there: empty the directory itself
        yield f"find {shlex.quote(paths.data_dir)} -mindepth 1 -delete"
    yield commands.compose_up(paths)


# --- The server answering ---------------------------------------------------------------


def wait_until_ok(state, host: Host, url, timeout, paths, arguments) -> bool:
    """Poll url on the host until it answers OK; on timeout say why, with masked logs."""
    answered, _ = run_quietly(host, commands.wait_for_ok(url, timeout), arguments)
    if answered:
        return True
    _, answer = run_quietly(host, commands.http_answer(url), arguments)
    _, logs = run_quietly(host, commands.compose_logs(paths, LOG_LINES_ON_FAILURE), arguments)
    log_error(
        host,
        f"{url} did not answer OK within {timeout}s (last answer: "
        f"{redact(answer.stdout.strip()) or 'none'}); last {LOG_LINES_ON_FAILURE} log lines "
        "of each service:",
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
