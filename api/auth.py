"""API keys and roles.

A key is a random token shown once; only its SHA-256 is stored. Roles:

- ``admin``: everything, including keys and problem import;
- ``broker``: reads all, writes cases, requests, runs and bookings;
- ``planner``: reads all (runs, plans, bookings, the problem);
- ``provider``: scoped to one provider or one unit: only its own bookings
  and its own unit or provider record.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Literal

__all__ = ["ROLES", "Principal", "Role", "hash_token", "new_token"]

Role = Literal["admin", "broker", "planner", "provider"]
ROLES: tuple[Role, ...] = ("admin", "broker", "planner", "provider")
TOKEN_PREFIX = "rsp_"


def new_token() -> str:
    """A fresh API key token, e.g. ``rsp_3q2...``."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What is stored for a token: its SHA-256 in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Principal:
    """Whoever a request's key belongs to."""

    key_id: str
    name: str
    role: Role
    provider_id: str | None = None
    unit_id: str | None = None

    @property
    def actor(self) -> str:
        """How the audit trail names them."""
        return f"{self.name} ({self.key_id})"

    @property
    def is_provider(self) -> bool:
        return self.role == "provider"

    def sees_unit(self, unit_id: str | None) -> bool:
        """True unless this is a provider key scoped elsewhere."""
        return not self.is_provider or (unit_id is not None and unit_id == self.unit_id)

    def sees_provider(self, provider_id: str | None) -> bool:
        return not self.is_provider or (provider_id is not None and provider_id == self.provider_id)
