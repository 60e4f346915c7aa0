"""All SQL lives in api/repositories: routes, services and jobs call repository methods.

The scan reads the source (no import): outside the repositories, nothing may import
the SQL expression language (``select``, ``update``, ``delete``, ``func``, ``text``...)
from SQLAlchemy or run a statement (``.execute``, ``.scalar``, ``.scalars``), and no
session may read or write rows itself (``session.get``, ``session.add``...).
Sessions are still opened, flushed and committed by the services: the transaction
is theirs. ``sqlalchemy.orm`` (the ``Session`` type) and ``sqlalchemy.exc`` (the
errors a service turns into answers) may be imported anywhere.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Where SQL belongs, and what defines the schema and the engine rather than querying.
ALLOWED = ("api/repositories/", "api/migrations/", "api/tables.py", "api/db.py")
STATEMENT_CALLS = {"execute", "scalar", "scalars", "exec_driver_sql"}
SESSION_CALLS = {"get", "get_one", "add", "add_all", "delete", "merge", "query", "refresh"}
HARMLESS_MODULES = ("sqlalchemy.orm", "sqlalchemy.exc")


def sql_outside_repositories(root: Path) -> list[str]:
    """``file:line: what`` for each SQL import or statement in ``root/api`` outside
    :data:`ALLOWED`."""
    found = []
    for path in sorted((root / "api").rglob("*.py")):
        name = path.relative_to(root).as_posix()
        if not name.startswith(ALLOWED):
            found += [f"{name}:{line}: {what}" for line, what in sql_in(path.read_text())]
    return found


def sql_in(source: str) -> list[tuple[int, str]]:
    """The line and a description of each SQL import or statement in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and _is_sql_module(node.module, node.level):
            names = ", ".join(alias.name for alias in node.names)
            found.append((node.lineno, f"imports {names} from {node.module}"))
        elif isinstance(node, ast.Import):
            found += [
                (node.lineno, f"imports {alias.name}")
                for alias in node.names
                if _is_sql_module(alias.name, 0)
            ]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method, receiver = node.func.attr, _name(node.func.value)
            if method in STATEMENT_CALLS or (method in SESSION_CALLS and "session" in receiver):
                found.append((node.lineno, f"calls {receiver or '...'}.{method}()"))
    return sorted(found)


def _is_sql_module(module: str | None, level: int) -> bool:
    if level or module is None or not (module + ".").startswith("sqlalchemy."):
        return False
    return not (module + ".").startswith(tuple(m + "." for m in HARMLESS_MODULES))


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else ""


def test_sql_lives_only_in_the_repositories():
    found = sql_outside_repositories(ROOT)
    assert not found, "SQL outside api/repositories:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # The statement builders, from the package or its submodules.
        ("from sqlalchemy import select, update", [(1, "imports select, update from sqlalchemy")]),
        ("from sqlalchemy.sql import text", [(1, "imports text from sqlalchemy.sql")]),
        ("import sqlalchemy", [(1, "imports sqlalchemy")]),
        # Running a statement, on a session or on anything else.
        ("x = 1\nsession.execute(query)", [(2, "calls session.execute()")]),
        ("self.session.scalar(query)", [(1, "calls session.scalar()")]),
        ("connection.scalars(query)", [(1, "calls connection.scalars()")]),
        # A session reading or writing rows by itself.
        ("row = session.get(RunRow, run_id)", [(1, "calls session.get()")]),
        ("db_session.add(row)", [(1, "calls db_session.add()")]),
        # Not SQL: the Session type, the errors, a set's update, a dict's get, a flush.
        ("from sqlalchemy.orm import Session", []),
        ("from sqlalchemy.exc import IntegrityError", []),
        ("around.nights.update(booking.night_list)", []),
        ("files.get(name)", []),
        ("session.flush()", []),
    ],
)
def test_the_scan_finds_sql(source, expected):
    assert sql_in(source) == expected


def test_the_scan_names_the_file_and_line(tmp_path):
    service = tmp_path / "api" / "services" / "runs.py"
    service.parent.mkdir(parents=True)
    service.write_text('"""A service."""\n\nrows = session.scalars(query)\n')
    repository = tmp_path / "api" / "repositories" / "runs.py"
    repository.parent.mkdir(parents=True)
    repository.write_text("rows = session.scalars(query)\n")
    assert sql_outside_repositories(tmp_path) == ["api/services/runs.py:3: calls session.scalars()"]
