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

import gc
import os
import sys

# pyinfra's CLI turns off writing bytecode for its whole process, so that a user's deploy
# directory gets no __pycache__. This package is imported by every run and its
# __pycache__ is ignored by git: compiled once, it spares each run recompiling some
# eighty modules (about 30 ms of a no-op deploy's 0.7 s, bench/noop_rerun.py). Python's
# own switch, PYTHONDONTWRITEBYTECODE, still turns it off.
sys.dont_write_bytecode = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))

# What pyinfra and its CLI made before this package's import lives for the whole run:
# frozen out of the cyclic collector's sight, the collections that this project's
# imports and each host's plan set off no longer walk it. Measured on a no-op run of
# 16 converged hosts: about 70 ms less of the pyinfra process's CPU, 17 ms of it during
# these imports. Nothing frozen is freed, but nothing of it would be.
gc.freeze()
