"""OAuth2 access tokens for Vertex AI from a service account, without blocking the event loop.

The service account's JSON (``credentials_json``, or the file named by ``credentials_file``) gives the
``client_email``, the RSA ``private_key`` and the ``token_uri``. A token is obtained with the JWT bearer grant
(RFC 7523): a JWT signed with the key (google-auth does the signing) whose ``aud`` is the ``token_uri`` and whose
``scope`` is cloud-platform, posted as a form to the ``token_uri`` through Byway's own ``Transport`` (aiohttp;
no ``requests``). Reading the file and signing run in a worker thread.

Tokens are cached per provider connection (its name and credentials) until five minutes before they expire;
one refresh at a time per provider (an ``asyncio.Lock``), so concurrent requests wait for the same token instead
of each fetching one. A refused exchange (bad key, unknown account) is an ``UpstreamAuthError`` naming the
provider; a 5xx or 429 from the token endpoint is retryable. Neither the key nor a token is ever logged or put
in an error message.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import msgspec

from byway.core import ProviderError, UpstreamAuthError, UpstreamUnavailableError
from byway.providers.base import HttpCall
from byway.providers.config import ProviderConfig

if TYPE_CHECKING:
    from byway.providers.transport import Transport

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_SECONDS = 3600  # the longest lifetime Google accepts for the signed assertion
REFRESH_MARGIN = 300.0  # seconds before expiry at which a token is replaced

_Key = tuple[str, str | None, str | None]


class ServiceAccount:
    """The parts of a service-account key file the token exchange needs. Its repr hides the key."""

    __slots__ = ("client_email", "private_key", "private_key_id", "project_id", "token_uri")

    def __init__(self, client_email: str, private_key: str, private_key_id: str | None = None,
                 token_uri: str | None = None, project_id: str | None = None) -> None:
        self.client_email = client_email
        self.private_key = private_key
        self.private_key_id = private_key_id
        self.token_uri = token_uri or DEFAULT_TOKEN_URI
        self.project_id = project_id

    def __repr__(self) -> str:
        return f"ServiceAccount({self.client_email!r}, token_uri={self.token_uri!r})"


class _KeyFile(msgspec.Struct):
    client_email: str = ""
    private_key: str = ""
    private_key_id: str | None = None
    token_uri: str | None = None
    project_id: str | None = None
    type: str | None = None


class _TokenAnswer(msgspec.Struct):
    access_token: str = ""
    expires_in: float = 3600.0


class _OAuthError(msgspec.Struct):
    error: str | dict | None = None
    error_description: str | None = None


class _Token:
    __slots__ = ("expires_at", "value")

    def __init__(self, value: str, expires_at: float) -> None:
        self.value = value
        self.expires_at = expires_at  # on the VertexAuth clock

    def __repr__(self) -> str:
        return "_Token(<hidden>)"


def parse_service_account(provider_name: str, text: str | bytes) -> ServiceAccount:
    """A service account out of its JSON key file; a file that is not one is an ``UpstreamAuthError``."""
    try:
        data = msgspec.json.decode(text, type=_KeyFile)
    except (msgspec.DecodeError, msgspec.ValidationError):
        raise UpstreamAuthError(f"{provider_name}: the Vertex credentials are not a service-account JSON key",
                                provider=provider_name) from None
    if not data.client_email or not data.private_key:
        raise UpstreamAuthError(f"{provider_name}: the Vertex credentials lack client_email or private_key "
                                "(a service-account key is needed)", provider=provider_name)
    return ServiceAccount(data.client_email, data.private_key, data.private_key_id, data.token_uri, data.project_id)


def load_service_account(provider: ProviderConfig) -> ServiceAccount:
    """Blocking (reads ``credentials_file``): call it from a worker thread."""
    if provider.credentials_json:
        return parse_service_account(provider.name, provider.credentials_json)
    if provider.credentials_file:
        try:
            text = Path(provider.credentials_file).expanduser().read_bytes()
        except OSError as exc:
            raise UpstreamAuthError(f"{provider.name}: cannot read the Vertex credentials file "
                                    f"({exc.strerror or type(exc).__name__})", provider=provider.name) from None
        return parse_service_account(provider.name, text)
    raise UpstreamAuthError(f"{provider.name}: Vertex needs service-account credentials (credentials_file or "
                            "credentials_json)", provider=provider.name)


def signed_assertion(provider_name: str, account: ServiceAccount, now: float | None = None) -> str:
    """The JWT grant assertion, signed with the account's key (CPU work: run it in a worker thread)."""
    from google.auth import crypt, jwt  # imported on first use: it pulls in cryptography

    issued = int(now if now is not None else time.time())
    try:
        signer = crypt.RSASigner.from_string(account.private_key, account.private_key_id)
    except Exception:  # whatever the key's defect, say only that it is unusable
        raise UpstreamAuthError(f"{provider_name}: the Vertex service-account private key is unreadable",
                                provider=provider_name) from None
    claims = {"iss": account.client_email, "scope": SCOPE, "aud": account.token_uri, "iat": issued,
              "exp": issued + ASSERTION_SECONDS}
    return jwt.encode(signer, claims).decode()


