"""``/api/users`` (admins manage users; a member sees only themselves) and ``/api/me``."""

from __future__ import annotations

from byway.accounts.inputs import UserChange, UserInput
from byway.accounts.shapes import user_out
from byway.server.management.http import Call, Reply
from byway.server.management.schemas import MeOut, UserList


async def create_user(call: Call) -> Reply:
    user = await call.accounts.users.create(call.principal, call.json(UserInput))
    return Reply(201, user_out(user))


async def list_users(call: Call) -> Reply:
    users = await call.accounts.users.list(call.principal)
    return Reply(200, UserList(data=[user_out(u) for u in users]))


async def get_user(call: Call) -> Reply:
    return Reply(200, user_out(await call.accounts.users.get(call.principal, call.params["id"])))


async def update_user(call: Call) -> Reply:
    user = await call.accounts.users.update(call.principal, call.params["id"], call.json(UserChange))
    return Reply(200, user_out(user))


async def delete_user(call: Call) -> Reply:
    await call.accounts.users.delete(call.principal, call.params["id"])
    return Reply(204)


async def me(call: Call) -> Reply:
    p = call.principal
    email = None
    if p.user_id is not None:
        email = (await call.accounts.users.get(p, p.user_id)).email
    kind = "master" if p.kind == "master" else "session" if p.kind == "session" else "key"
    return Reply(200, MeOut(kind=kind, role=p.role, user_id=p.user_id, key_id=p.id if p.kind == "key" else None,
                            email=email))
