"""
The deploy's building blocks, in layers; imports only point down (pyproject.toml's
import-linter contracts, run by .ci/run):

- actions/: the @deploy functions of the lifecycle files (start, stop, nuke, logs,
  status, upgrade, rollback, backup, restore) and their preflight checks;
- plan/: deploy.py's one reading of the whole host and its decision, one work item per part;
- parts, each with its facts (read), decide (pure) and operations/deploy (act):
  engine/, firewall/, stack/, lock/, inventory.py; and, built on the stack, images/
  (upgrade/rollback) and backups/;
- secrets/: where the stack's secrets come from and are kept;
- host/ and settings/: the generic pieces of reading a host; every setting, checked;
- errors.py, pyinfra_helpers.py, work.py, redaction.py, project.py: foundations.
"""
