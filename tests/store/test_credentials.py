"""Credential rows: settings in the clear, the sealed secret apart, owners kept apart, shared ones
visible but untouchable for members. (Sealing itself is tested in tests/vault.)"""

from __future__ import annotations

import os
from datetime import UTC
from decimal import Decimal

import pytest

from byway.store import (
    ADMIN,
    As,
    CredentialPatch,
    DuplicateError,
    ForbiddenError,
    MissingError,
    NewCredential,
    SealedSecret,
    Store,
)
from byway.store.ids import CREDENTIAL, new_id


def _sealed(version: int = 1) -> SealedSecret:
    return SealedSecret(os.urandom(48), os.urandom(12), version)


async def _add(store: Store, owner: str | None, name: str, **settings: object) -> str:
    credential_id = new_id(CREDENTIAL)
    await store.credentials.insert(credential_id, NewCredential(provider_type="openai", name=name, user_id=owner,
                                                                **settings),  # type: ignore[arg-type]
                                   "sk-p…a1b2", _sealed())
    return credential_id


async def test_insert_and_read_back_every_setting(store: Store) -> None:
    ada = await store.users.create("ada@example.com")
    sealed = _sealed(3)
    new = NewCredential(provider_type="vertex", name="gcp", user_id=ada.id, base_url="https://example.test/v1",
                        model="gemini-2.0-flash", models=["gemini-2.0-flash", "gemini-1.5-pro"], is_default=True,
                        is_valid=True, temperature=0.25, top_p=0.9, max_tokens=2048, rate_limit_rpm=120,
                        monthly_budget=Decimal("99999999.9999999999"), priority=7,
                        cost_per_1k_input=Decimal("0.0001500000"), cost_per_1k_output=Decimal("0.0006"),
                        extra={"project": "p-1", "location": "europe-west4"})
    made = await store.credentials.insert("cred_0123456789abcdef0123456789abcdef", new, "AKIA…WXYZ", sealed)
    assert made.id == "cred_0123456789abcdef0123456789abcdef"
    read = await store.credentials.get(ADMIN, made.id)
    assert read == made
    assert read is not None
    assert (read.provider_type, read.name, read.user_id, read.key_hint) == ("vertex", "gcp", ada.id, "AKIA…WXYZ")
    assert read.models == ["gemini-2.0-flash", "gemini-1.5-pro"]
    assert read.extra == {"project": "p-1", "location": "europe-west4"}
    assert read.monthly_budget == Decimal("99999999.9999999999")
    assert read.cost_per_1k_input == Decimal("0.00015") and read.cost_per_1k_output == Decimal("0.0006")
    assert (read.temperature, read.top_p, read.max_tokens, read.rate_limit_rpm, read.priority) == (0.25, 0.9, 2048,
                                                                                                  120, 7)
    assert read.is_default and read.is_valid and read.is_active and not read.shared
    assert read.kek_version == 3
    assert read.created_at.tzinfo is UTC and read.updated_at == read.created_at
    stored = await store.credentials.sealed(ADMIN, made.id)
    assert stored is not None and stored.sealed == sealed and stored.credential == made
    assert "bytes" in repr(sealed) and sealed.ciphertext.hex() not in repr(sealed)


async def test_names_are_unique_per_owner(store: Store) -> None:
    a = await store.users.create("a@example.com")
    b = await store.users.create("b@example.com")
    await _add(store, a.id, "main")
    await _add(store, b.id, "main")
    await _add(store, None, "main")
    for owner in (a.id, None):
        with pytest.raises(DuplicateError) as raised:
            await _add(store, owner, "main")
        assert raised.value.field == "name"
    other = await _add(store, a.id, "second")
    with pytest.raises(DuplicateError):
        await store.credentials.update(ADMIN, other, CredentialPatch(name="main"))
    with pytest.raises(MissingError):
        await _add(store, "usr_nobody", "x")


async def test_update_changes_only_what_is_given(store: Store) -> None:
    ada = await store.users.create("ada@example.com")
    cid = await _add(store, ada.id, "main", model="gpt-4o-mini", temperature=0.5)
    before = await store.credentials.get(ADMIN, cid)
    changed = await store.credentials.update(As("member", ada.id), cid,
                                             CredentialPatch(model="gpt-4o", temperature=None, is_valid=False,
                                                             monthly_budget=Decimal("10.25"), extra={"x": [1, 2]}))
    assert changed is not None and before is not None
    assert (changed.model, changed.temperature, changed.is_valid) == ("gpt-4o", None, False)
    assert changed.monthly_budget == Decimal("10.25") and changed.extra == {"x": [1, 2]}
    assert changed.name == "main" and changed.created_at == before.created_at
    assert changed.updated_at >= before.updated_at
    assert await store.credentials.update(ADMIN, cid, CredentialPatch()) == changed
    assert await store.credentials.update(ADMIN, "cred_missing", CredentialPatch(model="m")) is None


