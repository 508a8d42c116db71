"""``/api/keys``: gateway API keys. The plaintext key is in the creating answer only."""

from __future__ import annotations

from byway.accounts.inputs import KeyInput
from byway.accounts.shapes import key_out, new_key_out
from byway.server.management.http import Call, Reply
from byway.server.management.schemas import KeyList
from byway.store.types import utcnow


async def create_key(call: Call) -> Reply:
    key, plaintext = await call.accounts.keys.create(call.principal, call.json(KeyInput))
    return Reply(201, new_key_out(key, plaintext, utcnow()))


async def list_keys(call: Call) -> Reply:
    keys = await call.accounts.keys.list(call.principal, call.query.get("user_id"))
    now = utcnow()
    return Reply(200, KeyList(data=[key_out(k, now) for k in keys]))


async def get_key(call: Call) -> Reply:
    return Reply(200, key_out(await call.accounts.keys.get(call.principal, call.params["id"]), utcnow()))


async def revoke_key(call: Call) -> Reply:
    await call.accounts.keys.revoke(call.principal, call.params["id"])
    return Reply(204)
