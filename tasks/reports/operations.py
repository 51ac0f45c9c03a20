"""Operations of the reports: they read, so they report no change."""

from __future__ import annotations

import datetime

import click
from pyinfra import host, state
from pyinfra.api import FunctionCommand, StringCommand, operation

from tasks.pyinfra_helpers import connector_arguments, failure, run_quietly
from tasks.redaction import redact
from tasks.reports import commands
from tasks.reports.status import (
    StatusSection,
    certificate_status,
    service_statuses,
    status_document,
    status_table,
)
from tasks.stack.commands import no_stack_reason
from tasks.stack.layout import StackPaths


def _no_stack(paths: StackPaths, host_name: str, stderr_lines: list[str]) -> FunctionCommand | None:
    """A failure when a commands.when_deployed() command found no stack, else None."""
    if commands.found_no_stack(paths, stderr_lines):
        return failure(f"host {host_name}: {no_stack_reason(paths)}")
    return None


@operation()
def logs_shown(paths: StackPaths, command: str, host_name: str):
    """
    Print the services' logs, each line prefixed with the host it came from.

    + paths: the stack
    + command: commands.logs_command(): `docker logs` of each container
    + host_name: how the host is named in an error

    Reading logs changes nothing, so this reports no change; lines go to stderr like
    the rest of pyinfra's output, secrets masked. Fails where deploy.py never ran.
    """
    if state.is_executing:
        status, output = host.run_shell_command(
            StringCommand(commands.when_deployed(paths, command)),
            print_output=True,
            print_input=False,
            **connector_arguments(),
        )
        if not status:
            no_stack = _no_stack(paths, host_name, output.stderr_lines)
            yield no_stack or failure("reading the logs failed (see above)")
            return
    host.noop("logs shown")


@operation()
def status_reported(
    paths: StackPaths,
    url: str,
    output_format: str,
    host_name: str,
    domain: str = "",
    sections: tuple[StatusSection, ...] = (),
):
    """
    Print each service's state, health, image and digest, uptime, and whether GET
    /status answers OK: a table for people or one JSON object per host for scripts.

    + paths: the stack
    + url: the status URL as seen from the host
    + output_format: 'table' or 'json'
    + host_name: how the host is named in the output
    + domain: prisma_domain, whose certificate's issuer and expiry are shown ('' for none)
    + sections: more to report, read in the same round trip (e.g. off-site backups)

    Reading changes nothing, so this reports no change. JSON goes to stdout alone.
    Fails where deploy.py never ran.
    """
    if state.is_executing:
        probes = [commands.status_report(paths, url, domain), *(s.probe for s in sections)]
        command = commands.when_deployed(paths, "; ".join(probes))
        read, output = run_quietly(host, command, connector_arguments())
        if not read:
            no_stack = _no_stack(paths, host_name, output.stderr_lines)
            yield no_stack or failure(f"could not read the stack's status: {redact(output.stderr)}")
            return
        now = datetime.datetime.now(datetime.timezone.utc)
        rows, body = service_statuses(output.stdout_lines, now)
        certificate = certificate_status(output.stdout_lines, domain, now)
        more = {s.key: s.read(output.stdout_lines, now) for s in sections}
        if output_format == "json":
            click.echo(status_document(host_name, rows, body, url, certificate, more))
        else:
            lines = tuple(line for s in sections for line in s.table_lines(more[s.key]))
            click.echo(status_table(host_name, rows, body, url, certificate, lines), err=True)
    host.noop("status reported")
