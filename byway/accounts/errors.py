"""The errors account operations raise: typed errors, so the API answers them in its envelope and the
CLI prints their message."""

from __future__ import annotations

from byway.core import ByWayError, InvalidRequestError, NotFoundError


class Unprocessable(InvalidRequestError):
    """A value the request gave cannot be used (422)."""

    status = 422
    code = "invalid_value"


class Conflict(InvalidRequestError):
    """A unique value is taken (409)."""

    status = 409
    code = "conflict"


class VaultUnavailable(ByWayError):
    """The gateway cannot seal secrets right now (its secret key was rotated by another process)."""

    status = 503
    kind = "overloaded"
    code = "vault_unavailable"


def missing(kind: str, object_id: str) -> NotFoundError:
    """404 for an object that does not exist or is not the caller's: the same answer either way."""
    return NotFoundError(f"no {kind} {object_id}", code=f"{kind}_not_found")
