"""Custom pyinfra operations of this project: each yields commands only when needed."""

from __future__ import annotations

import hashlib
import shlex
from io import StringIO

from pyinfra import host, logger
from pyinfra.api import FileUploadCommand, FunctionCommand, HiddenValue, StringCommand, operation
from pyinfra.api.arguments import CONNECTOR_ARGUMENT_KEYS
from pyinfra.facts.files import File, Sha256File

from tasks import commands
from tasks.commands import StackPaths
from tasks.drift import stack_drift
from tasks.facts import ComposeStack, HttpBody
from tasks.redaction import redact

LOG_LINES_ON_FAILURE = 40


def _connector_arguments() -> dict:
    """The running operation's connection arguments (sudo etc.), for FunctionCommands."""
    arguments = host.current_op_global_arguments or {}
    return {key: arguments[key] for key in CONNECTOR_ARGUMENT_KEYS if key in arguments}


@operation()
def secret_file(
    dest: str,
    content: HiddenValue,
    mode: str = "600",
    user: str = "root",
    group: str = "root",
):
    """
    Upload a file whose content is secret: never diffed, printed or passed in a command.

    + dest: remote path (its directory must exist and should be private)
    + content: the file content, wrapped so it never prints
    + mode/user/group: wanted ownership and permissions

    Unlike ``files.put``, ``--diff`` shows only that the content changes, not how.
    """
    raw = content.unmask()
    desired_sha256 = hashlib.sha256(raw.encode()).hexdigest()
    current = host.get_fact(File, path=dest) or {}
    content_ok = bool(current) and host.get_fact(Sha256File, path=dest) == desired_sha256
    owner_ok = content_ok and (current.get("user"), current.get("group")) == (user, group)
    mode_ok = content_ok and current.get("mode") == int(mode)

    if content_ok and owner_ok and mode_ok:
        host.noop(f"{dest} is up to date")
        return

    if not content_ok:
        host.log(f"{dest}: content will change (secret, not shown)", logger.info)
        temp_file = host.get_temp_filename(dest)
        if _connector_arguments().get("_sudo"):
            # With sudo pyinfra uploads to a temp file first: create it 0600 as the SSH
            # user so the secret is never world-readable, even for a moment.
            yield StringCommand(
                "install", "-m", "600", "/dev/null", shlex.quote(temp_file), _sudo=False
            )
        yield FileUploadCommand(StringIO(raw), dest, remote_temp_filename=temp_file)
    if not owner_ok:
        yield StringCommand("chown", f"{user}:{group}", shlex.quote(dest))
    if not mode_ok:
        yield StringCommand("chmod", mode, shlex.quote(dest))


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
    image_refs = sorted(set(service_images.values()))
    state = host.get_fact(ComposeStack, paths=paths, image_refs=image_refs)
    reasons = stack_drift(state, service_images)
    if not reasons:
        host.noop("the stack matches docker-compose.yml and .env")
        return
    logger.debug(f"{host.print_prefix}stack drift: {'; '.join(reasons)}")
    yield commands.compose_up(paths)


def _wait_until_ok(state, host, url, timeout, paths, connector_arguments) -> bool:
    status, _ = host.run_shell_command(
        StringCommand(commands.wait_for_ok(url, timeout)),
        print_output=False,
        print_input=state.print_input,
        **connector_arguments,
    )
    if status:
        return True
    # Show why, masked: the services' own logs are the first thing a user needs here.
    _, output = host.run_shell_command(
        StringCommand(commands.compose_logs(paths, LOG_LINES_ON_FAILURE)),
        print_output=False,
        print_input=state.print_input,
        **connector_arguments,
    )
    _, answer = host.run_shell_command(
        StringCommand(commands.http_answer(url)),
        print_output=False,
        print_input=state.print_input,
        **connector_arguments,
    )
    host.log_styled(
        f"{url} did not answer OK within {timeout}s (last answer: "
        f"{redact(answer.stdout.strip()) or 'none'}); last {LOG_LINES_ON_FAILURE} log lines "
        "of each service:",
        fg="red",
        log_func=logger.error,
    )
    for line in output.stdout_lines + output.stderr_lines:
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
    yield FunctionCommand(_wait_until_ok, (url, timeout, paths, _connector_arguments()), {})
