"""The engine the server and the library share: resolve, dispatch, price.

It knows nothing of HTTP or accounts. The server wraps it with authentication,
client wire formats and persistence; ``LLMManager`` wraps it for Python callers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal

from byway.accounting.estimate import embedding_tokens, tokens_in_text
from byway.accounting.gate import Gate, Pass
from byway.accounting.prices import PriceBook
from byway.config import GatewayConfig, RouteConfig
from byway.core import (
    Accumulator,
    ByWayError,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    StreamEvent,
    Usage,
)
from byway.core.principal import LIBRARY, Principal
from byway.providers.config import ProviderConfig
from byway.providers.images import ImageFetcher
from byway.providers.registry import adapter_for
from byway.providers.transport import Transport
from byway.routing.breaker import BreakerConfig, Breakers
from byway.routing.dispatch import Completion, Dispatcher, OpenStream
from byway.routing.health import Health, HealthBook
from byway.routing.retry import RetryPolicy
from byway.routing.strategies import Strategies
from byway.routing.targets import Router


class Engine:
    def __init__(self, providers: list[ProviderConfig], routes: list[RouteConfig] | None = None,
                 transport: Transport | None = None, prices: PriceBook | None = None,
                 images: ImageFetcher | None = None, retry: RetryPolicy | None = None,
                 breakers: BreakerConfig | None = None, health_check_interval: float = 0.0,
                 gate: Gate | None = None) -> None:
        self.router = Router(providers, routes)
        self.transport = transport or Transport()
        self.prices = prices or PriceBook()
        self.gate = gate or Gate(self.prices)
        self.health = HealthBook()
        self.breakers = Breakers(breakers)
        self.dispatcher = Dispatcher(self.transport, images, retry=retry, breakers=self.breakers, health=self.health)
        self.router.order = Strategies(self.health, self._typical_price).order
        self.health_check_interval = health_check_interval
        self._checker: asyncio.Task[None] | None = None
        self.spend = CostTally()

    @classmethod
    def from_config(cls, config: GatewayConfig, transport: Transport | None = None) -> Engine:
        images = ImageFetcher(max_bytes=config.image_max_bytes, timeout=config.image_fetch_timeout,
                              allow_private=config.allow_private_image_urls)
        engine = cls(config.providers, config.routes, transport=transport, images=images, retry=config.retry,
                     breakers=config.circuit_breaker, health_check_interval=config.health_check_interval)
        engine.gate.default_max_output_tokens = config.default_max_output_tokens
        return engine

    def warm(self) -> None:
        """Load what the first request would otherwise wait for: each provider's adapter and the
        catalogue prices of the models it lists."""
        for provider in self.router.providers.values():
            try:
                adapter_for(provider.provider_type)
            except ByWayError:
                continue  # a type without an adapter yet answers its own clear error per request
            for model in provider.models or ():
                self.prices.rates(provider, model)

    async def complete(self, request: ChatRequest, principal: Principal = LIBRARY) -> Completion[ChatResponse]:
        request, targets = self.router.plan(request, principal)
        admission = self.gate.open(principal, request)
        try:
            done = await self.dispatcher.complete(request, targets, admission)
        except BaseException:
            admission.release()
            raise
        response = done.response
        response.provider = done.target.provider.name
        if not response.usage.total_tokens:  # the provider said nothing: meter what was asked and answered
            response.usage = Usage(input_tokens=admission.prompt, output_tokens=_answer_tokens(response))
            response.estimated = True
        response.cost = self.prices.cost(done.target.provider, done.target.model, response.usage)
        admission.settle(response.usage, response.cost)
        self.spend.add(response.provider, response.cost)
        return done

    async def embed(self, request: EmbeddingRequest,
                    principal: Principal = LIBRARY) -> Completion[EmbeddingResponse]:
        targets = self.router.resolve(request.model, principal)
        admission = self.gate.open(principal, prompt=embedding_tokens(request.inputs), max_output=0)
        try:
            done = await self.dispatcher.embed(request, targets, admission)
        except BaseException:
            admission.release()
            raise
        response = done.response
        response.provider = done.target.provider.name
        response.cost = self.prices.cost(done.target.provider, done.target.model, response.usage)
        admission.settle(response.usage, response.cost)
        self.spend.add(response.provider, response.cost)
        return done

    async def open_stream(self, request: ChatRequest, principal: Principal = LIBRARY,
                          passthrough: str | None = None) -> OpenStream:
        """A started stream. ``passthrough``: the wire family the caller passes frames on in untouched (see
        ``Dispatcher.stream``). Whoever opens it ends it with ``finish_stream``."""
        request, targets = self.router.plan(request, principal)
        admission = self.gate.open(principal, request)
        try:
            stream = await self.dispatcher.stream(request, targets, passthrough, admission)
        except BaseException:
            admission.release()
            raise
        stream.admission = admission
        return stream

    def finish_stream(self, stream: OpenStream, accumulated: Accumulator, frames: int) -> Metered:
        """Meter a stream that has ended, however it ended: its usage as reported, or estimated from what
        was delivered (``frames``: how many frames reached the client, for a stream passed on without its
        content decoded); its cost; and the budgets settled."""
        usage = accumulated.usage
        estimated = False
        if not usage.output_tokens:  # no usage at all, or a stream cut before its final count
            answer = accumulated.response()
            # a stream passed on undecoded has no parts here: about one token per content frame
            output = _answer_tokens(answer) if answer.parts else 0 if usage.input_tokens else max(frames - 2, 0)
            if output or not usage.input_tokens:
                prompt = stream.admission.prompt if isinstance(stream.admission, Pass) else 0
                usage = Usage(input_tokens=usage.input_tokens or prompt, output_tokens=output,
                              cached_tokens=usage.cached_tokens, cache_write_tokens=usage.cache_write_tokens)
                estimated = True
        cost = self.prices.cost(stream.target.provider, stream.target.model, usage)
        if stream.admission is not None:
            stream.admission.settle(usage, cost)
        self.spend.add(stream.target.provider.name, cost)
        return Metered(usage, cost, estimated)

    async def events(self, request: ChatRequest, principal: Principal = LIBRARY) -> AsyncIterator[StreamEvent]:
        """The canonical events of a streamed call."""
        stream = await self.open_stream(request, principal)
        accumulated = Accumulator()
        frames = 0
        try:
            async for batch in stream.batches():
                for frame in batch:
                    frames += frame.count
                    for event in frame.events:
                        accumulated.add(event)
                        yield event
        finally:
            stream.close()
            self.finish_stream(stream, accumulated, frames)

    async def list_models(self, provider: ProviderConfig) -> list[str]:
        """The provider's live model list."""
        adapter = adapter_for(provider.provider_type)
        call = await adapter.authorize(provider, adapter.models_call(provider), self.transport)
        upstream = await self.transport.open(provider, call)
        body = await upstream.read(provider)
        if upstream.status >= 400:
            raise adapter.parse_error(provider, upstream.status, upstream.headers, body)
        return adapter.parse_models(provider, body)

    def _typical_price(self, provider: ProviderConfig, model: str) -> Decimal | None:
        """What the cheapest strategy compares: input plus output price per million tokens."""
        rates = self.prices.rates(provider, model)
        return None if rates is None else (rates.input + rates.output) * provider.cost_multiplier

    # --- health ---------------------------------------------------------------------------------------

    async def check(self, provider: ProviderConfig) -> Health:
        """An active check: the provider's cheapest authenticated call (its key validation), recorded in its
        health like live traffic, but not in its circuit breaker."""
        adapter = adapter_for(provider.provider_type)
        started = time.perf_counter()
        error: str | None = None
        try:
            call = await adapter.authorize(provider, adapter.validate_call(provider), self.transport)
            upstream = await self.transport.open(provider, call)
            body = await upstream.read(provider)
            if upstream.status >= 400:
                error = adapter.parse_error(provider, upstream.status, upstream.headers, body).message
        except ByWayError as e:
            error = e.message
        connection = provider.connection_id
        self.health.record(connection, provider.name, (time.perf_counter() - started) * 1000, ok=error is None,
                           error=error)
        self.health.checked(connection, provider.name, ok=error is None)
        return self.health_of(connection, provider.name)

    def health_of(self, connection: str, name: str) -> Health:
        return self.health.report(connection, name, self.breakers.get(connection))

    def health_report(self) -> list[Health]:
        """The health of every configured provider and of every other connection (users' credentials) that
        has seen traffic, from live traffic and active checks."""
        seen = {p.connection_id: p.name for p in self.router.providers.values()}
        for connection, name in self.health.connections().items():
            seen.setdefault(connection, name)
        return [self.health_of(connection, name) for connection, name in seen.items()]

    def start_health_checks(self) -> None:
        """Check every provider every ``health_check_interval`` seconds in the background (when set)."""
        if self.health_check_interval > 0 and self._checker is None:
            self._checker = asyncio.create_task(self._check_forever())

    async def _check_forever(self) -> None:
        while True:
            enabled = [p for p in self.router.providers.values() if p.enabled]
            await asyncio.gather(*(self.check(p) for p in enabled), return_exceptions=True)
            await asyncio.sleep(self.health_check_interval)

    async def close(self) -> None:
        if self._checker is not None:
            self._checker.cancel()
            self._checker = None
        await self.transport.close()
        await self.dispatcher.images.close()


class Metered:
    """What a finished stream used and cost; ``estimated`` when the provider reported no usage."""

    __slots__ = ("cost", "estimated", "usage")

    def __init__(self, usage: Usage, cost: Decimal | None, estimated: bool) -> None:
        self.usage = usage
        self.cost = cost
        self.estimated = estimated


def _answer_tokens(response: ChatResponse) -> int:
    """An estimate of the tokens an answer took to write: its text, reasoning and tool calls."""
    chars = 0
    for part in response.parts:
        chars += len(getattr(part, "text", "") or "") + len(getattr(part, "arguments", "") or "")
    return tokens_in_text(chars)


class CostTally:
    """Spend per provider since start (process memory; the ledger keeps the durable record)."""

    def __init__(self) -> None:
        self.by_provider: dict[str, Decimal] = {}
        self.requests: dict[str, int] = {}
        self.unpriced = 0

    def add(self, provider: str, cost: Decimal | None) -> None:
        self.requests[provider] = self.requests.get(provider, 0) + 1
        if cost is None:
            self.unpriced += 1
            return
        self.by_provider[provider] = self.by_provider.get(provider, Decimal(0)) + cost

    @property
    def total(self) -> Decimal:
        return sum(self.by_provider.values(), Decimal(0))
