"""``respite serve --demo``: a database with the county fixture and an admin key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from api.db import Database, upgrade
from api.repositories import PlanningRepository
from api.schemas import ApiKeyCreate
from api.services.keys import KeyService
from api.services.problems import ProblemService
from api.settings import Settings
from scheduler.files import read_json

__all__ = ["prepare_demo"]


def prepare_demo(settings: Settings, problem_path: Path, *, port: int = 8000) -> Iterator[str]:
    """Load ``problem_path`` if the database is empty and issue an admin key.

    Yields the lines to print: what was loaded and the key's token.
    """
    upgrade(settings.database_url)
    db = Database(settings.database_url)
    try:
        with db.read() as session:
            empty = PlanningRepository(session).is_empty()
        if empty:
            counts = ProblemService(db).import_problem(
                read_json(problem_path), replace=False, actor="respite serve --demo"
            )
            yield f"loaded {problem_path}: {counts.model_dump()}"
        else:
            yield "the database holds planning data already; not loading the demo problem"
        key = KeyService(db).create(
            ApiKeyCreate(name="demo admin", role="admin"), actor="respite serve --demo"
        )
        yield f"admin API key (shown once): {key.token}"
        yield f"try: curl -H 'Authorization: Bearer {key.token}' http://127.0.0.1:{port}/v1/units"
    finally:
        db.dispose()
