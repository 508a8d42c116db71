"""Each user's preferences (``/api/me/preferences``). The master key reads and writes its owner's.

``default_provider`` and ``fallback_provider`` must name something the user can reach: one of the
config's providers, or one of their own or the shared credentials.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from byway.accounts.errors import Unprocessable, missing
from byway.accounts.inputs import PreferencesInput
from byway.store import ADMIN, Actor, MissingError, Preferences

if TYPE_CHECKING:
    from byway.accounts.accounts import Accounts


class PreferenceOps:
    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts

    async def get(self, actor: Actor) -> Preferences:
        user_id = await self.accounts.users.owner(actor)
        prefs = await self.accounts.store.preferences.get(actor, user_id)
        if prefs is None:
            raise missing("user", user_id)
        return prefs

    async def put(self, actor: Actor, document: PreferencesInput) -> Preferences:
        user_id = await self.accounts.users.owner(actor)
        reachable = await self._reachable(user_id)
        for field in ("default_provider", "fallback_provider"):
            name = getattr(document, field)
            if name is not None and name not in reachable:
                raise Unprocessable(f"{field}: no provider or credential named {name!r} is available to you; "
                                    "available: " + ", ".join(sorted(reachable)), param=field)
        prefs = Preferences(**msgspec.structs.asdict(document))
        try:
            done = await self.accounts.store.preferences.put(actor, user_id, prefs)
        except MissingError:
            raise missing("user", user_id) from None
        if not done:
            raise missing("user", user_id)
        await self.accounts.changed(actor, "preferences.update", "preferences", user_id,
                                    {"fields": sorted(msgspec.structs.asdict(document))})
        return prefs

    async def _reachable(self, user_id: str) -> set[str]:
        """The provider names ``user_id`` may route to: the config's, their credentials', the shared ones."""
        names = set(self.accounts.config_providers)
        for credential in await self.accounts.store.credentials.list(ADMIN):
            if credential.user_id == user_id or credential.shared:
                names.add(credential.name)
        return names

