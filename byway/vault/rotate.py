"""Rotating the secret key: every credential re-sealed under a new key version, row by row.

Each row is read, opened, sealed again and written back in its own short transaction, and only if
it did not change meanwhile (else it is read again), so the gateway keeps serving throughout: a
keyring holding both versions opens every row at every moment. When no row is left under the old
version, that version is retired and the old secret is no longer needed. An interrupted rotation
is finished by running it again with the same two secrets.
"""

from __future__ import annotations

import msgspec

from byway.store import Store
from byway.vault.errors import VaultError
from byway.vault.kek import Kek, fingerprint
from byway.vault.keyring import Keyring

_ATTEMPTS = 5


class Rotation(msgspec.Struct, frozen=True, kw_only=True):
    old_version: int
    new_version: int
    resealed: int


async def rotate(store: Store, old_secret: str, new_secret: str) -> Rotation:
    if old_secret == new_secret:
        raise VaultError("the new secret key must differ from the old one")
    new_mark = fingerprint(new_secret)  # also checks the new secret's length
    old = await store.vault_keys.find(fingerprint(old_secret))
    if old is None:
        if await store.credentials.versions_in_use():
            raise VaultError("the old secret key is not the one this database's credentials are sealed with")
        old = await store.vault_keys.register(fingerprint(old_secret))
    new = await store.vault_keys.register(new_mark)
    keyring = Keyring(Kek.derive(new_secret, new.version), Kek.derive(old_secret, old.version))
    resealed = 0
    while pending := await store.credentials.ids_not_under(new.version):
        done = 0
        for credential_id in pending:
            done += await _reseal(store, keyring, credential_id)
        if done == 0:
            raise VaultError(f"could not re-seal {len(pending)} credential(s); try again")
        resealed += done
    await store.vault_keys.retire(old.version)
    return Rotation(old_version=old.version, new_version=new.version, resealed=resealed)


async def _reseal(store: Store, keyring: Keyring, credential_id: str) -> int:
    """1 when this row was re-sealed (0: it is gone, or already under the new version)."""
    for _ in range(_ATTEMPTS):
        stored = await store.credentials.sealed_by_id(credential_id)
        if stored is None or stored.sealed.kek_version == keyring.current.version:
            return 0
        c = stored.credential
        secret = keyring.open_stored(stored)
        sealed = keyring.seal(secret, c.id, c.user_id, c.provider_type)
        if await store.credentials.reseal(credential_id, stored.sealed, sealed):
            return 1
    return 0
