"""Thin routes: parse, authorise, call a service, render."""

from fastapi import APIRouter

from api.errors import error_responses
from api.routes import (
    bookings,
    catalogue,
    feeds,
    health,
    keys,
    problem,
    reports,
    runs,
    scenarios,
    sheets,
)

__all__ = ["health_router", "v1_router"]

health_router = health.router
# Every route may answer 400 (unparseable body) and 422 (invalid input) in the one error shape.
v1_router = APIRouter(prefix="/v1", responses=error_responses(400, 422))
for module in (problem, catalogue, sheets, runs, bookings, keys, feeds, reports, scenarios):
    v1_router.include_router(module.router)
