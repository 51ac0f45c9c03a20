"""
Install Docker, upload the stack and its secrets, converge it, wait until Prisma answers:
`pyinfra inventories/do.py deploy.py` (droplets) or `pyinfra inventories/local.py deploy.py`.
"""

from tasks.docker_engine import install_docker
from tasks.errors import refusal_stops_only_this_host
from tasks.firewall import configure_firewall
from tasks.lock import lock_host, unlock_host
from tasks.settings import prepare_host
from tasks.stack import deploy_stack, read_host, stack_secrets

with refusal_stops_only_this_host():
    settings = prepare_host()
    host_state = read_host(settings)
    lock_host(settings, "deploy.py")
    docker_untouched = install_docker(settings, host_state.engine)
    configure_firewall(settings, host_state)
    secrets = stack_secrets(settings, host_state.files)
    # The reading still describes the stack only while the engine is left as it was.
    deploy_stack(settings, secrets, host_state, fast_path=docker_untouched)
    unlock_host(settings)
