"""
DigitalOcean droplets (by tag, through the API) or addresses from PRISMA_HOSTS:
`pyinfra inventories/do.py deploy.py`. See tasks/inventory.py or README.md for the
environment variables.
"""

from tasks.inventory import droplet_inventory

droplets = droplet_inventory()
