"""The ``respite`` console script: the scheduler's commands plus ``serve`` and ``db``.

``scheduler`` never imports ``api``, so the console script points here
(``api.cli:main``). FastAPI and uvicorn are imported inside the commands that
need them, so that ``respite check`` stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from scheduler.cli import app, fail
from scheduler.cli import main as run_app

__all__ = ["app", "main"]

db_app = typer.Typer(help="The service's database.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys of the service.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")

DEMO_PROBLEM = Path("fixtures/county-1.json")


@app.command()
def serve(
    demo: Annotated[
        bool, typer.Option(help="Load fixtures/county-1.json if the database is empty.")
    ] = False,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    problem: Annotated[Path, typer.Option(help="The problem file --demo loads.")] = DEMO_PROBLEM,
) -> None:
    """Run the brokerage API (settings from RESPITE_* environment variables)."""
    import uvicorn

    from api.app import create_app
    from api.settings import Settings

    settings = Settings()
    if demo:
        for line in _prepare_demo(settings, problem, port):
            typer.echo(line)
    # Clients (calendar apps, the brokers' browsers) keep connections open between
    # requests; closing them after uvicorn's default 5 s races their next request.
    uvicorn.run(create_app(settings), host=host, port=port, timeout_keep_alive=75)


def _prepare_demo(settings: Any, problem: Path, port: int) -> list[str]:
    """What ``--demo`` prints; a bad problem file is one line and exit 2, before serving."""
    from api.demo import prepare_demo
    from api.errors import RespiteError
    from scheduler.files import read_json
    from scheduler.model import InvalidProblem

    try:
        if not isinstance(read_json(problem), dict):
            fail(f"{problem}: the file must hold a JSON object")
        return list(prepare_demo(settings, problem, port=port))
    except InvalidProblem as exc:
        fail(str(exc.errors[0]))
    except RespiteError as exc:
        fail(f"{problem}: {exc.detail}")
    raise AssertionError("unreachable: fail() exits")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply the database migrations (RESPITE_DATABASE_URL)."""
    from api.db import upgrade
    from api.settings import Settings

    upgrade(Settings().database_url, revision)
    typer.echo(f"database migrated to {revision}")


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option(help="Who the key is for.")],
    role: Annotated[str, typer.Option(help="admin, broker, planner or provider.")] = "admin",
    provider_id: Annotated[str | None, typer.Option()] = None,
    unit_id: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Issue an API key and print its token (shown once)."""
    from api.db import Database, upgrade
    from api.schemas import ApiKeyCreate
    from api.services.keys import KeyService
    from api.settings import Settings

    settings = Settings()
    upgrade(settings.database_url)
    body = ApiKeyCreate(name=name, role=role, provider_id=provider_id, unit_id=unit_id)  # type: ignore[arg-type]
    db = Database(settings.database_url)
    try:
        key = KeyService(db).create(body, actor="respite keys create")
    finally:
        db.dispose()
    typer.echo(key.token)


def main() -> None:
    """Entry point of the ``respite`` console script: every failure one line, exit non-zero."""
    run_app()
