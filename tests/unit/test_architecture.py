"""
The architecture's rules, checked: imports only point down (import-linter contracts,
shown to catch the two cycles the old tree had), small modules and functions, and every
imported package declared in pyproject.toml.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from tasks.project import PROJECT_ROOT

TASKS = PROJECT_ROOT / "tasks"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
DEPLOY_FILES = sorted(PROJECT_ROOT.glob("*.py"))
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 60


def python_files(*roots: Path) -> list[Path]:
    return [path for root in roots for path in sorted(root.rglob("*.py"))]


def lint_imports(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=project,
        env={"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_import_contracts_hold():
    result = lint_imports(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


# The two cycles the tree had before it was layered, each re-created by one import.
OLD_CYCLES = {
    "settings -> host facts (prepare_host's PasswordlessSudo)": (
        "settings/loading.py",
        "from tasks.host.facts import PasswordlessSudo\n",
    ),
    "stack -> plan (DeployPlan under TYPE_CHECKING)": (
        "stack/deploy.py",
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from tasks.plan import DeployPlan\n",
    ),
}


@pytest.mark.parametrize("cycle", sorted(OLD_CYCLES))
def test_the_contracts_break_on_the_old_cycles(tmp_path, cycle):
    """Positive control: the contracts are not vacuous."""
    module, line = OLD_CYCLES[cycle]
    shutil.copytree(TASKS, tmp_path / "tasks", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path)
    assert lint_imports(tmp_path).returncode == 0
    with (tmp_path / "tasks" / module).open("a") as source:
        source.write(line)
    result = lint_imports(tmp_path)
    assert result.returncode != 0 and "BROKEN" in result.stdout.upper(), result.stdout


@pytest.mark.parametrize("path", python_files(TASKS), ids=lambda p: str(p.relative_to(TASKS)))
def test_modules_are_small(path):
    assert len(path.read_text().splitlines()) <= MAX_MODULE_LINES


def test_functions_are_small():
    long = [
        f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {node.name}"
        for path in python_files(TASKS)
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


def imported_packages(paths: list[Path]) -> set[str]:
    names = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {name for name in names if name not in sys.stdlib_module_names} - {"tasks", "tests"}


def declared(*groups: str) -> set[str]:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for group in groups:
        requirements += project["optional-dependencies"][group]
    return {requirement_name(requirement) for requirement in requirements}


def requirement_name(requirement: str) -> str:
    """The distribution a requirement names ('pyinfra>=3.10,<4' -> 'pyinfra')."""
    return requirement.split(">")[0].split("=")[0].split("<")[0].strip().lower().replace("_", "-")


def distributions(modules: set[str]) -> dict[str, set[str]]:
    known = packages_distributions()
    return {
        module: {name.lower().replace("_", "-") for name in known.get(module, [module])}
        for module in modules
    }


def test_every_runtime_import_is_a_declared_dependency():
    code = python_files(TASKS, PROJECT_ROOT / "inventories") + DEPLOY_FILES
    runtime = declared()
    undeclared = {
        m: d for m, d in distributions(imported_packages(code)).items() if not d & runtime
    }
    assert undeclared == {}


def test_the_test_hosts_wheelhouse_holds_every_runtime_dependency():
    """The README's one command installs the project on a test host from a wheelhouse,
    with no index: a dependency missing there fails only that end-to-end test."""
    from tests.e2e.harness import WHEELHOUSE_REQUIREMENTS

    in_wheelhouse = {requirement_name(requirement) for requirement in WHEELHOUSE_REQUIREMENTS}
    assert declared() - in_wheelhouse == set()


def test_every_test_import_is_declared():
    code = python_files(PROJECT_ROOT / "tests" / "unit", PROJECT_ROOT / "tests" / "e2e")
    code = [path for path in code if "images" not in path.parts]  # run inside stand-in images
    known = declared("test")
    undeclared = {m: d for m, d in distributions(imported_packages(code)).items() if not d & known}
    assert undeclared == {}


def test_function_commands_take_state_and_host_by_those_names():
    """pyinfra passes (state, host) to a FunctionCommand's function only when its first
    parameters are named exactly so; any other name gets the arguments shifted."""
    wrong = [
        f"{path.relative_to(PROJECT_ROOT)}:{node.lineno} {node.name}"
        for path in python_files(TASKS)
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef)
        and node.args.args[:1]
        and node.args.args[0].arg == "state"
        and [argument.arg for argument in node.args.args[:2]] != ["state", "host"]
    ]
    assert wrong == []
