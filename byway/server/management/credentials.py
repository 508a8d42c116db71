"""``/api/credentials``: users' provider credentials (BYOK). Answers carry the ``key_hint``, never the key."""

from __future__ import annotations

from decimal import Decimal

from byway.accounts.inputs import CredentialChange, CredentialInput, ValidationInput
from byway.accounts.shapes import CheckOut, ValidationOut, credential_out
from byway.core.periods import month_range
from byway.server.management.http import Call, Reply
from byway.server.management.schemas import CredentialList
from byway.store import Credential


async def _spent(call: Call, credentials: list[Credential]) -> dict[str, Decimal]:
    """What each credential spent this month (UTC), from the usage records."""
    if call.gateway.ledger is not None:
        await call.gateway.ledger.flush()
    since = month_range(call.gateway.engine.gate.budgets.period)[0]
    return await call.accounts.store.usage.spent_by_credential(since, [c.id for c in credentials])


async def _answer(call: Call, status: int, credential: Credential) -> Reply:
    spent = await _spent(call, [credential])
    return Reply(status, credential_out(credential, call.principal, spent.get(credential.id, Decimal(0))))


async def create_credential(call: Call) -> Reply:
    credential = await call.accounts.credentials.create(call.principal, call.json(CredentialInput))
    return await _answer(call, 201, credential)


async def list_credentials(call: Call) -> Reply:
    found = await call.accounts.credentials.list(call.principal)
    spent = await _spent(call, found)
    return Reply(200, CredentialList(data=[credential_out(c, call.principal, spent.get(c.id, Decimal(0)))
                                           for c in found]))


async def get_credential(call: Call) -> Reply:
    return await _answer(call, 200, await call.accounts.credentials.get(call.principal, call.params["id"]))


async def update_credential(call: Call) -> Reply:
    credential = await call.accounts.credentials.update(call.principal, call.params["id"],
                                                        call.json(CredentialChange))
    return await _answer(call, 200, credential)


async def delete_credential(call: Call) -> Reply:
    await call.accounts.credentials.delete(call.principal, call.params["id"])
    return Reply(204)


async def test_credential(call: Call) -> Reply:
    outcome = await call.accounts.credentials.test(call.principal, call.params["id"])
    return Reply(200, CheckOut(ok=outcome.ok, latency_ms=outcome.latency_ms, error=outcome.error))


async def validate_credential(call: Call) -> Reply:
    outcome = await call.accounts.credentials.validate(call.principal, call.json(ValidationInput))
    return Reply(200, ValidationOut(valid=outcome.ok, error=outcome.error))
