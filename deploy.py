"""
Install Docker, upload the stack and its secrets, converge it, wait until Prisma answers:
`pyinfra inventories/do.py deploy.py` (droplets) or `pyinfra inventories/local.py deploy.py`.
"""

from tasks.docker_engine import install_docker
from tasks.settings import current_settings
from tasks.stack import deploy_stack, stack_secrets

settings = current_settings()
install_docker(settings)
deploy_stack(settings, stack_secrets(settings))
