"""Sealing: AES-256-GCM under an HKDF-derived key, bound to the row, a fresh nonce every time."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from byway.store import SealedSecret
from byway.vault import Kek, Keyring, Secret, VaultError, fingerprint
from byway.vault.cipher import identity

OLD = "old-secret-key-0123456789-abcdefghijklmnop"
NEW = "new-secret-key-9876543210-zyxwvutsrqponmlk"
KEY = Secret.api_key("sk-proj-THE-PLAINTEXT-API-KEY-a1b2")


def test_seal_and_open_for_the_same_row() -> None:
    ring = Keyring(Kek.derive(OLD, 1))
    sealed = ring.seal(KEY, "cred_1", "usr_a", "openai")
    assert sealed.kek_version == 1 and len(sealed.nonce) == 12
    assert b"THE-PLAINTEXT" not in sealed.ciphertext
    assert len(sealed.ciphertext) == len(KEY.to_bytes()) + 16  # GCM tag
    assert ring.open(sealed, "cred_1", "usr_a", "openai") == KEY
    again = ring.seal(KEY, "cred_1", "usr_a", "openai")
    assert again.nonce != sealed.nonce and again.ciphertext != sealed.ciphertext


def test_the_key_is_hkdf_sha256_of_the_secret_and_aes_gcm_opens_it_directly() -> None:
    kek = Kek.derive(OLD, 1)
    assert len(kek.key) == 32 and kek.key == Kek.derive(OLD, 7).key and kek.key != Kek.derive(NEW, 1).key
    assert kek.fingerprint == fingerprint(OLD) and len(kek.fingerprint) == 64 and kek.key.hex() != kek.fingerprint
    sealed = Keyring(kek).seal(KEY, "cred_1", None, "openai")
    plain = AESGCM(kek.key).decrypt(sealed.nonce, sealed.ciphertext, identity("cred_1", None, "openai"))
    assert plain == KEY.to_bytes()


@pytest.mark.parametrize(("credential_id", "owner", "provider_type"), [
    ("cred_2", "usr_a", "openai"), ("cred_1", "usr_b", "openai"), ("cred_1", None, "openai"),
    ("cred_1", "usr_a", "anthropic"),
])
def test_another_rows_identity_does_not_open(credential_id: str, owner: str | None, provider_type: str) -> None:
    ring = Keyring(Kek.derive(OLD, 1))
    sealed = ring.seal(KEY, "cred_1", "usr_a", "openai")
    with pytest.raises(VaultError, match=f"credential {credential_id}: cannot decrypt"):
        ring.open(sealed, credential_id, owner, provider_type)


def test_altered_ciphertext_or_wrong_secret_does_not_open() -> None:
    ring = Keyring(Kek.derive(OLD, 1))
    sealed = ring.seal(KEY, "cred_1", "usr_a", "openai")
    flipped = bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:]
    with pytest.raises(VaultError):
        ring.open(SealedSecret(flipped, sealed.nonce, 1), "cred_1", "usr_a", "openai")
    with pytest.raises(VaultError):
        Keyring(Kek.derive(NEW, 1)).open(sealed, "cred_1", "usr_a", "openai")


def test_versions_pick_the_key_and_an_unheld_version_is_named() -> None:
    old_ring = Keyring(Kek.derive(OLD, 1))
    both = Keyring(Kek.derive(NEW, 2), Kek.derive(OLD, 1))
    sealed_old = old_ring.seal(KEY, "c", "u", "openai")
    sealed_new = both.seal(KEY, "c", "u", "openai")
    assert sealed_new.kek_version == 2
    assert both.open(sealed_old, "c", "u", "openai") == KEY
    assert both.open(sealed_new, "c", "u", "openai") == KEY
    with pytest.raises(VaultError, match="key version 2"):
        old_ring.open(sealed_new, "c", "u", "openai")
    with pytest.raises(VaultError):
        Keyring(Kek.derive(NEW, 1), Kek.derive(OLD, 1))


def test_short_secret_keys_are_refused_and_nothing_secret_is_shown() -> None:
    with pytest.raises(VaultError, match="at least 32"):
        Kek.derive("too-short", 1)
    kek = Kek.derive(OLD, 3)
    ring = Keyring(Kek.derive(NEW, 4), kek)
    for text in (repr(kek), str(kek), repr(ring)):
        assert OLD not in text and kek.key.hex() not in text and kek.fingerprint not in text
    assert repr(ring) == "Keyring(current=4, previous=3)"
