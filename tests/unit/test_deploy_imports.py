"""deploy.py's start imports nothing a host with nothing to change never uses: every run
pays each of its imports once, before any host is read."""

from __future__ import annotations

import subprocess
import sys

from tasks.project import PROJECT_ROOT

# Only some hosts need these (S3 keys, a restore, changes to off-site backups); the
# modules that use them import them where they are used.
NOT_AT_START = ("configparser", "gzip", "tasks.backups.operations", "tasks.backups.local")


def modules_loaded_by(deploy_file: str) -> set[str]:
    """The modules loaded by the import lines of a deploy file, in a fresh interpreter."""
    source = (PROJECT_ROOT / deploy_file).read_text().splitlines()
    imports = [line for line in source if line.startswith(("from ", "import "))]
    code = "\n".join([*imports, "import sys", "print(*sys.modules)"])
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    return set(run.stdout.split())


def test_deploy_py_imports_only_what_a_converged_host_uses():
    loaded = modules_loaded_by("deploy.py")
    assert "tasks.plan.decide" in loaded  # positive control: the imports did run
    assert sorted(set(NOT_AT_START) & loaded) == []


def test_what_existed_before_the_project_is_frozen_out_of_the_collector():
    code = (
        "import gc, pyinfra.api; before = gc.get_freeze_count(); import tasks; "
        "print(before, gc.get_freeze_count())"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    before, after = (int(count) for count in run.stdout.split())
    assert before == 0 and after > 10_000  # pyinfra's objects, not a handful
