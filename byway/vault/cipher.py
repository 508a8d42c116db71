"""AES-256-GCM sealing of one secret, bound to the row that holds it.

The associated data is the row's identity (credential id, owner, provider type): a ciphertext copied
into another row fails authentication instead of opening as that row's secret. Every seal uses a fresh
random 96-bit nonce.
"""

from __future__ import annotations

import os

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from byway.vault.errors import VaultError

NONCE_BYTES = 12
_CONTEXT = "byway-credential/v1"


def identity(credential_id: str, owner_id: str | None, provider_type: str) -> bytes:
    """The associated data for a credential row (an unambiguous JSON array)."""
    return msgspec.json.encode([_CONTEXT, credential_id, owner_id or "master", provider_type])


def seal(key: bytes, plaintext: bytes, associated: bytes) -> tuple[bytes, bytes]:
    """(nonce, ciphertext)."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce, AESGCM(key).encrypt(nonce, plaintext, associated)


def unseal(key: bytes, nonce: bytes, ciphertext: bytes, associated: bytes, what: str) -> bytes:
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, associated)
    except (InvalidTag, ValueError):
        raise VaultError(f"{what}: cannot decrypt: the ciphertext was not sealed for this row "
                         "with this key (moved between rows, altered, or a different secret key)") from None
