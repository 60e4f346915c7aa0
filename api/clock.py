"""The service's one clock: UTC, stored without a zone so SQLite and PostgreSQL agree."""

from __future__ import annotations

import datetime as dt

__all__ = ["as_utc", "utcnow"]


def utcnow() -> dt.datetime:
    """Now, in UTC."""
    return dt.datetime.now(dt.UTC)


def as_utc(moment: dt.datetime | None) -> dt.datetime | None:
    """A stored time with its zone: SQLite hands times back without one."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=dt.UTC)
