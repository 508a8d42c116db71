"""Credentials with their secrets: the store's rows, sealed and opened with a keyring."""

from __future__ import annotations

from byway.store import Actor, Credential, NewCredential, Store
from byway.store.ids import CREDENTIAL, new_id
from byway.vault.keyring import Keyring
from byway.vault.secret import Secret


class CredentialVault:
    """Add, read and change credentials whose secrets only ever reach the database encrypted."""

    def __init__(self, store: Store, keyring: Keyring) -> None:
        self.store = store
        self.keyring = keyring

    def __repr__(self) -> str:
        return f"CredentialVault({self.store!r}, {self.keyring!r})"

    async def add(self, new: NewCredential, secret: Secret) -> Credential:
        """Store a new credential; DuplicateError("name") when its owner already uses the name."""
        credential_id = new_id(CREDENTIAL)
        sealed = self.keyring.seal(secret, credential_id, new.user_id, new.provider_type)
        return await self.store.credentials.insert(credential_id, new, secret.hint(), sealed)

    async def reveal(self, actor: Actor, credential_id: str) -> Secret | None:
        """The secret, for the credential's owner or an admin (None otherwise, shared or not)."""
        stored = await self.store.credentials.sealed(actor, credential_id)
        return self.keyring.open_stored(stored) if stored else None

    async def replace(self, actor: Actor, credential_id: str, secret: Secret) -> Credential | None:
        """Give the credential a new secret (a new API key); None when not the actor's to change."""
        stored = await self.store.credentials.sealed(actor, credential_id)
        if stored is None:
            return None
        c = stored.credential
        sealed = self.keyring.seal(secret, c.id, c.user_id, c.provider_type)
        return await self.store.credentials.replace_secret(actor, credential_id, secret.hint(), sealed)

    async def open_all(self) -> list[tuple[Credential, Secret]]:
        """Every credential with its secret, for the gateway's in-memory table."""
        return [(stored.credential, self.keyring.open_stored(stored))
                for stored in await self.store.credentials.load_all()]