class VertexAuth:
    """Access tokens for Vertex provider connections (one instance per process, shared by its requests)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock  # seconds, for token expiry
        self._tokens: dict[_Key, _Token] = {}
        self._accounts: dict[_Key, ServiceAccount] = {}
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[_Key, asyncio.Lock]] = (
            weakref.WeakKeyDictionary())

    @staticmethod
    def _key(provider: ProviderConfig) -> _Key:
        return provider.name, provider.credentials_file, provider.credentials_json

    def known_account(self, provider: ProviderConfig) -> ServiceAccount | None:
        """The provider's service account if it has been loaded already (no I/O)."""
        return self._accounts.get(self._key(provider))

    async def account(self, provider: ProviderConfig) -> ServiceAccount:
        key = self._key(provider)
        account = self._accounts.get(key)
        if account is None:
            account = await asyncio.to_thread(load_service_account, provider)
            self._accounts[key] = account
        return account

    async def token(self, provider: ProviderConfig, transport: Transport) -> str:
        """A valid access token for ``provider``, fetched only when the cached one is near its expiry."""
        key = self._key(provider)
        cached = self._tokens.get(key)
        if cached is not None and cached.expires_at - REFRESH_MARGIN > self._clock():
            return cached.value
        async with self._lock(key):
            cached = self._tokens.get(key)  # another request may have refreshed it while this one waited
            if cached is not None and cached.expires_at - REFRESH_MARGIN > self._clock():
                return cached.value
            fresh = await self._exchange(provider, await self.account(provider), transport)
            self._tokens[key] = fresh
            return fresh.value

    def forget(self, provider: ProviderConfig) -> None:
        """Drop the cached token (after the API refused it, or when the credentials change)."""
        self._tokens.pop(self._key(provider), None)

    def _lock(self, key: _Key) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        locks = self._locks.get(loop)
        if locks is None:
            locks = self._locks[loop] = {}
        lock = locks.get(key)
        if lock is None:
            lock = locks[key] = asyncio.Lock()
        return lock

    async def _exchange(self, provider: ProviderConfig, account: ServiceAccount, transport: Transport) -> _Token:
        assertion = await asyncio.to_thread(signed_assertion, provider.name, account)
        body = urlencode({"grant_type": GRANT_TYPE, "assertion": assertion}).encode()
        call = HttpCall(method="POST", url=account.token_uri, body=body,
                        headers={"content-type": "application/x-www-form-urlencoded", "accept": "application/json"})
        started = self._clock()
        upstream = await transport.open(provider, call)
        raw = await upstream.read(provider)
        if upstream.status >= 400:
            raise _exchange_error(provider.name, upstream.status, raw)
        try:
            answer = msgspec.json.decode(raw, type=_TokenAnswer)
        except (msgspec.DecodeError, msgspec.ValidationError):
            answer = _TokenAnswer()
        if not answer.access_token:
            raise UpstreamUnavailableError(f"{provider.name}: the token endpoint answered without an access token",
                                           provider=provider.name, upstream_status=upstream.status)
        return _Token(answer.access_token, started + answer.expires_in)


def _exchange_error(provider_name: str, status: int, raw: bytes) -> ProviderError:
    try:
        answer = msgspec.json.decode(raw, type=_OAuthError)
        error = answer.error if isinstance(answer.error, str) else None
        reason = ": ".join(p for p in (error, answer.error_description) if p)
    except (msgspec.DecodeError, msgspec.ValidationError):
        reason = ""
    text = f"{provider_name}: the service-account token exchange was refused (HTTP {status}" + (
        f", {reason[:300]})" if reason else ")")
    if status in (400, 401, 403):
        return UpstreamAuthError(text, provider=provider_name, upstream_status=status)
    return UpstreamUnavailableError(text, provider=provider_name, upstream_status=status)
