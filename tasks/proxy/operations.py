"""Custom operations of the proxy part: each yields commands only when needed."""

from __future__ import annotations

import shlex

from pyinfra import host, logger
from pyinfra.api import FunctionCommand, operation
from pyinfra.api.host import Host

from tasks.host.probes import tagged
from tasks.proxy import commands
from tasks.proxy.config import HttpsCheck
from tasks.proxy.decide import domain_problem
from tasks.proxy.facts import Proxy, parse_proxy
from tasks.pyinfra_helpers import connector_arguments, log_error, run_quietly
from tasks.redaction import redact
from tasks.stack.layout import StackPaths

LOG_LINES_ON_FAILURE = 40


@operation()
def proxy_reloaded(paths: StackPaths, digest: str):
    """
    Apply the proxy's files with Caddy's own reload (no restart, no container recreated)
    unless its last reload already applied exactly these.

    + paths: the stack
    + digest: files_digest() of the proxy's files as uploaded
    """
    if host.get_fact(Proxy, paths=paths, domain="", url="", ca_file="").applied == digest:
        host.noop("the proxy runs with its current files")
        return
    yield commands.reload_proxy(paths, digest)


def _diagnosis(host: Host, check: HttpsCheck, arguments) -> str:
    """Which of DNS, the ACME order or Prisma failed, read from the host now."""
    loopback = shlex.quote(check.loopback_url)
    probe = "; ".join(
        [
            commands.resolve_probe(check.domain),
            commands.host_addresses_probe(),
            commands.certificate_probe(check.paths, check.domain),
            commands.https_error(check.url, check.ca_file or None),
            f'echo "loopback $(curl --silent --max-time 5 {loopback} | head -c 200)"',
        ]
    )
    _, output = run_quietly(host, probe, arguments)
    found = parse_proxy(output.stdout_lines)
    answers = {tag: rest.strip() for tag, rest, _ in tagged(output.stdout_lines)}
    problem = domain_problem(check.domain, check.ssh_hostname, found)
    if problem:
        return f"DNS: {problem}"
    if not found.certificates:
        return (
            f"the ACME order: the proxy holds no certificate for {check.domain} from "
            f"{check.acme_ca} (see its log lines below)"
        )
    if answers.get("loopback") != "OK":
        return f"Prisma: {check.loopback_url} answers {answers.get('loopback') or 'nothing'}"
    return f"HTTPS: {answers.get('https-error') or 'no answer'} (certificate or proxy)"


def wait_until_https_ok(state, host: Host, check: HttpsCheck, arguments) -> bool:
    """Poll the URL over verified HTTPS; on timeout say what failed, with the proxy's logs."""
    wait = commands.wait_for_https_ok(check.url, check.ca_file or None, check.timeout)
    answered, _ = run_quietly(host, wait, arguments)
    if answered:
        return True
    reason = _diagnosis(host, check, arguments)
    _, logs = run_quietly(host, commands.proxy_logs(check.paths, LOG_LINES_ON_FAILURE), arguments)
    log_error(
        host,
        f"{check.url} did not answer OK over verified HTTPS within {check.timeout}s; failed: "
        f"{redact(reason)}; last {LOG_LINES_ON_FAILURE} log lines of the proxy:",
    )
    for line in logs.stdout_lines + logs.stderr_lines:
        logger.error(f"    {redact(line)}")
    return False


@operation()
def https_answers(check: HttpsCheck):
    """
    Wait until GET /status answers ``OK`` through the domain over HTTPS verified against
    the configured CA; fail saying whether DNS, the ACME order or Prisma failed if not.

    + check: the domain, URL, CA file and timeout
    """
    found = host.get_fact(
        Proxy, paths=check.paths, domain=check.domain, url=check.url, ca_file=check.ca_file
    )
    if found.https_body == "OK":
        host.noop(f"{check.url} answers OK")
        return
    yield FunctionCommand(wait_until_https_ok, (check, connector_arguments()), {})
