"""Gateway API keys: made for a user (a member for themselves; an admin for anyone), shown once,
listed by hint, revoked. Revocation and expiry take effect on the next request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from byway.accounts.errors import Unprocessable, missing
from byway.accounts.inputs import KeyInput
from byway.accounts.users import money
from byway.store import Actor, GatewayKey, MissingError, NewKey
from byway.store.scope import is_admin
from byway.store.types import utcnow

if TYPE_CHECKING:
    from byway.accounts.accounts import Accounts


class KeyOps:
    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts

    async def create(self, actor: Actor, new: KeyInput) -> tuple[GatewayKey, str]:
        """The key and its plaintext (not kept anywhere)."""
        owner = new.user_id
        if owner is None:
            owner = await self.accounts.users.owner(actor)
        elif not is_admin(actor) and owner != actor.user_id:
            raise missing("user", owner)  # a member cannot learn whether another user exists
        expires = new.expires_at
        if expires is not None:
            if expires.tzinfo is None:
                raise Unprocessable("expires_at must be ISO-8601 with a time zone, such as 2030-01-31T00:00:00Z",
                                    param="expires_at")
            if expires <= utcnow():
                raise Unprocessable("expires_at is in the past", param="expires_at")
        models = new.allowed_models
        if models is not None and not all(m.strip() for m in models):
            raise Unprocessable("allowed_models may not hold empty names", param="allowed_models")
        record = NewKey(name=new.name, expires_at=expires, allowed_models=models,
                        monthly_budget=money(new.monthly_budget), rpm_limit=new.rpm_limit, tpm_limit=new.tpm_limit)
        try:
            key, plaintext = await self.accounts.store.keys.create(owner, record)
        except MissingError:
            raise missing("user", owner) from None
        await self.accounts.changed(actor, "key.create", "key", key.id, {"name": key.name, "user_id": owner})
        return key, plaintext

    async def list(self, actor: Actor, user_id: str | None = None) -> list[GatewayKey]:
        return await self.accounts.store.keys.list(actor, user_id)

    async def get(self, actor: Actor, key_id: str) -> GatewayKey:
        key = await self.accounts.store.keys.get(actor, key_id)
        if key is None:
            raise missing("key", key_id)
        return key

    async def revoke(self, actor: Actor, key_id: str) -> GatewayKey:
        key = await self.accounts.store.keys.revoke(actor, key_id)
        if key is None:
            raise missing("key", key_id)
        await self.accounts.changed(actor, "key.revoke", "key", key.id, {"name": key.name, "user_id": key.user_id})
        return key
