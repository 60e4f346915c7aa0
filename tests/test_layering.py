"""Imports flow one way: api -> scheduler -> solver."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def modules_after_import(module: str) -> set[str]:
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(out.stdout.split())


def imported_names(package: str) -> set[str]:
    names: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def test_scheduler_model_loads_without_the_web_stack():
    loaded = modules_after_import("scheduler.model")
    assert "fastapi" not in loaded
    assert "sqlalchemy" not in loaded


@pytest.mark.parametrize("module", ["solver.cpsat", "solver.greedy", "solver.components"])
def test_solver_loads_without_scheduler_api_or_pydantic(module):
    loaded = modules_after_import(module)
    assert not {m for m in loaded if m.split(".")[0] in {"scheduler", "api", "pydantic", "fastapi"}}


def test_no_import_flows_the_wrong_way():
    assert not imported_names("solver") & {"scheduler", "api", "pydantic", "fastapi", "sqlalchemy"}
    assert not imported_names("scheduler") & {"api", "fastapi", "sqlalchemy", "alembic"}


def test_the_checker_trusts_nothing_it_checks():
    loaded = modules_after_import("scheduler.checker")
    assert not {m for m in loaded if m.startswith(("ortools", "solver"))}
