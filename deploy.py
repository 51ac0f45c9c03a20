"""
Install Docker, upload the stack and its secrets, converge it, wait until Prisma answers;
set up off-site backups when `backup_repository` is set:
`pyinfra inventories/do.py deploy.py` (droplets) or `pyinfra inventories/local.py deploy.py`.
"""

from tasks.actions.preflight import prepare_host
from tasks.backups.deploy import configure_offsite_backups
from tasks.cluster.deploy import keep_cluster_entry
from tasks.engine.deploy import install_docker
from tasks.errors import refusal_stops_only_this_host
from tasks.firewall.deploy import configure_firewall
from tasks.lock.operations import host_lock
from tasks.plan import plan_deploy
from tasks.proxy.deploy import configure_proxy, serve_https
from tasks.pyinfra_helpers import no_operation_when_converged
from tasks.stack.deploy import check_database_password, deploy_stack
from tasks.volume.deploy import mount_data_volume

with refusal_stops_only_this_host():
    settings = prepare_host()
    plan = plan_deploy(settings)
    with (
        host_lock(settings, "deploy.py", needed=plan.changes_anything),
        no_operation_when_converged(plan.changes_anything),
    ):
        check_database_password(settings, plan.stack)
        install_docker(settings, plan.engine)
        configure_firewall(settings, plan.firewall)
        mount_data_volume(settings, plan.volume)
        configure_proxy(settings, plan.proxy)
        deploy_stack(settings, plan.stack)
        serve_https(settings, plan.proxy)
        configure_offsite_backups(settings, plan.backups)
    keep_cluster_entry(settings)
