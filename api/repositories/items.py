"""What the repositories of planning items share: add in list order, read one,
read some or all in list order, read a page."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, inspect, select
from sqlalchemy.orm import Session

from api.repositories.base import Page, next_position, page_of

__all__ = ["ItemRepository"]

Item = TypeVar("Item", bound=BaseModel)


class ItemRepository(Generic[Item]):
    """Planning items of one kind, kept in rows with a ``position`` (the list order).

    A subclass names its row class (whose primary key is the item's id) and model.
    By default a row holds the item as JSON in ``body`` and copies the fields named
    in ``columns`` (those that lists are filtered by) into columns of their own; a
    subclass stored otherwise says how an item becomes a row and back.
    """

    row_class: ClassVar[Any]
    model: ClassVar[Any]
    columns: ClassVar[tuple[str, ...]] = ()

    def __init__(self, session: Session) -> None:
        self.session = session

    def _to_row(self, item: Item, position: int) -> Any:
        fields = {name: getattr(item, name) for name in self.columns}
        body = item.model_dump(mode="json")
        return self.row_class(**fields, position=position, body=body)

    def _to_item(self, row: Any) -> Item:
        return self.model.model_validate(row.body)

    def add(self, item: Item, position: int | None = None) -> None:
        """Store a new item; without ``position``, after every stored one."""
        if position is None:
            position = next_position(self.session, self.row_class.position)
        self.session.add(self._to_row(item, position))

    def get(self, item_id: str) -> Item | None:
        row = self.session.get(self.row_class, item_id)
        return None if row is None else self._to_item(row)

    def all(self, item_ids: Iterable[str] | None = None) -> list[Item]:
        """Every stored item, or those of ``item_ids``, in list order."""
        query = self._ordered()
        if item_ids is not None:
            id_column = inspect(self.row_class).primary_key[0]
            query = query.where(id_column.in_(set(item_ids)))
        return self._items(query)

    def _items(self, query: Select[Any]) -> list[Item]:
        return [self._to_item(row) for row in self.session.scalars(query)]

    def _ordered(self) -> Select[Any]:
        return select(self.row_class).order_by(self.row_class.position)

    def _page(self, query: Select[Any], limit: int, offset: int) -> Page[Item]:
        page = page_of(self.session, query, limit, offset)
        return Page([self._to_item(row) for row in page.items], page.total)
