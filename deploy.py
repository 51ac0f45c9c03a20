"""
Install Docker, upload the stack and its secrets, converge it, wait until Prisma answers:
`pyinfra inventories/do.py deploy.py` (droplets) or `pyinfra inventories/local.py deploy.py`.
"""

from tasks.docker_engine import install_docker
from tasks.errors import refusal_stops_only_this_host
from tasks.firewall import configure_firewall
from tasks.lock import host_lock
from tasks.settings import prepare_host
from tasks.stack import deploy_stack, pending_work, read_host, stack_secrets

with refusal_stops_only_this_host():
    settings = prepare_host()
    host_state = read_host(settings)
    secrets = stack_secrets(settings, host_state.files)
    work = pending_work(settings, host_state, secrets)
    with host_lock(settings, "deploy.py", needed=bool(work)):
        docker_untouched = install_docker(settings, host_state.engine)
        configure_firewall(settings, host_state)
        # The reading still describes the stack only while the engine is left as it was.
        deploy_stack(settings, secrets, host_state, fast_path=docker_untouched)
