"""Pure command builders of the deploy lock."""

from __future__ import annotations

import shlex

LOCK_ROOT = "/run/lock"


def lock_path(project: str) -> str:
    return f"{LOCK_ROOT}/prisma-deploy-{project}"


def take_command(path: str, holder: str) -> str:
    quoted = shlex.quote(path)
    return (
        f"mkdir -p {LOCK_ROOT} && if mkdir {quoted} 2>/dev/null; "
        f"then printf '%s\\n' {shlex.quote(holder)} > {quoted}/holder && echo taken; "
        f"else echo held; cat {quoted}/holder 2>/dev/null; fi"
    )


def release_command(path: str, run_id: str) -> str:
    """Remove the lock only if the run `run_id` holds it."""
    quoted = shlex.quote(path)
    return f"if grep -qs 'run={run_id} ' {quoted}/holder; then rm -rf {quoted}; fi"


def break_command(path: str) -> str:
    return f"rm -rf {shlex.quote(path)}"
