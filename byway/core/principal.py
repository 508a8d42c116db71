"""Who is calling: what a gateway key or the master key resolves to."""

from __future__ import annotations

from typing import Literal

import msgspec


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The caller of a request, resolved once from its key.

    ``kind``: the master key; a user's gateway key (``id`` is the key's id); a user's
    dashboard session; or the library (no HTTP, no accounts). ``role`` and ``user_id``
    make a principal an actor for the store (``user_id`` None with the master key: the
    gateway itself). ``allowed_models`` (None: all) holds entries like ``oa:gpt-4o-mini``,
    ``oa:*`` or a route name. ``default_provider`` is tried first for bare model names.
    """

    id: str
    kind: Literal["master", "key", "session", "library"]
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
