"""
Install Docker, upload the stack and its secrets, converge it, wait until Prisma answers:
`pyinfra inventories/do.py deploy.py` (droplets) or `pyinfra inventories/local.py deploy.py`.
"""

from tasks.docker_engine import install_docker
from tasks.errors import refusal_stops_only_this_host
from tasks.firewall import configure_firewall
from tasks.lock import host_lock
from tasks.plan import plan_deploy
from tasks.settings import prepare_host
from tasks.stack import deploy_stack, read_host, stack_secrets

with refusal_stops_only_this_host():
    settings = prepare_host()
    host_state = read_host(settings)
    plan = plan_deploy(settings, host_state, stack_secrets(settings, host_state.files))
    with host_lock(settings, "deploy.py", needed=plan.changes_anything):
        install_docker(settings, host_state.engine, plan.engine)
        configure_firewall(settings, host_state, plan.firewall)
        deploy_stack(settings, plan)
