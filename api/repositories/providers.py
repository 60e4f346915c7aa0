"""Providers of sitting visits, with their sitters' rotas."""

from __future__ import annotations

from api.repositories.base import Page
from api.repositories.items import ItemRepository
from api.tables import ProviderRow
from scheduler.model import Provider

__all__ = ["ProviderRepository"]


class ProviderRepository(ItemRepository[Provider]):
    row_class, model = ProviderRow, Provider
    columns = ("provider_id", "name")

    def page(
        self, locality_id: str | None, skill: str | None, limit: int, offset: int
    ) -> Page[Provider]:
        # Providers are few (tens) and their localities and skills are lists in
        # the body, so they are filtered here rather than with dialect-specific JSON SQL.
        chosen = [
            provider
            for provider in self.all()
            if (locality_id is None or locality_id in provider.localities)
            and (skill is None or skill in provider.skills)
        ]
        return Page(chosen[offset : offset + limit], len(chosen))

    def name(self, provider_id: str) -> str | None:
        """The provider's name, or None if there is no such provider."""
        row = self.session.get(ProviderRow, provider_id)
        return None if row is None else row.name

    def set_rota(self, provider: Provider) -> None:
        """Store a provider whose sitter rota changed."""
        row = self.session.get_one(ProviderRow, provider.provider_id)
        row.body = provider.model_dump(mode="json")
