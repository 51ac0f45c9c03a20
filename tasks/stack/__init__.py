"""The Prisma stack on a host: its files (docker-compose.yml, .env), its containers
converged with Compose, and the server answering GET /status."""
