"""What the store answers when a change cannot be made."""

from __future__ import annotations


class StoreError(Exception):
    """A store operation failed for a reason the caller can report."""


class DuplicateError(StoreError):
    """A unique value is already taken; ``field`` names it (``email``, ``name``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class ForbiddenError(StoreError):
    """The actor may see the object but not make this change (a member changing their own role)."""


class MissingError(StoreError):
    """The object a new row refers to (its owner) does not exist."""
