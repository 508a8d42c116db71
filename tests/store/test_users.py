"""Users: CRUD, exact budgets, UTC times, argon2id passwords, and members confined to themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from byway.store import ADMIN, As, DuplicateError, ForbiddenError, Passwords, Store, UserPatch
from byway.store.keys import NewKey
from byway.store.preferences import Preferences
from byway.store.schema import credentials, gateway_keys, preferences, users
from byway.store.users import UsersRepo
from tests.store.databases import FAST_PASSWORDS


async def _hash_of(store: Store, user_id: str) -> str | None:
    async with store.engine.connect() as db:
        return (await db.execute(select(users.c.password_hash).where(users.c.id == user_id))).scalar_one()


async def test_create_and_read_back_every_field(store: Store) -> None:
    before = datetime.now(UTC)
    ada = await store.users.create("  Ada@Example.COM ", password="correct horse", role="admin",
                                   monthly_budget=Decimal("12345678.1234567891"))
    after = datetime.now(UTC)
    assert ada.id.startswith("usr_") and len(ada.id) == 36
    assert ada.email == "ada@example.com"
    again = await store.users.get(ADMIN, ada.id)
    assert again == ada
    assert again is not None
    assert again.monthly_budget == Decimal("12345678.1234567891")
    assert str(again.monthly_budget) == "12345678.1234567891"
    assert again.created_at.tzinfo is UTC
    assert before <= again.created_at <= after
    assert again.role == "admin" and again.is_active is True
    assert await store.users.by_email("ADA@example.com") == ada


async def test_email_is_unique(store: Store) -> None:
    await store.users.create("bob@example.com")
    with pytest.raises(DuplicateError) as raised:
        await store.users.create("BOB@example.com")
    assert raised.value.field == "email"
    carol = await store.users.create("carol@example.com")
    with pytest.raises(DuplicateError):
        await store.users.update(ADMIN, carol.id, UserPatch(email="bob@example.com"))


async def test_bad_role_and_email_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="role"):
        await store.users.create("x@example.com", role="owner")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="email"):
        await store.users.create("not-an-address")


async def test_admin_updates_role_budget_and_active_flag(store: Store) -> None:
    bob = await store.users.create("bob@example.com")
    changed = await store.users.update(ADMIN, bob.id, UserPatch(role="admin", monthly_budget=Decimal("0.0000000001"),
                                                                 is_active=False))
    assert changed is not None
    assert (changed.role, changed.monthly_budget, changed.is_active) == ("admin", Decimal("1E-10"), False)
    assert changed.email == bob.email and changed.created_at == bob.created_at
    cleared = await store.users.update(ADMIN, bob.id, UserPatch(monthly_budget=None))
    assert cleared is not None and cleared.monthly_budget is None
    assert await store.users.update(ADMIN, "usr_missing", UserPatch(is_active=True)) is None


async def test_rate_limits_are_stored_changed_and_cleared(store: Store) -> None:
    ada = await store.users.create("ada@example.com", rpm_limit=60, tpm_limit=250_000)
    assert (ada.rpm_limit, ada.tpm_limit) == (60, 250_000)
    read = await store.users.get(ADMIN, ada.id)
    assert read == ada
    bob = await store.users.create("bob@example.com")
    assert (bob.rpm_limit, bob.tpm_limit) == (None, None)
    assert await store.users.by_email("bob@example.com") == bob
    changed = await store.users.update(ADMIN, ada.id, UserPatch(rpm_limit=5))
    assert changed is not None and (changed.rpm_limit, changed.tpm_limit) == (5, 250_000)
    cleared = await store.users.update(ADMIN, ada.id, UserPatch(tpm_limit=None))
    assert cleared is not None and (cleared.rpm_limit, cleared.tpm_limit) == (5, None)
    assert [(u.email, u.rpm_limit, u.tpm_limit) for u in await store.users.load_all()] == [
        ("ada@example.com", 5, None), ("bob@example.com", None, None)]
    await store.users.set_password(ADMIN, bob.id, "correct horse")
    await store.users.update(ADMIN, bob.id, UserPatch(rpm_limit=7, tpm_limit=700))
    signed_in = await store.users.authenticate("bob@example.com", "correct horse")
    assert signed_in is not None and (signed_in.rpm_limit, signed_in.tpm_limit) == (7, 700)


async def test_members_cannot_change_their_own_rate_limits(store: Store) -> None:
    ada = await store.users.create("ada@example.com", rpm_limit=10)
    for patch in (UserPatch(rpm_limit=1000), UserPatch(rpm_limit=None), UserPatch(tpm_limit=1)):
        with pytest.raises(ForbiddenError, match="limits"):
            await store.users.update(As("member", ada.id), ada.id, patch)
    after = await store.users.get(ADMIN, ada.id)
    assert after is not None and (after.rpm_limit, after.tpm_limit) == (10, None)


async def test_members_see_and_change_only_themselves(store: Store) -> None:
    a = await store.users.create("a@example.com")
    b = await store.users.create("b@example.com")
    member_a = As("member", a.id)
    assert await store.users.get(member_a, b.id) is None
    assert await store.users.get(member_a, a.id) == a
    assert await store.users.list(member_a) == [a]
    assert [u.id for u in await store.users.list(ADMIN)] == [a.id, b.id]
    assert await store.users.update(member_a, b.id, UserPatch(email="taken@example.com")) is None
    assert await store.users.set_password(member_a, b.id, "hijack") is False
    assert await store.users.delete(member_a, b.id) is False
    renamed = await store.users.update(member_a, a.id, UserPatch(email="a2@example.com"))
    assert renamed is not None and renamed.email == "a2@example.com"
    with pytest.raises(ForbiddenError):
        await store.users.update(member_a, a.id, UserPatch(role="admin"))
    with pytest.raises(ForbiddenError):
        await store.users.delete(member_a, a.id)
    assert (await store.users.get(ADMIN, b.id)) == b
    nobody = As("member", None)
    assert await store.users.list(nobody) == []
    assert await store.users.get(nobody, a.id) is None


async def test_passwords_are_argon2id_and_verified(store: Store) -> None:
    ada = await store.users.create("ada@example.com", password="correct horse battery")
    stored = await _hash_of(store, ada.id)
    assert stored is not None and stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert await store.users.authenticate("ADA@example.com", "correct horse battery") == ada
    assert await store.users.authenticate("ada@example.com", "wrong") is None
    assert await store.users.authenticate("nobody@example.com", "correct horse battery") is None
    assert await store.users.set_password(As("member", ada.id), ada.id, "new one") is True
    assert await store.users.authenticate("ada@example.com", "correct horse battery") is None
    assert await store.users.authenticate("ada@example.com", "new one") == ada
    await store.users.update(ADMIN, ada.id, UserPatch(is_active=False))
    assert await store.users.authenticate("ada@example.com", "new one") is None


async def test_user_without_password_cannot_sign_in(store: Store) -> None:
    await store.users.create("sso@example.com")
    assert await store.users.authenticate("sso@example.com", "") is None


async def test_outdated_hash_is_replaced_after_a_successful_sign_in(store: Store) -> None:
    ada = await store.users.create("ada@example.com", password="s3cret-pass")
    weak = await _hash_of(store, ada.id)
    stronger = UsersRepo(store.engine, Passwords(PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)))
    assert await stronger.authenticate("ada@example.com", "wrong") is None
    assert await _hash_of(store, ada.id) == weak
    assert await stronger.authenticate("ada@example.com", "s3cret-pass") == ada
    fresh = await _hash_of(store, ada.id)
    assert fresh != weak and fresh is not None and "t=2" in fresh and "m=2048" in fresh
    assert await stronger.authenticate("ada@example.com", "s3cret-pass") == ada
    assert await _hash_of(store, ada.id) == fresh


async def test_deleting_a_user_removes_their_keys_credentials_and_preferences(store: Store) -> None:
    from byway.store.credentials import NewCredential, SealedSecret

    gone = await store.users.create("gone@example.com")
    kept = await store.users.create("kept@example.com")
    for user in (gone, kept):
        await store.keys.create(user.id, NewKey(name="k"))
        await store.credentials.insert(f"cred_{user.id[4:]}", NewCredential(provider_type="openai", name="c",
                                                                        user_id=user.id),
                                       "sk-…abcd", SealedSecret(b"x" * 32, b"n" * 12, 1))
        await store.preferences.put(ADMIN, user.id, Preferences(quota_alert_percent=50))
    assert await store.users.delete(ADMIN, gone.id) is True
    assert await store.users.delete(ADMIN, gone.id) is False
    async with store.engine.connect() as db:
        for table in (gateway_keys, credentials, preferences):
            owners = set((await db.execute(select(table.c.user_id))).scalars())
            assert owners == {kept.id}, table.name
    assert await store.users.load_all() == [kept]


async def test_times_are_utc_whatever_zone_they_were_given_in(store: Store) -> None:
    ada = await store.users.create("ada@example.com")
    zone = __import__("datetime").timezone(timedelta(hours=5, minutes=30))
    local = datetime(2031, 5, 6, 12, 34, 56, 789012, tzinfo=zone)
    key, _ = await store.keys.create(ada.id, NewKey(name="k", expires_at=local))
    read = await store.keys.get(ADMIN, key.id)
    assert read is not None and read.expires_at == local
    assert read.expires_at is not None and read.expires_at.tzinfo is UTC
    assert read.expires_at.isoformat() == "2031-05-06T07:04:56.789012+00:00"


def test_password_repr_shows_parameters_only() -> None:
    assert repr(FAST_PASSWORDS) == "Passwords(argon2id, t=1, m=1024KiB, p=1)"
