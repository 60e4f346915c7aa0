"""Localities: the areas cases live in and units and providers serve."""

from __future__ import annotations

from api.repositories.base import Page
from api.repositories.items import ItemRepository
from api.tables import LocalityRow
from scheduler.model import Locality

__all__ = ["LocalityRepository"]


class LocalityRepository(ItemRepository[Locality]):
    row_class = LocalityRow

    def _to_row(self, locality: Locality, position: int) -> LocalityRow:
        return LocalityRow(**locality.model_dump(), position=position)

    def _to_item(self, row: LocalityRow) -> Locality:
        return Locality(locality_id=row.locality_id, name=row.name)

    def page(self, limit: int, offset: int) -> Page[Locality]:
        return self._page(self._ordered(), limit, offset)
