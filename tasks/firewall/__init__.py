"""
The host firewall (`prisma_firewall`): only SSH, the Prisma port and the extra ports
reachable from outside, including Docker-published ports, which bypass INPUT rules.

The rules live in files/prisma-firewall, applied by a systemd unit that runs before
Docker at every boot; Docker never rewrites the DOCKER-USER chain the rules hook into,
so they survive Docker restarts too.
"""
