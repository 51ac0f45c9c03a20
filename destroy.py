"""
Delete the declared droplets, after a final backup where the stack answers. Their volumes
(the databases), reserved IPs and DNS records are kept and listed, unless destroy_data=true.
Refuses without consent naming each droplet:
`pyinfra @local destroy.py --data destroy_confirm=prisma-01,prisma-02 [--data destroy_data=true]`
"""

from tasks.actions.provision import destroy_droplets, local_settings
from tasks.errors import refusal_stops_only_this_host

with refusal_stops_only_this_host():
    destroy_droplets(local_settings())
