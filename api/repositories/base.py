"""What the repositories share: paging and the next list position."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

__all__ = ["Page", "next_position", "page_of"]


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and how many items match in all."""

    items: list[T]
    total: int


def page_of(session: Session, query: Select[Any], limit: int, offset: int) -> Page[Any]:
    """Run ``query`` for one page of rows, and count every matching row."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = list(session.scalars(query.limit(limit).offset(offset)))
    return Page(rows, int(total or 0))


def next_position(session: Session, column: Any) -> int:
    """The position after the last one, so that new items list after imported ones."""
    last = session.scalar(select(func.max(column)))
    return 0 if last is None else int(last) + 1
