"""Thin routes: parse, authorise, call a service, render."""

from fastapi import APIRouter

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
v1_router = APIRouter(prefix="/v1")
for module in (problem, catalogue, sheets, runs, bookings, keys, feeds, reports, scenarios):
    v1_router.include_router(module.router)
