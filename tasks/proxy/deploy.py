"""The proxy's files in place before the stack starts it; after the stack, the files
applied with Caddy's reload and GET /status answering through the name over HTTPS."""

from __future__ import annotations

from io import StringIO

from pyinfra import host, logger
from pyinfra.operations import files

from tasks.proxy.config import HttpsCheck, files_digest
from tasks.proxy.facts import ProxyState
from tasks.proxy.operations import https_answers, proxy_reloaded
from tasks.pyinfra_helpers import converged_already, part_deploy
from tasks.settings import Settings
from tasks.stack.layout import StackPaths
from tasks.work import Work

PLAIN_HTTP_WARNING = (
    "prisma_domain is not set: Prisma answers plain HTTP on port {port}, and its data, "
    "the cluster's tokens and SCHEMA_MANAGER_SECRET cross the network unencrypted; set "
    "prisma_domain (see README.md, HTTPS)"
)


@part_deploy("Configure the HTTPS proxy")
def configure_proxy(settings: Settings, work: Work[ProxyState, dict[str, str]]) -> None:
    """`work.wanted`: path -> content of the proxy's files (empty: no domain, no proxy)."""
    if not settings.prisma_domain and not settings.host_name.startswith("@local"):
        host.log(PLAIN_HTTP_WARNING.format(port=settings.prisma_port), logger.warning)
    if not settings.prisma_domain and not work.needed:
        return  # off, and nothing of it on the host: not even a no-change operation
    state = f"for {settings.prisma_domain}" if settings.prisma_domain else "off (no domain)"
    if converged_already(work, "proxy", f"The HTTPS proxy is {state}", f"proxy {state}"):
        return
    paths = StackPaths.of(settings)
    if not work.wanted:
        files.directory(name=f"Remove {paths.proxy_dir}", path=paths.proxy_dir, present=False)
        files.file(name="Forget the proxy's record", path=paths.proxy_applied_file, present=False)
        return
    for path, mode in ((paths.directory, "700"), (paths.proxy_dir, "755")):
        files.directory(name=f"Make {path}", path=path, user="root", group="root", mode=mode)
    for path, content in work.wanted.items():
        files.put(
            name=f"Write {path}",
            src=StringIO(content),
            dest=path,
            user="root",
            group="root",
            mode="644",
        )
    if paths.acme_ca_root_file not in work.wanted:
        files.file(
            name=f"Remove {paths.acme_ca_root_file}", path=paths.acme_ca_root_file, present=False
        )


@part_deploy("Serve HTTPS")
def serve_https(settings: Settings, work: Work[ProxyState, dict[str, str]]) -> None:
    """After the stack: the proxy's files applied, then GET /status through the name."""
    if not (settings.prisma_domain and work.needed):
        return
    proxy_reloaded(
        name="Apply the proxy's configuration (Caddy's reload, no restart)",
        paths=StackPaths.of(settings),
        digest=files_digest(work.wanted),
    )
    https_answers(
        name="Wait until Prisma answers GET /status through its name over HTTPS",
        check=HttpsCheck.of(settings),
    )
