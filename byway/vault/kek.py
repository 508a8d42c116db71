"""Key-encryption keys: derived from the gateway's secret key with HKDF-SHA256, one per version.

The secret key is any string of at least 32 characters. Its fingerprint (a second, independent HKDF
output) identifies it in the database without revealing the key.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from byway.vault.errors import VaultError

MIN_SECRET_LENGTH = 32
_SALT = b"byway/vault/v1"
_KEY_INFO = b"byway credential key-encryption key"
_FINGERPRINT_INFO = b"byway key-encryption key fingerprint"


def _hkdf(secret: str, info: bytes) -> bytes:
    if len(secret) < MIN_SECRET_LENGTH:
        raise VaultError(f"the secret key must be at least {MIN_SECRET_LENGTH} characters")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=info).derive(secret.encode())


def fingerprint(secret: str) -> str:
    return _hkdf(secret, _FINGERPRINT_INFO).hex()


class Kek:
    """One version of the key-encryption key (AES-256). ``repr`` shows only the version."""

    __slots__ = ("fingerprint", "key", "version")

    def __init__(self, version: int, key: bytes, fingerprint: str) -> None:
        self.version = version
        self.key = key
        self.fingerprint = fingerprint

    @classmethod
    def derive(cls, secret: str, version: int) -> Kek:
        return cls(version, _hkdf(secret, _KEY_INFO), fingerprint(secret))

    def __repr__(self) -> str:
        return f"Kek(version={self.version})"

    __str__ = __repr__

    def __reduce__(self) -> object:
        raise TypeError("a Kek is not picklable")