async def test_token_limit_is_stored_changed_and_cleared(store: Store) -> None:
    ada = await store.users.create("ada@example.com")
    limited = await _add(store, ada.id, "limited", rate_limit_rpm=30, rate_limit_tpm=40_000)
    free = await _add(store, ada.id, "free")
    read = await store.credentials.get(ADMIN, limited)
    assert read is not None and (read.rate_limit_rpm, read.rate_limit_tpm) == (30, 40_000)
    unlimited = await store.credentials.get(ADMIN, free)
    assert unlimited is not None and unlimited.rate_limit_tpm is None
    changed = await store.credentials.update(As("member", ada.id), limited, CredentialPatch(rate_limit_tpm=900))
    assert changed is not None and (changed.rate_limit_rpm, changed.rate_limit_tpm) == (30, 900)
    loaded = {s.credential.id: s.credential.rate_limit_tpm for s in await store.credentials.load_all()}
    assert loaded == {limited: 900, free: None}
    cleared = await store.credentials.update(ADMIN, limited, CredentialPatch(rate_limit_tpm=None))
    assert cleared is not None and (cleared.rate_limit_rpm, cleared.rate_limit_tpm) == (30, None)


async def test_one_default_per_owner(store: Store) -> None:
    a = await store.users.create("a@example.com")
    b = await store.users.create("b@example.com")
    first = await _add(store, a.id, "first", is_default=True)
    theirs = await _add(store, b.id, "theirs", is_default=True)
    second = await _add(store, a.id, "second", is_default=True)
    defaults = {c.id for c in await store.credentials.list(ADMIN) if c.is_default}
    assert defaults == {second, theirs}
    await store.credentials.update(As("member", a.id), first, CredentialPatch(is_default=True))
    defaults = {c.id for c in await store.credentials.list(ADMIN) if c.is_default}
    assert defaults == {first, theirs}


async def test_members_get_nothing_of_another_members_credential(store: Store) -> None:
    a = await store.users.create("a@example.com")
    b = await store.users.create("b@example.com")
    mine = await _add(store, a.id, "mine")
    theirs = await _add(store, b.id, "theirs")
    member_a = As("member", a.id)
    assert await store.credentials.get(member_a, theirs) is None
    assert await store.credentials.sealed(member_a, theirs) is None
    assert await store.credentials.update(member_a, theirs, CredentialPatch(model="x")) is None
    assert await store.credentials.replace_secret(member_a, theirs, "x…y", _sealed()) is None
    assert await store.credentials.delete(member_a, theirs) is False
    assert [c.id for c in await store.credentials.list(member_a)] == [mine]
    untouched = await store.credentials.sealed(ADMIN, theirs)
    assert untouched is not None and untouched.credential.model is None and untouched.credential.key_hint == "sk-p…a1b2"
    assert await store.credentials.delete(member_a, mine) is True
    assert await store.credentials.get(ADMIN, mine) is None


async def test_shared_credentials_are_visible_to_members_without_their_secret(store: Store) -> None:
    admin = await store.users.create("admin@example.com", role="admin")
    a = await store.users.create("a@example.com")
    shared = await _add(store, admin.id, "company", shared=True)
    gateway_owned = await _add(store, None, "gateway", shared=True)
    private = await _add(store, admin.id, "admin-only")
    member_a = As("member", a.id)
    visible = {c.id for c in await store.credentials.list(member_a)}
    assert visible == {shared, gateway_owned}
    seen = await store.credentials.get(member_a, shared)
    assert seen is not None and seen.shared and seen.key_hint == "sk-p…a1b2"
    assert not hasattr(seen, "ciphertext")
    assert await store.credentials.get(member_a, private) is None
    assert await store.credentials.sealed(member_a, shared) is None
    assert await store.credentials.update(member_a, shared, CredentialPatch(model="x")) is None
    assert await store.credentials.delete(member_a, shared) is False
    assert await store.credentials.sealed(As("admin", admin.id), gateway_owned) is not None


async def test_only_admins_share(store: Store) -> None:
    a = await store.users.create("a@example.com")
    mine = await _add(store, a.id, "mine")
    with pytest.raises(ForbiddenError):
        await store.credentials.update(As("member", a.id), mine, CredentialPatch(shared=True))
    shared = await store.credentials.update(ADMIN, mine, CredentialPatch(shared=True))
    assert shared is not None and shared.shared


async def test_replace_secret_and_load_all(store: Store) -> None:
    a = await store.users.create("a@example.com")
    cid = await _add(store, a.id, "mine")
    fresh = _sealed(2)
    replaced = await store.credentials.replace_secret(As("member", a.id), cid, "sk-n…9999", fresh)
    assert replaced is not None and replaced.key_hint == "sk-n…9999" and replaced.kek_version == 2
    everything = await store.credentials.load_all()
    assert [(s.credential.id, s.sealed) for s in everything] == [(cid, fresh)]
    assert await store.credentials.versions_in_use() == {2}
    assert await store.credentials.ids_not_under(2) == []
    assert await store.credentials.ids_not_under(3) == [cid]


async def test_reseal_only_replaces_what_it_expects(store: Store) -> None:
    cid = await _add(store, None, "gw")
    current = await store.credentials.sealed_by_id(cid)
    assert current is not None
    stale = SealedSecret(current.sealed.ciphertext, os.urandom(12), current.sealed.kek_version)
    assert await store.credentials.reseal(cid, stale, _sealed(2)) is False
    newer = _sealed(2)
    assert await store.credentials.reseal(cid, current.sealed, newer) is True
    assert await store.credentials.reseal(cid, current.sealed, _sealed(2)) is False
    after = await store.credentials.sealed_by_id(cid)
    assert after is not None and after.sealed == newer
    assert await store.credentials.sealed_by_id("cred_missing") is None
