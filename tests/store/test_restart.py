"""A new engine on the same database (a restarted gateway) finds everything as it was left."""

from __future__ import annotations

from decimal import Decimal

from byway.store import ADMIN, CredentialPatch, NewCredential, NewKey, Preferences, SealedSecret, Store
from tests.store.databases import FAST_PASSWORDS


async def test_everything_survives_a_restart(database_url: str) -> None:
    async with Store.open(database_url, FAST_PASSWORDS) as first:
        ada = await first.users.create("ada@example.com", password="pw-ada-123", role="admin",
                                       monthly_budget=Decimal("50.0000000001"))
        bob = await first.users.create("bob@example.com")
        key, plaintext = await first.keys.create(bob.id, NewKey(name="laptop", allowed_models=["oa:*"]))
        sealed = SealedSecret(b"\x00\x01ciphertext-bytes\xff", b"0123456789ab", 1)
        credential = await first.credentials.insert("cred_00000000000000000000000000000001",
                                                    NewCredential(provider_type="anthropic", name="an", user_id=bob.id,
                                                                  cost_per_1k_input=Decimal("0.0008")),
                                                    "sk-a…zzzz", sealed)
        credential = await first.credentials.update(ADMIN, credential.id, CredentialPatch(is_valid=True)) or credential
        await first.preferences.put(ADMIN, bob.id, Preferences(default_provider="an", quota_alert_percent=90))
        await first.audit.record(ADMIN, "user.create", "user", bob.id)
        users, keys, credentials = await first.users.load_all(), await first.keys.load_all(), \
            await first.credentials.load_all()

    async with Store.open(database_url, FAST_PASSWORDS) as second:
        assert await second.users.load_all() == users
        assert await second.keys.load_all() == keys
        assert await second.credentials.load_all() == credentials
        assert (await second.credentials.sealed(ADMIN, credential.id)).sealed == sealed  # type: ignore[union-attr]
        assert await second.credentials.get(ADMIN, credential.id) == credential
        assert await second.preferences.get(ADMIN, bob.id) == Preferences(default_provider="an",
                                                                           quota_alert_percent=90)
        assert (await second.keys.lookup(plaintext)).key == key
        assert await second.users.authenticate("ada@example.com", "pw-ada-123") == ada
        assert [e.object_id for e in await second.audit.list(ADMIN)] == [bob.id]
