"""Who is calling: what a gateway key or the master key resolves to."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec


class Limit(msgspec.Struct, frozen=True, kw_only=True):
    """The limits one scope puts on the requests that go through it: requests and tokens per minute, and
    a monthly budget in USD. ``scope`` names it (``user:ID``, ``key:ID``, ``credential:ID``,
    ``provider:NAME``); ``alert_percent`` is when its owner hears that the budget is running out."""

    scope: str
    rpm: int | None = None
    tpm: int | None = None
    monthly_budget: Decimal | None = None
    alert_percent: int = 80
    owner: str | None = None  # the user an alert about this budget goes to


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The caller of a request, resolved once from its key.

    ``kind``: the master key; a user's gateway key (``id`` is the key's id); a user's
    dashboard session; or the library (no HTTP, no accounts). ``role`` and ``user_id``
    make a principal an actor for the store (``user_id`` None with the master key: the
    gateway itself). ``allowed_models`` (None: all) holds entries like ``oa:gpt-4o-mini``,
    ``oa:*`` or a route name. ``default_provider`` is tried first for bare model names. ``limits``: the
    caller's own rate limits and budgets (its user's and its key's).
    """

    id: str
    kind: Literal["master", "key", "session", "library"]
    role: Literal["admin", "member"] = "admin"
    user_id: str | None = None
    name: str = ""
    allowed_models: frozenset[str] | None = None
    default_provider: str | None = None
    limits: tuple[Limit, ...] = ()

    def may_use(self, provider: str, model: str) -> bool:
        allowed = self.allowed_models
        if allowed is None:
            return True
        return f"{provider}:{model}" in allowed or f"{provider}:*" in allowed or model in allowed


LIBRARY = Principal(id="library", kind="library")
