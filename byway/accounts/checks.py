"""Asking a provider whether a credential works: the adapter's cheapest authenticated call
(``validate_call``), and its live model list. Each answers in bounded time."""

from __future__ import annotations

import asyncio
import time

import msgspec

from byway.accounts.guard import GuardedTransport
from byway.api.errors import error_message
from byway.core import ByWayError, UpstreamAuthError
from byway.providers.config import ProviderConfig
from byway.providers.registry import adapter_for
from byway.providers.transport import Transport

CHECK_SECONDS = 20.0


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    latency_ms: float
    error: str | None = None
    refused: bool = False  # the provider refused the credentials (rather than failing otherwise)


class ProviderCheck:
    """Sends checks through ``transport``; a ``GuardedTransport`` sends them through its guarded pool
    (the connection is the user's, like every credential's)."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def _guard(self, provider: ProviderConfig) -> bool:
        """Register ``provider`` with the guard for the call (False: nothing to undo after)."""
        transport = self.transport
        if not isinstance(transport, GuardedTransport) or transport.guarded(provider):
            return False
        transport.guard(provider)
        return True

    async def check(self, provider: ProviderConfig) -> Outcome:
        """Whether the provider accepts the credentials in ``provider``."""
        started = time.perf_counter()
        try:
            async with asyncio.timeout(CHECK_SECONDS):
                await self._get(provider, validate=True)
        except ByWayError as e:
            return Outcome(ok=False, latency_ms=_since(started), error=error_message(e),
                           refused=isinstance(e, UpstreamAuthError))
        except TimeoutError:
            return Outcome(ok=False, latency_ms=_since(started),
                           error=f"{provider.name}: no answer within {CHECK_SECONDS:g} s")
        return Outcome(ok=True, latency_ms=_since(started))

    async def models(self, provider: ProviderConfig) -> list[str]:
        """The provider's live model list (raises its error)."""
        try:
            async with asyncio.timeout(CHECK_SECONDS):
                body = await self._get(provider, validate=False)
        except TimeoutError:
            raise ByWayError(f"{provider.name}: no answer within {CHECK_SECONDS:g} s", status=504,
                             code="timeout") from None
        return adapter_for(provider.provider_type).parse_models(provider, body)

    async def _get(self, provider: ProviderConfig, *, validate: bool) -> bytes:
        adapter = adapter_for(provider.provider_type)
        guarded = self._guard(provider)
        try:
            call = adapter.validate_call(provider) if validate else adapter.models_call(provider)
            call = await adapter.authorize(provider, call, self.transport)
            upstream = await self.transport.open(provider, call)
            body = await upstream.read(provider)
            if upstream.status >= 400:
                raise adapter.parse_error(provider, upstream.status, upstream.headers, body)
            return body
        finally:
            if guarded:
                assert isinstance(self.transport, GuardedTransport)
                self.transport.unguard(provider)


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
