"""Rotating the secret key: every credential re-sealed under the new version, row by row, readable
throughout, and afterwards only the new secret is needed."""

from __future__ import annotations

import asyncio

import pytest

from byway.store import ADMIN, NewCredential, Store
from byway.vault import CredentialVault, Kek, Keyring, Secret, VaultError, rotate

OLD = "old-secret-key-0123456789-abcdefghijklmnop"
NEW = "new-secret-key-9876543210-zyxwvutsrqponmlk"
NEWER = "newer-secret-key-5555555555-qwertyuiopasdf"


async def _fill(store: Store, count: int) -> dict[str, Secret]:
    vault = CredentialVault(store, await Keyring.load(store, OLD))
    owner = await store.users.create("owner@example.com")
    secrets = {}
    for i in range(count):
        secret = Secret.api_key(f"sk-rotate-{i:04d}-0123456789abcdef")
        credential = await vault.add(NewCredential(provider_type="openai" if i % 2 else "anthropic", name=f"c{i}",
                                                   user_id=owner.id if i % 3 else None), secret)
        secrets[credential.id] = secret
    return secrets


async def test_rotation_reseals_every_credential_and_retires_the_old_secret(store: Store) -> None:
    secrets = await _fill(store, 7)
    before = {s.credential.id: s.sealed for s in await store.credentials.load_all()}
    done = await rotate(store, OLD, NEW)
    assert (done.old_version, done.new_version, done.resealed) == (1, 2, 7)
    after = {s.credential.id: s.sealed for s in await store.credentials.load_all()}
    assert {s.kek_version for s in after.values()} == {2}
    assert all(after[i].ciphertext != before[i].ciphertext and after[i].nonce != before[i].nonce for i in after)

    only_new = CredentialVault(store, await Keyring.load(store, NEW))
    assert only_new.keyring.previous is None
    assert {c.id: s for c, s in await only_new.open_all()} == secrets
    with pytest.raises(VaultError, match="retired by a rotation"):
        await Keyring.load(store, OLD)
    only_old = CredentialVault(store, Keyring(Kek.derive(OLD, 1)))
    with pytest.raises(VaultError):
        await only_old.reveal(ADMIN, next(iter(secrets)))
    versions = {v.version: v for v in await store.vault_keys.all()}
    assert versions[1].retired_at is not None and versions[2].retired_at is None


async def test_readers_holding_both_versions_open_every_row_midway(store: Store) -> None:
    secrets = await _fill(store, 4)
    both = Keyring(Kek.derive(NEW, 2), Kek.derive(OLD, 1))
    await store.vault_keys.register(both.current.fingerprint)
    first = sorted(secrets)[:2]
    for credential_id in first:  # what rotation does to the first rows before it is interrupted
        stored = await store.credentials.sealed_by_id(credential_id)
        assert stored is not None
        c = stored.credential
        assert await store.credentials.reseal(credential_id, stored.sealed,
                                              both.seal(both.open_stored(stored), c.id, c.user_id, c.provider_type))
    mixed = {s.credential.id: s.sealed.kek_version for s in await store.credentials.load_all()}
    assert sorted(mixed.values()) == [1, 1, 2, 2]
    reader = CredentialVault(store, await Keyring.load(store, NEW, previous_secret=OLD))
    assert {c.id: s for c, s in await reader.open_all()} == secrets
    done = await rotate(store, OLD, NEW)  # finishing the interrupted rotation
    assert done.resealed == 2
    assert {c.id: s for c, s in await CredentialVault(store, Keyring(Kek.derive(NEW, 2))).open_all()} == secrets


async def test_rows_written_under_the_old_key_during_rotation_are_caught(store: Store) -> None:
    secrets = await _fill(store, 20)
    old_vault = CredentialVault(store, Keyring(Kek.derive(OLD, 1)))
    late: dict[str, Secret] = {}

    async def keep_serving() -> None:
        for i in range(5):  # a gateway still on the old secret adds credentials meanwhile
            secret = Secret.api_key(f"sk-late-{i}-0123456789abcdef")
            late[(await old_vault.add(NewCredential(provider_type="openai", name=f"late{i}", user_id=None),
                                      secret)).id] = secret
            await asyncio.sleep(0)

    done, _ = await asyncio.gather(rotate(store, OLD, NEW), keep_serving())
    leftover = await store.credentials.ids_not_under(done.new_version)
    if leftover:  # added after the last pass: running rotate again finishes them
        assert (await rotate(store, OLD, NEW)).resealed == len(leftover)
    assert await store.credentials.ids_not_under(2) == []
    opened = {c.id: s for c, s in await CredentialVault(store, Keyring(Kek.derive(NEW, 2))).open_all()}
    assert opened == secrets | late


async def test_rotating_again_moves_on_to_a_third_version(store: Store) -> None:
    secrets = await _fill(store, 3)
    await rotate(store, OLD, NEW)
    done = await rotate(store, NEW, NEWER)
    assert (done.old_version, done.new_version, done.resealed) == (2, 3, 3)
    assert {c.id: s for c, s in await CredentialVault(store, await Keyring.load(store, NEWER)).open_all()} == secrets


async def test_rotation_refuses_a_wrong_or_unchanged_secret(store: Store) -> None:
    await _fill(store, 2)
    with pytest.raises(VaultError, match="must differ"):
        await rotate(store, OLD, OLD)
    with pytest.raises(VaultError, match="not the one"):
        await rotate(store, "not-the-old-secret-key-0123456789-abcdef", NEW)
    with pytest.raises(VaultError, match="at least 32"):
        await rotate(store, OLD, "short")
    assert await store.credentials.versions_in_use() == {1}


async def test_rotation_of_an_empty_database_just_records_the_new_key(store: Store) -> None:
    done = await rotate(store, OLD, NEW)
    assert (done.old_version, done.new_version, done.resealed) == (1, 2, 0)
    assert (await Keyring.load(store, NEW)).current.version == 2
