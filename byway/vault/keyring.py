"""The key-encryption keys a process holds: the current version, and during a rotation the previous
one, so rows sealed under either version open until the rotation is done."""

from __future__ import annotations

from byway.store import Store, StoredCredential
from byway.store.credentials import SealedSecret
from byway.vault.cipher import identity, seal, unseal
from byway.vault.errors import VaultError
from byway.vault.kek import Kek, fingerprint
from byway.vault.secret import Secret


class Keyring:
    def __init__(self, current: Kek, previous: Kek | None = None) -> None:
        if previous is not None and previous.version == current.version:
            raise VaultError("the previous key must be another version than the current one")
        self.current = current
        self.previous = previous

    def __repr__(self) -> str:
        previous = f", previous={self.previous.version}" if self.previous else ""
        return f"Keyring(current={self.current.version}{previous})"

    @classmethod
    async def load(cls, store: Store, secret: str, previous_secret: str | None = None) -> Keyring:
        """The keyring for this database and secret key. A secret never seen before is registered as
        the next version, but only while no credential is sealed under another (so a mistyped secret
        key is reported, not silently adopted)."""
        current = Kek.derive(secret, await _version_of(store, secret, adopt=True))
        previous = None
        if previous_secret is not None:
            previous = Kek.derive(previous_secret, await _version_of(store, previous_secret, adopt=False, retired=True))
        return cls(current, previous)

    def kek(self, version: int) -> Kek:
        if version == self.current.version:
            return self.current
        if self.previous is not None and version == self.previous.version:
            return self.previous
        held = [self.current.version] + ([self.previous.version] if self.previous else [])
        raise VaultError(f"sealed under key version {version}; this keyring holds version(s) {held} "
                         "(start with the secret key that sealed it, or finish the rotation)")

    def seal(self, secret: Secret, credential_id: str, owner_id: str | None, provider_type: str) -> SealedSecret:
        """Seal under the current version, bound to the row's identity."""
        nonce, ciphertext = seal(self.current.key, secret.to_bytes(), identity(credential_id, owner_id, provider_type))
        return SealedSecret(ciphertext, nonce, self.current.version)

    def open(self, sealed: SealedSecret, credential_id: str, owner_id: str | None, provider_type: str) -> Secret:
        kek = self.kek(sealed.kek_version)
        plaintext = unseal(kek.key, sealed.nonce, sealed.ciphertext, identity(credential_id, owner_id, provider_type),
                           f"credential {credential_id}")
        return Secret.from_bytes(plaintext)

    def open_stored(self, stored: StoredCredential) -> Secret:
        c = stored.credential
        return self.open(stored.sealed, c.id, c.user_id, c.provider_type)


async def _version_of(store: Store, secret: str, *, adopt: bool, retired: bool = False) -> int:
    mark = fingerprint(secret)
    known = await store.vault_keys.find(mark)
    if known is not None:
        if known.retired_at is not None and not retired:
            raise VaultError(f"this secret key (version {known.version}) was retired by a rotation at "
                             f"{known.retired_at.isoformat()}; use the new secret key")
        return known.version
    in_use = await store.credentials.versions_in_use()
    if in_use or not adopt:
        raise VaultError("this secret key is not one this database knows: its credentials are sealed with "
                         "another (to change keys, run byway rotate-secret with the old and the new one)")
    return (await store.vault_keys.register(mark)).version
