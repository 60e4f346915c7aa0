"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request

from api.errors import NotReady, error_responses
from api.repositories.migrations import MigrationRepository
from api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is up")
def healthz() -> Health:
    return Health()


@router.get(
    "/readyz",
    response_model=Health,
    summary="The database answers and is migrated",
    responses=error_responses(503),
)
def readyz(request: Request) -> Health:
    db = request.app.state.database
    try:
        with db.read() as session:
            version = MigrationRepository(session).revision()
    except Exception as exc:
        raise NotReady(f"the database is not ready: {type(exc).__name__}") from None
    return Health(database=f"{db.engine.dialect.name} at migration {version}")
