"""API keys: issue (the token is shown once), list, revoke, authenticate."""

from __future__ import annotations

import uuid

from api.auth import Principal, hash_token, new_token
from api.clock import as_utc, utcnow
from api.db import Database
from api.errors import InvalidInput, NotFound, Unauthorised
from api.repositories import AuditRepository, KeyRepository, PlanningRepository
from api.repositories.base import Page
from api.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from api.tables import ApiKeyRow

__all__ = ["KeyService", "key_out"]


def key_out(row: ApiKeyRow) -> ApiKeyOut:
    return ApiKeyOut(
        key_id=row.key_id,
        name=row.name,
        role=row.role,  # type: ignore[arg-type]
        provider_id=row.provider_id,
        unit_id=row.unit_id,
        created_at=as_utc(row.created_at) or row.created_at,
        revoked_at=as_utc(row.revoked_at),
    )


class KeyService:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, body: ApiKeyCreate, *, actor: str, check_scope: bool = True) -> ApiKeyCreated:
        """Issue a key; only the SHA-256 of its token is kept."""
        token = new_token()
        row = ApiKeyRow(
            key_id=f"key-{uuid.uuid4().hex[:10]}",
            token_sha256=hash_token(token),
            name=body.name,
            role=body.role,
            provider_id=body.provider_id,
            unit_id=body.unit_id,
            created_at=utcnow(),
        )
        with self.db.write() as session:
            if check_scope:
                _check_scope(PlanningRepository(session), body)
            KeyRepository(session).add(row)
            out = key_out(row)
            AuditRepository(session).record(
                actor=actor,
                action="create",
                entity="api_key",
                entity_id=row.key_id,
                before=None,
                after=out.model_dump(mode="json"),
                now=utcnow(),
            )
        return ApiKeyCreated(**out.model_dump(), token=token)

    def list(self, limit: int, offset: int) -> Page[ApiKeyOut]:
        with self.db.read() as session:
            page = KeyRepository(session).page(limit, offset)
            return Page([key_out(row) for row in page.items], page.total)

    def revoke(self, key_id: str, *, actor: str) -> ApiKeyOut:
        with self.db.write() as session:
            keys = KeyRepository(session)
            row = keys.get(key_id)
            if row is None:
                raise NotFound(f"API key {key_id} does not exist")
            before = key_out(row).model_dump(mode="json")
            keys.revoke(row, utcnow())
            out = key_out(row)
            AuditRepository(session).record(
                actor=actor,
                action="revoke",
                entity="api_key",
                entity_id=key_id,
                before=before,
                after=out.model_dump(mode="json"),
                now=utcnow(),
            )
            return out

    def authenticate(self, token: str | None) -> Principal:
        """Whoever holds ``token``.

        Raises
        ------
        Unauthorised
            No token, or not a live key.
        """
        if not token:
            raise Unauthorised("send an API key: 'Authorization: Bearer <token>'")
        with self.db.read() as session:
            row = KeyRepository(session).by_token_hash(hash_token(token))
            if row is None:
                raise Unauthorised("the API key is unknown or revoked")
            return Principal(
                key_id=row.key_id,
                name=row.name,
                role=row.role,  # type: ignore[arg-type]
                provider_id=row.provider_id,
                unit_id=row.unit_id,
            )


def _check_scope(planning: PlanningRepository, body: ApiKeyCreate) -> None:
    if body.provider_id and not planning.existing_ids("provider", [body.provider_id]):
        raise InvalidInput(f"provider_id: '{body.provider_id}' is not a provider")
    if body.unit_id and not planning.existing_ids("unit", [body.unit_id]):
        raise InvalidInput(f"unit_id: '{body.unit_id}' is not a unit")
