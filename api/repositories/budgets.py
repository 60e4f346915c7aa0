"""Budgets: spending limits over units and providers."""

from __future__ import annotations

from api.repositories.items import ItemRepository
from api.tables import BudgetRow
from scheduler.model import Budget

__all__ = ["BudgetRepository"]


class BudgetRepository(ItemRepository[Budget]):
    row_class, model = BudgetRow, Budget
    columns = ("budget_id",)
