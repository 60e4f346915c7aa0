"""The solver's modules import one another one way: no circle, not even for types."""

from __future__ import annotations

import ast
import subprocess
import sys
from graphlib import TopologicalSorter
from pathlib import Path

import pytest

SOLVER = Path(__file__).resolve().parents[2] / "solver"
MODULES = sorted(p.stem for p in SOLVER.glob("*.py") if p.stem != "__init__")


def solver_imports(module: str) -> set[str]:
    """The solver modules ``module`` imports anywhere in it (under TYPE_CHECKING too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse((SOLVER / f"{module}.py").read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("solver."):
            names.add(node.module.removeprefix("solver."))
        elif isinstance(node, ast.Import):
            names.update(
                a.name.removeprefix("solver.") for a in node.names if a.name.startswith("solver.")
            )
    return names


def test_the_solver_modules_import_one_another_without_a_circle():
    graph = {module: solver_imports(module) for module in MODULES}
    order = list(TopologicalSorter(graph).static_order())  # raises CycleError on a circle
    assert set(MODULES) <= set(order)


@pytest.mark.parametrize("module", MODULES)
def test_each_solver_module_imports_alone(module):
    # In a fresh interpreter, so that no module another test loaded hides a circle.
    subprocess.run([sys.executable, "-c", f"import solver.{module}"], check=True, cwd=SOLVER.parent)
