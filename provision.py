"""
The DigitalOcean side, declared from the settings: droplets (do_droplets), each with a
block-storage volume for the database, a reserved IP and, with prisma_domain, a DNS
record; the SSH key, the tags and a Cloud Firewall. A second run changes nothing.
`pyinfra @local provision.py` (DIGITALOCEAN_TOKEN in the environment), then
`pyinfra inventories/do.py deploy.py`.
"""

from tasks.actions.provision import local_settings, provision_droplets
from tasks.errors import refusal_stops_only_this_host

with refusal_stops_only_this_host():
    provision_droplets(local_settings())
