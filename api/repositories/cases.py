"""Cases: the people cared for, and what their stays and visits need."""

from __future__ import annotations

from api.repositories.base import Page
from api.repositories.items import ItemRepository
from api.tables import CaseRow
from scheduler.model import Case

__all__ = ["CaseRepository"]


class CaseRepository(ItemRepository[Case]):
    row_class, model = CaseRow, Case
    columns = (
        "case_id",
        "locality_id",
        "allowance_year_start",
        "sitting_hours_banked",
        "sitting_hours_recent",
        "contribution_per_night_pence",
    )

    def page(self, locality_id: str | None, limit: int, offset: int) -> Page[Case]:
        query = self._ordered()
        if locality_id is not None:
            query = query.where(CaseRow.locality_id == locality_id)
        return self._page(query, limit, offset)
