"""Password hashing with argon2id. Hashing is slow on purpose, so it runs in a worker thread."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    """Hash and verify passwords; ``verify`` also says when a stored hash should be redone
    (made with older parameters than the current ones)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher(type=Type.ID)

    def __repr__(self) -> str:
        h = self.hasher
        return f"Passwords(argon2id, t={h.time_cost}, m={h.memory_cost}KiB, p={h.parallelism})"

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, stored_hash: str, password: str) -> tuple[bool, bool]:
        """(matches, needs_rehash)."""
        return await asyncio.to_thread(self._verify, stored_hash, password)

    def _verify(self, stored_hash: str, password: str) -> tuple[bool, bool]:
        try:
            self.hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False, False
        return True, self.hasher.check_needs_rehash(stored_hash)
