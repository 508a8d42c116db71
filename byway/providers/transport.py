"""Sending an ``HttpCall`` upstream: one pooled aiohttp session, timeouts, and
connection failures turned into typed errors."""

from __future__ import annotations

import asyncio
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from byway.core import UpstreamTimeoutError, UpstreamUnavailableError
from byway.providers.base import HttpCall
from byway.providers.config import ProviderConfig

USER_AGENT = "byway"


class UpstreamResponse:
    """An upstream answer whose headers have arrived; the body is read or streamed on demand."""

    __slots__ = ("_response", "headers", "status")

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status
        self.headers = response.headers

    async def read(self, provider: ProviderConfig) -> bytes:
        try:
            return await self._response.read()
        except Exception as e:
            raise _failure(provider, e) from None
        finally:
            self._response.release()

    async def read_chunk(self, provider: ProviderConfig) -> bytes:
        """The next part of the body as it arrives; ``b""`` at its end. A failure mid-way raises a typed
        error."""
        try:
            return await self._response.content.readany()
        except Exception as e:
            raise _failure(provider, e) from None

    def complete(self) -> bool:
        """Whether the whole body has arrived (reading on will not wait)."""
        return self._response.content.is_eof()

    def close(self) -> None:
        """Done with the answer: a connection whose answer was read to its end goes back to the pool for the
        next request; one left mid-answer (a client gone, a failure) is closed."""
        if self._response.content.at_eof():
            self._response.release()
        else:
            self._response.close()


class Transport:
    """Owns the upstream connection pool. Create one per process and ``close()`` it at shutdown."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[float, float], aiohttp.ClientTimeout] = {}
        self._proxies: dict[tuple[str | None, str], str | None] = {}

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            # trust_env stays off: aiohttp would then look up netrc and proxy settings in a thread for
            # every request. The proxy environment is read once per provider host instead (proxy_for).
            self._session = aiohttp.ClientSession(connector=self._connector(), trust_env=False,
                                                  auto_decompress=True)
        return self._session

    def _connector(self) -> aiohttp.TCPConnector:
        return aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, enable_cleanup_closed=True)

    def _timeout(self, provider: ProviderConfig) -> aiohttp.ClientTimeout:
        key = (provider.connect_timeout, provider.idle_timeout or provider.timeout)
        timeout = self._timeouts.get(key)
        if timeout is None:
            # sock_read bounds every wait for bytes: the first (the dispatcher also bounds a stream's first
            # token by ``timeout``) and each idle gap between chunks.
            timeout = aiohttp.ClientTimeout(total=None, connect=key[0], sock_read=key[1])
            self._timeouts[key] = timeout
        return timeout

    async def open(self, provider: ProviderConfig, call: HttpCall) -> UpstreamResponse:
        """Send ``call``; return once the status and headers are in."""
        session = self._get_session()
        call.headers.setdefault("user-agent", USER_AGENT)  # rather than aiohttp's, which names its version
        kwargs: dict[str, Any] = {"timeout": self._timeout(provider)}
        proxy = self.proxy_for(provider.proxy, call.url)
        if proxy:
            kwargs["proxy"] = proxy
        try:
            response = await session.request(call.method, call.url, headers=call.headers, data=call.body,
                                             **kwargs)
        except Exception as e:
            raise _failure(provider, e) from None
        return UpstreamResponse(response)

    def proxy_for(self, configured: str | None, url: str) -> str | None:
        """The provider's own ``proxy``, else ``HTTPS_PROXY``/``HTTP_PROXY`` unless ``NO_PROXY`` exempts the host.
        Decided once per provider and host."""
        parts = urlsplit(url)
        key = (configured, f"{parts.scheme}://{parts.netloc}")
        if key not in self._proxies:
            if configured:
                self._proxies[key] = configured
            else:
                found = urllib.request.getproxies().get(parts.scheme)
                host = parts.hostname or ""
                self._proxies[key] = None if not found or urllib.request.proxy_bypass(host) else found
        return self._proxies[key]

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _failure(provider: ProviderConfig, error: BaseException) -> Exception:
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return UpstreamTimeoutError(f"{provider.name}: no connection within {provider.connect_timeout:g} s",
                                    provider=provider.name)
    if isinstance(error, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        waited = provider.idle_timeout or provider.timeout
        return UpstreamTimeoutError(f"{provider.name}: no answer within {waited:g} s", provider=provider.name)
    if isinstance(error, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
        return UpstreamUnavailableError(f"{provider.name}: connection lost mid-answer ({type(error).__name__})",
                                        provider=provider.name)
    if isinstance(error, aiohttp.ClientError | OSError):
        return UpstreamUnavailableError(f"{provider.name}: cannot reach the provider ({type(error).__name__}: "
                                        f"{error})", provider=provider.name)
    return error  # type: ignore[return-value]
