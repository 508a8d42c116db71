"""Who is calling: what a gateway key or the master key resolves to."""

from __future__ import annotations

from typing import Literal

import msgspec


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The caller of a request, resolved once from its key.

    ``allowed_models`` (None: all) holds entries like ``oa:gpt-4o-mini``, ``oa:*``
    or a route name. ``default_provider`` is tried first for bare model names.
    """

    id: str
    kind: Literal["master", "key", "library"]
    role: Literal["admin", "member"] = "admin"
    user_id: str | None = None
    name: str = ""
    allowed_models: frozenset[str] | None = None
    default_provider: str | None = None

    def may_use(self, provider: str, model: str) -> bool:
        allowed = self.allowed_models
        if allowed is None:
            return True
        return f"{provider}:{model}" in allowed or f"{provider}:*" in allowed or model in allowed


LIBRARY = Principal(id="library", kind="library")
