"""The Prisma 1 CLI's cluster entry for each deployed host, kept beside its secrets."""
