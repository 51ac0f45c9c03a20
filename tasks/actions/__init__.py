"""The deploy files' verbs beyond deploy.py: the old `prisma local start|stop|upgrade|nuke`
and `prisma cluster logs`, plus status, rollback, backup and restore. Each module holds
the @deploy functions of its files; the operations they queue live in the parts."""
