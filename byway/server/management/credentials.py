"""``/api/credentials``: users' provider credentials (BYOK). Answers carry the ``key_hint``, never the key."""

from __future__ import annotations

from byway.accounts.inputs import CredentialChange, CredentialInput, ValidationInput
from byway.accounts.shapes import CheckOut, ValidationOut, credential_out
from byway.server.management.http import Call, Reply
from byway.server.management.schemas import CredentialList


async def create_credential(call: Call) -> Reply:
    credential = await call.accounts.credentials.create(call.principal, call.json(CredentialInput))
    return Reply(201, credential_out(credential, call.principal))


async def list_credentials(call: Call) -> Reply:
    found = await call.accounts.credentials.list(call.principal)
    return Reply(200, CredentialList(data=[credential_out(c, call.principal) for c in found]))


async def get_credential(call: Call) -> Reply:
    credential = await call.accounts.credentials.get(call.principal, call.params["id"])
    return Reply(200, credential_out(credential, call.principal))


async def update_credential(call: Call) -> Reply:
    credential = await call.accounts.credentials.update(call.principal, call.params["id"],
                                                        call.json(CredentialChange))
    return Reply(200, credential_out(credential, call.principal))


async def delete_credential(call: Call) -> Reply:
    await call.accounts.credentials.delete(call.principal, call.params["id"])
    return Reply(204)


async def test_credential(call: Call) -> Reply:
    outcome = await call.accounts.credentials.test(call.principal, call.params["id"])
    return Reply(200, CheckOut(ok=outcome.ok, latency_ms=outcome.latency_ms, error=outcome.error))


async def validate_credential(call: Call) -> Reply:
    outcome = await call.accounts.credentials.validate(call.principal, call.json(ValidationInput))
    return Reply(200, ValidationOut(valid=outcome.ok, error=outcome.error))
