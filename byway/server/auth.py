"""Who is calling: every presented key resolves to a ``Principal`` through one interface.

The request path asks an ``Authenticator`` synchronously: implementations keep
what they need in memory (with explicit invalidation), never awaiting a
database per request. The gateway asks ``Chain(MasterKey(...), directory)``: the
master key, then users' gateway keys (``byway.accounts.Directory``, which raises
401 with the reason for a revoked or expired key).

The management API also accepts a dashboard session: a ``Sessions`` implementation
(with its CSRF check) plugs in there when the dashboard arrives.
"""

from __future__ import annotations

import hmac
from typing import Protocol

from byway.core import AuthenticationError
from byway.core.principal import Principal


class Authenticator(Protocol):
    def authenticate(self, key: str) -> Principal | None:
        """The principal ``key`` belongs to, or None when it is no valid key."""
        ...


class MasterKey:
    """The master key: an admin principal with no restrictions."""

    def __init__(self, master_key: str) -> None:
        self._key = master_key.encode()
        self._principal = Principal(id="master", kind="master", role="admin", name="master key")

    def authenticate(self, key: str) -> Principal | None:
        if hmac.compare_digest(key.encode(), self._key):
            return self._principal
        return None


class Chain:
    """Asks each authenticator in turn."""

    def __init__(self, *authenticators: Authenticator) -> None:
        self._authenticators = authenticators

    def authenticate(self, key: str) -> Principal | None:
        for a in self._authenticators:
            principal = a.authenticate(key)
            if principal is not None:
                return principal
        return None


class Sessions(Protocol):
    def principal(self, method: str, headers: list[tuple[bytes, bytes]]) -> Principal | None:
        """The principal of a dashboard session cookie in ``headers`` (None: no session). Raises
        ``AuthenticationError``/``PermissionDeniedError`` for an expired session or a failed CSRF check."""
        ...


def bearer_key(headers: list[tuple[bytes, bytes]], *, allow_x_api_key: bool = False) -> str:
    """The key from ``Authorization: Bearer`` (or ``x-api-key`` where allowed)."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            raise AuthenticationError("the Authorization header must be 'Bearer <key>'")
        if allow_x_api_key and name == b"x-api-key" and value:
            return value.decode("latin-1").strip()
    raise AuthenticationError("no API key given: send 'Authorization: Bearer <key>'")


def authenticate(authenticator: Authenticator, key: str) -> Principal:
    principal = authenticator.authenticate(key)
    if principal is None:
        raise AuthenticationError("invalid API key")
    return principal
