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
- errors.py, pyinfra_helpers.py, work.py, redaction.py, project.py, yaml_text.py:
  foundations.
"""

import os
import sys

# pyinfra's CLI turns off writing bytecode for its whole process, so that a user's deploy
# directory gets no __pycache__. This package is imported by every run and its
# __pycache__ is ignored by git: compiled once, it spares each run recompiling some
# eighty modules (about 30 ms of a no-op deploy's 0.7 s, bench/noop_rerun.py). Python's
# own switch, PYTHONDONTWRITEBYTECODE, still turns it off.
sys.dont_write_bytecode = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
