"""The SSRF guard for connections users define: their credentials' base URLs (and a Vertex key's
``token_uri``) may not lead to private, loopback or link-local addresses unless the operator allows it
(``allow_private_base_urls``).

Checked twice: when the credential is saved (the URL's host is resolved and every address checked, so
the user hears about it at once) and at every connection (``GuardedTransport`` sends such calls
through a pool whose resolver refuses private addresses), so a name that resolves elsewhere later
(DNS rebinding) still cannot reach the inside.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver

from byway.accounts.errors import Unprocessable
from byway.core import InvalidRequestError
from byway.providers.base import HttpCall
from byway.providers.config import ProviderConfig
from byway.providers.netguard import GuardedResolver, check_url
from byway.providers.transport import Transport, UpstreamResponse


class BaseURLGuard:
    """Checks a user-supplied URL when it is saved."""

    def __init__(self, allow_private: bool = False, resolver: AbstractResolver | None = None) -> None:
        self.allow_private = allow_private
        self._inner = resolver
        self._resolver: GuardedResolver | None = None  # made on first use: aiohttp's wants a running loop

    async def check(self, url: str, param: str = "base_url") -> None:
        """Raise 422 when ``url`` is no http(s) URL, or (unless private addresses are allowed) when its
        host is or resolves to an address that is not public."""
        try:
            host = check_url(url, param=param) if not self.allow_private else _host(url, param)
        except InvalidRequestError as e:
            raise Unprocessable(e.message, param=param, code="blocked_url") from None
        if self.allow_private or _is_literal(host):
            return
        port = urlsplit(url).port or 0
        if self._resolver is None:
            self._resolver = GuardedResolver(self._inner)
        try:
            await self._resolver.resolve(host, port, socket.AF_UNSPEC)
        except InvalidRequestError as e:
            raise Unprocessable(f"{param}: {e.message}", param=param, code="blocked_url") from None
        except OSError as e:
            raise Unprocessable(f"{param}: cannot resolve the host {host!r} ({e.strerror or e})", param=param,
                                code="unresolvable_url") from None

    async def close(self) -> None:
        if self._resolver is not None:
            await self._resolver.close()
            self._resolver = None


def _host(url: str, param: str) -> str:
    """The host of an http(s) URL (no address check)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise InvalidRequestError(f"{param}: the URL must use http or https", param=param)
    if not parts.hostname:
        raise InvalidRequestError(f"{param}: the URL has no host", param=param)
    return parts.hostname


def _is_literal(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host.split("%", 1)[0])
    except OSError:
        return False
    return True


class _GuardedPool(Transport):
    """A connection pool of its own whose resolver refuses private addresses."""

    def __init__(self, resolver: AbstractResolver | None) -> None:
        super().__init__()
        self._inner = resolver
        self._check: GuardedResolver | None = None

    def _connector(self) -> aiohttp.TCPConnector:
        return aiohttp.TCPConnector(limit=0, ttl_dns_cache=60, enable_cleanup_closed=True,
                                    resolver=GuardedResolver(self._inner))

    async def open(self, provider: ProviderConfig, call: HttpCall) -> UpstreamResponse:
        host = check_url(call.url, param="base_url")  # literal addresses: aiohttp never resolves them
        if self.proxy_for(provider.proxy, call.url) and not _is_literal(host):
            # through a proxy the proxy resolves the name: check it here instead
            if self._check is None:
                self._check = GuardedResolver(self._inner)
            await self._check.resolve(host, urlsplit(call.url).port or 0, socket.AF_UNSPEC)
        return await super().open(provider, call)

    async def close(self) -> None:
        await super().close()
        if self._check is not None:
            await self._check.close()
            self._check = None


class GuardedTransport(Transport):
    """The engine's transport when private base URLs are not allowed: calls for the connections
    registered with ``guard()`` (users' credentials) go through the guarded pool, the rest (the
    config's trusted providers) through the usual one."""

    def __init__(self, resolver: AbstractResolver | None = None) -> None:
        super().__init__()
        self._guarded: dict[int, ProviderConfig] = {}
        self._pool = _GuardedPool(resolver)

    def guard(self, provider: ProviderConfig) -> None:
        self._guarded[id(provider)] = provider  # holding it keeps its id from being reused

    def unguard(self, provider: ProviderConfig) -> None:
        if self._guarded.get(id(provider)) is provider:
            del self._guarded[id(provider)]

    def guarded(self, provider: ProviderConfig) -> bool:
        return self._guarded.get(id(provider)) is provider

    async def open(self, provider: ProviderConfig, call: HttpCall) -> UpstreamResponse:
        if self._guarded and self._guarded.get(id(provider)) is provider:
            return await self._pool.open(provider, call)
        return await super().open(provider, call)

    async def close(self) -> None:
        await super().close()
        await self._pool.close()
