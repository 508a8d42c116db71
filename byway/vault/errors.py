"""What the vault raises."""

from __future__ import annotations


class VaultError(Exception):
    """A secret cannot be sealed or opened: wrong or unknown secret key, or a ciphertext that does not
    belong to the row it was read from. The message never contains secret material."""
