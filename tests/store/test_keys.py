"""Gateway keys: made once, kept as a hash, revocable, expiring, and private to their owner."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from byway.store import ADMIN, As, KeyLookup, MissingError, NewKey, Store
from byway.store.schema import gateway_keys


async def test_create_returns_the_key_once_and_stores_only_its_hash(store: Store) -> None:
    ada = await store.users.create("ada@example.com")
    key, plaintext = await store.keys.create(ada.id, NewKey(name="ci", allowed_models=["oa:gpt-4o-mini", "smart"],
                                                            monthly_budget=Decimal("25.5000000001"),
                                                            rpm_limit=60, tpm_limit=100_000))
    assert plaintext.startswith("byw-") and len(plaintext) == 4 + 43
    assert key.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert key.hint == f"{plaintext[:8]}…{plaintext[-4:]}"
    assert key.user_id == ada.id and key.name == "ci"
    async with store.engine.connect() as db:
        row = (await db.execute(select(gateway_keys))).one()
    assert all(plaintext not in str(value) for value in row)
    again = await store.keys.get(ADMIN, key.id)
    assert again == key
    assert again is not None
    assert again.allowed_models == ["oa:gpt-4o-mini", "smart"]
    assert again.monthly_budget == Decimal("25.5000000001")
    assert (again.rpm_limit, again.tpm_limit) == (60, 100_000)
    assert again.created_at.tzinfo is UTC and again.revoked_at is None and again.last_used_at is None
    _, other = await store.keys.create(ada.id, NewKey(name="ci"))
    assert other != plaintext


async def test_lookup_says_why_a_key_is_invalid(store: Store) -> None:
    ada = await store.users.create("ada@example.com")
    now = datetime.now(UTC)
    good, good_text = await store.keys.create(ada.id, NewKey(name="good", expires_at=now + timedelta(days=1)))
    revoked, revoked_text = await store.keys.create(ada.id, NewKey(name="revoked"))
    expired, expired_text = await store.keys.create(ada.id, NewKey(name="old", expires_at=now - timedelta(seconds=1)))
    assert await store.keys.revoke(ADMIN, revoked.id) is not None

    found = await store.keys.lookup(good_text)
    assert found.ok and found.problem is None and found.key == good
    assert (await store.keys.lookup(revoked_text)).problem == "revoked"
    assert (await store.keys.lookup(revoked_text)).key is not None
    assert await store.keys.lookup(expired_text) == KeyLookup(expired, "expired")
    unknown = await store.keys.lookup(good_text[:-1] + ("A" if good_text[-1] != "A" else "B"))
    assert unknown.problem == "unknown" and unknown.key is None and not unknown.ok
    assert (await store.keys.lookup("")).problem == "unknown"
    later = await store.keys.lookup(good_text, now=now + timedelta(days=2))
    assert later.problem == "expired"


async def test_revoke_is_idempotent_and_keeps_the_first_time(store: Store) -> None:
    ada = await store.users.create("ada@example.com")
    key, _ = await store.keys.create(ada.id, NewKey(name="k"))
    first = await store.keys.revoke(As("member", ada.id), key.id)
    assert first is not None and first.revoked_at is not None and first.revoked_at.tzinfo is UTC
    second = await store.keys.revoke(ADMIN, key.id)
    assert second is not None and second.revoked_at == first.revoked_at
    assert await store.keys.revoke(ADMIN, "key_missing") is None


async def test_members_cannot_reach_each_others_keys(store: Store) -> None:
    a = await store.users.create("a@example.com")
    b = await store.users.create("b@example.com")
    key_a, _ = await store.keys.create(a.id, NewKey(name="a"))
    key_b, text_b = await store.keys.create(b.id, NewKey(name="b"))
    member_a = As("member", a.id)
    assert await store.keys.get(member_a, key_b.id) is None
    assert await store.keys.revoke(member_a, key_b.id) is None
    assert await store.keys.list(member_a) == [key_a]
    assert await store.keys.list(member_a, user_id=b.id) == []
    assert (await store.keys.lookup(text_b)).ok
    assert [k.id for k in await store.keys.list(ADMIN)] == [key_a.id, key_b.id]
    assert await store.keys.list(ADMIN, user_id=b.id) == [key_b]
    assert {k.id for k in await store.keys.load_all()} == {key_a.id, key_b.id}


async def test_last_use_is_recorded_and_never_moves_back(store: Store) -> None:
    ada = await store.users.create("ada@example.com")
    key, _ = await store.keys.create(ada.id, NewKey(name="k"))
    used = datetime(2030, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)
    await store.keys.touch({key.id: used})
    await store.keys.touch({key.id: used - timedelta(hours=1)})
    read = await store.keys.get(ADMIN, key.id)
    assert read is not None and read.last_used_at == used
    await store.keys.touch({})
    await store.keys.touch({key.id: used + timedelta(microseconds=1)})
    read = await store.keys.get(ADMIN, key.id)
    assert read is not None and read.last_used_at == used + timedelta(microseconds=1)


async def test_a_key_needs_an_existing_owner_and_an_aware_expiry(store: Store) -> None:
    with pytest.raises(MissingError):
        await store.keys.create("usr_nobody", NewKey(name="k"))
    ada = await store.users.create("ada@example.com")
    with pytest.raises(ValueError, match="timezone"):
        await store.keys.create(ada.id, NewKey(name="k", expires_at=datetime(2030, 1, 1)))
    assert await store.keys.list(ADMIN) == []


async def test_the_gateways_principal_is_an_actor(store: Store) -> None:
    from byway.core.principal import Principal

    a = await store.users.create("a@example.com")
    b = await store.users.create("b@example.com")
    key_b, _ = await store.keys.create(b.id, NewKey(name="b"))
    as_a = Principal(id="key_a", kind="key", role="member", user_id=a.id)
    master = Principal(id="master", kind="master")
    assert await store.keys.get(as_a, key_b.id) is None
    assert await store.keys.get(master, key_b.id) == key_b
    await store.audit.record(master, "key.revoke", "key", key_b.id)
    assert [e.actor for e in await store.audit.list(master)] == ["master"]
