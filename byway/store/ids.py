"""Object ids: a short type prefix and 128 random bits, made by Byway (not the database) so an id
is known before its row is written (the vault binds a credential's ciphertext to its id)."""

from __future__ import annotations

import secrets

USER = "usr"
KEY = "key"
CREDENTIAL = "cred"


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(16)}"
