"""Sending an ``HttpCall`` upstream: one pooled aiohttp session, timeouts, and
connection failures turned into typed errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp

from byway.core import UpstreamTimeoutError, UpstreamUnavailableError
from byway.providers.base import HttpCall
from byway.providers.config import ProviderConfig

CONNECT_TIMEOUT = 10.0


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

    async def chunks(self, provider: ProviderConfig) -> AsyncIterator[bytes]:
        """The body as it arrives. A failure mid-way raises a typed error."""
        content = self._response.content
        try:
            while True:
                chunk = await content.readany()
                if not chunk:
                    return
                yield chunk
        except Exception as e:
            raise _failure(provider, e) from None

    def close(self) -> None:
        self._response.close()


class Transport:
    """Owns the upstream connection pool. Create one per process and ``close()`` it at shutdown."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, enable_cleanup_closed=True)
            self._session = aiohttp.ClientSession(connector=connector, trust_env=True, auto_decompress=True,
                                                  skip_auto_headers=("User-Agent",))
        return self._session

    def _timeout(self, seconds: float) -> aiohttp.ClientTimeout:
        timeout = self._timeouts.get(seconds)
        if timeout is None:
            # sock_read bounds both the wait for the first byte and the idle time between chunks.
            timeout = aiohttp.ClientTimeout(total=None, connect=CONNECT_TIMEOUT, sock_read=seconds)
            self._timeouts[seconds] = timeout
        return timeout

    async def open(self, provider: ProviderConfig, call: HttpCall) -> UpstreamResponse:
        """Send ``call``; return once the status and headers are in."""
        session = self._get_session()
        kwargs: dict[str, Any] = {"timeout": self._timeout(provider.timeout)}
        if provider.proxy:
            kwargs["proxy"] = provider.proxy
        try:
            response = await session.request(call.method, call.url, headers=call.headers, data=call.body,
                                             **kwargs)
        except Exception as e:
            raise _failure(provider, e) from None
        return UpstreamResponse(response)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _failure(provider: ProviderConfig, error: BaseException) -> Exception:
    if isinstance(error, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return UpstreamTimeoutError(f"{provider.name}: no answer within {provider.timeout:g} s",
                                    provider=provider.name)
    if isinstance(error, aiohttp.ClientPayloadError | aiohttp.ServerDisconnectedError):
        return UpstreamUnavailableError(f"{provider.name}: connection lost mid-answer ({type(error).__name__})",
                                        provider=provider.name)
    if isinstance(error, aiohttp.ClientError | OSError):
        return UpstreamUnavailableError(f"{provider.name}: cannot reach the provider ({type(error).__name__}: "
                                        f"{error})", provider=provider.name)
    return error  # type: ignore[return-value]
