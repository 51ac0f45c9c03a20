"""
HTTPS in front of Prisma (`prisma_domain`): Caddy's configuration, generated as JSON,
uploaded beside the stack and applied with Caddy's own reload; the check that the
domain points at the host before any certificate is ordered; the wait through the
public name over verified HTTPS; the certificate's issuer and expiry.

The proxy service itself is part of the stack's compose file (tasks/stack/compose_file.py).
"""
