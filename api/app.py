"""The FastAPI application: ``create_app(settings)``."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api.db import Database, upgrade
from api.failures import install_error_handlers
from api.jobs import make_workers
from api.limits import RequestLimits
from api.logs import install_redaction
from api.routes import health_router, v1_router
from api.routes.deps import Services
from api.services.bookings import BookingService
from api.services.catalogue import CatalogueService
from api.services.feeds import FeedService
from api.services.keys import KeyService
from api.services.problems import ProblemService
from api.services.publishing import PublishingService
from api.services.reports import ReportService
from api.services.runs import RunService, new_owner
from api.services.scenarios import ScenarioService
from api.settings import Settings

__all__ = ["create_app"]

DESCRIPTION = """\
Turns carers' referrals into respite bookings: beds for nights away and
sitting visits at home. Import a problem, start allocation runs, publish a
plan to confirmed bookings, then change or cancel them by hand.

Send an API key as `Authorization: Bearer <token>`. Every error is
`{"error": "<code>", "detail": "<sentence naming the field or item>"}`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """The brokerage service, configured by ``settings`` (default: environment)."""
    app = FastAPI(
        title="Respite brokerage service",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=_lifespan,
    )
    app.state.settings = settings or Settings()
    install_error_handlers(app)
    limits = app.state.settings
    app.add_middleware(
        RequestLimits, body_bytes=limits.max_body_bytes, upload_bytes=limits.max_upload_bytes
    )
    app.include_router(health_router)
    app.include_router(v1_router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The schema, with every error documented as what it is: the one JSON error shape
    (FastAPI documents its own 422 body, which the handler here replaces, and gives an
    HTML route's errors the route's content type)."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    error = {"$ref": "#/components/schemas/ErrorBody"}
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            for code, answer in operation.get("responses", {}).items():
                if code.isdigit() and int(code) >= 400:  # JSON, even from an HTML route
                    answer["content"] = {"application/json": {"schema": error}}
    for unused in ("HTTPValidationError", "ValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(unused, None)
    app.openapi_schema = schema
    return schema


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    install_redaction()  # after uvicorn has configured its loggers: feed tokens are in URLs
    if settings.migrate_on_start:
        upgrade(settings.database_url)
    db = Database(settings.database_url)
    workers = make_workers(settings, db)
    owner = new_owner()
    runs = RunService(db, workers, settings, owner)
    scenarios = ScenarioService(db, settings, owner)
    app.state.database = db
    app.state.workers = workers
    problems = ProblemService(db)
    app.state.services = Services(
        problems=problems,
        catalogue=CatalogueService(db),
        runs=runs,
        bookings=BookingService(db),
        publishing=PublishingService(db),
        keys=KeyService(db),
        feeds=FeedService(db),
        reports=ReportService(db, problems),
        scenarios=scenarios,
    )
    runs.recover()
    scenarios.recover()
    reaper = _Reaper(runs, interval=max(1.0, settings.stale_after_seconds / 4))
    try:
        yield
    finally:
        reaper.stop()
        scenarios.close()
        workers.close()
        db.dispose()


class _Reaper:
    """Fails runs whose worker went silent (a Dask worker lost, a machine down)."""

    def __init__(self, runs: RunService, interval: float) -> None:
        self._runs = runs
        self._interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="respite-reaper", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stopping.wait(self._interval):
            try:
                self._runs.fail_silent()
            except Exception:  # the database may be briefly away; try again later
                continue
