"""Each user's preferences; a user who never saved any has the defaults."""

from __future__ import annotations

import msgspec
from sqlalchemy import select

from byway.store._sql import Repo
from byway.store.schema import preferences
from byway.store.scope import Actor, is_admin


class Preferences(msgspec.Struct, kw_only=True):
    default_provider: str | None = None
    fallback_provider: str | None = None
    preferred_models: list[str] | None = None
    auto_switch_provider: bool = False
    max_tokens_per_request: int | None = None
    quota_alert_percent: int = 80
    store_conversation_history: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.quota_alert_percent <= 100:
            raise ValueError("quota_alert_percent must be between 0 and 100")
        if self.max_tokens_per_request is not None and self.max_tokens_per_request < 1:
            raise ValueError("max_tokens_per_request must be at least 1")


def _may_touch(actor: Actor, user_id: str) -> bool:
    return is_admin(actor) or (actor.user_id is not None and actor.user_id == user_id)


class PreferencesRepo(Repo):
    async def get(self, actor: Actor, user_id: str) -> Preferences | None:
        """The user's preferences (defaults when none were saved); None when not the actor's to read."""
        if not _may_touch(actor, user_id):
            return None
        async with self.engine.connect() as db:
            row = (await db.execute(select(preferences).where(preferences.c.user_id == user_id))).first()
        if row is None:
            return Preferences()
        mapping = dict(row._mapping)
        del mapping["user_id"]
        return Preferences(**mapping)

    async def put(self, actor: Actor, user_id: str, prefs: Preferences) -> bool:
        """Replace the user's preferences; False when not the actor's to change.
        MissingError when the user does not exist."""
        if not _may_touch(actor, user_id):
            return False
        values = msgspec.structs.asdict(prefs)
        async with self._write(missing=f"no user {user_id}") as db:
            done = await db.execute(preferences.update().where(preferences.c.user_id == user_id).values(**values))
            if done.rowcount == 0:
                await db.execute(preferences.insert().values(user_id=user_id, **values))
        return True

    async def load_all(self) -> dict[str, Preferences]:
        """Every saved preference set, by user id."""
        async with self.engine.connect() as db:
            rows = await db.execute(select(preferences))
            result: dict[str, Preferences] = {}
            for row in rows:
                mapping = dict(row._mapping)
                user_id = mapping.pop("user_id")
                result[user_id] = Preferences(**mapping)
            return result
