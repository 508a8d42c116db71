"""Calling the targets in turn: the failover loop around the provider call.

A target that fails with a retryable error (429, 5xx, timeout, connection
failure) hands over to the next one; any other error is the answer. A stream
is only committed to once its first frame has arrived, so a stream that fails
before that fails over like any other call; after it, it cannot.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Generic, Protocol, TypeVar

import msgspec

from byway.core import (
    BudgetExceededError,
    ByWayError,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    ProviderError,
    RateLimitError,
    UpstreamRateLimitError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from byway.providers.base import Adapter, Frame, HttpCall, StreamDecoder
from byway.providers.config import ProviderConfig
from byway.providers.images import ImageFetcher, has_remote_images
from byway.providers.registry import adapter_for
from byway.providers.transport import Transport, UpstreamResponse
from byway.routing.breaker import Breakers, is_failure
from byway.routing.health import HealthBook
from byway.routing.retry import RetryPolicy
from byway.routing.targets import Target


class Attempt(msgspec.Struct):
    provider: str
    model: str
    status: int  # the upstream status, or 0 when no answer came
    latency_ms: float
    error: str | None = None
    connection: str = ""  # the provider connection (a stored credential's is "credential:ID")


R = TypeVar("R", ChatResponse, EmbeddingResponse)


class Admission(Protocol):
    """What lets a request through to a target (rate limits, budget reservations: ``accounting.gate``).
    ``enter`` raises ``RateLimitError`` or ``BudgetExceededError`` to refuse, and the loop moves on;
    ``leave`` gives back what a failed target held before the next one is tried. Whoever made the admission
    releases it when the call fails as a whole."""

    def enter(self, provider: ProviderConfig, model: str) -> None: ...

    def leave(self) -> None: ...


class _Open:
    def enter(self, provider: ProviderConfig, model: str) -> None:
        return None

    def leave(self) -> None:
        return None


OPEN: Admission = _Open()


class Completion(Generic[R]):
    """A finished non-streamed call (a chat answer or embeddings)."""

    __slots__ = ("attempts", "response", "target", "upstream_seconds")

    def __init__(self, response: R, target: Target, attempts: list[Attempt],
                 upstream_seconds: float) -> None:
        self.response = response
        self.target = target
        self.attempts = attempts
        self.upstream_seconds = upstream_seconds


class OpenStream:
    """A stream that has started: its first frame is in hand. Read it with ``next_batch()`` (or iterate
    ``batches()``) once, and ``close()`` it."""

    __slots__ = ("_decoder", "_ended", "_first", "_upstream", "admission", "attempts", "target", "upstream_seconds")

    def __init__(self, target: Target, attempts: list[Attempt], upstream: UpstreamResponse,
                 decoder: StreamDecoder, first: list[Frame], upstream_seconds: float) -> None:
        self.target = target
        self.attempts = attempts
        self._upstream = upstream
        self._decoder = decoder
        self._first = first
        self.upstream_seconds = upstream_seconds  # time spent waiting for the upstream to start
        self._ended = False
        self.admission: Admission | None = None  # what the engine admitted it with (settled when it ends)

    async def next_batch(self) -> list[Frame] | None:
        """The next frames of the stream, grouped as they arrived (one upstream read), so a caller can pass
        them on in one write; None once the stream has ended."""
        if self._first:
            first, self._first = self._first, []
            return first
        upstream = self._upstream
        while not self._ended:
            chunk = await upstream.read_chunk(self.target.provider)
            if not chunk:
                self._ended = True
                return self._decoder.close() or None
            frames = self._decoder.feed(chunk)
            if frames:
                return frames
        return None

    async def batches(self) -> AsyncIterator[list[Frame]]:
        """``next_batch`` until the stream ends; the upstream is closed however the iteration ends."""
        try:
            while (batch := await self.next_batch()) is not None:
                yield batch
        finally:
            self.close()

    def arriving(self) -> bool:
        """Whether more of the stream is still to come from the upstream (reading on may wait)."""
        return not self._upstream.complete()

    def close(self) -> None:
        self._upstream.close()


async def _fail(adapter: Adapter, target: Target, upstream: UpstreamResponse) -> ProviderError:
    body = await upstream.read(target.provider)
    return adapter.parse_error(target.provider, upstream.status, upstream.headers, body)


def _with_model(request: ChatRequest, model: str) -> ChatRequest:
    return request if request.model == model else msgspec.structs.replace(request, model=model)


T = TypeVar("T")


class Dispatcher:
    """Tries the targets in order; each one ``1 + target.retries`` times on retryable errors (with backoff,
    or the provider's ``retry-after``), skipping targets whose circuit is open. Every try is an ``Attempt``
    and feeds the target's breaker and health."""

    def __init__(self, transport: Transport, images: ImageFetcher | None = None, *,
                 retry: RetryPolicy | None = None, breakers: Breakers | None = None,
                 health: HealthBook | None = None) -> None:
        self.transport = transport
        self.images = images or ImageFetcher()
        self.retry = retry or RetryPolicy()
        self.breakers = breakers or Breakers()
        self.health = health or HealthBook()

    async def _prepare(self, adapter: Adapter, request: ChatRequest, inlined: list[ChatRequest]) -> ChatRequest:
        """``request`` as ``adapter`` can take it: image URLs fetched for a provider that needs bytes (once per
        client request, however many targets need them)."""
        if not adapter.inline_images or not has_remote_images(request):
            return request
        if not inlined:
            inlined.append(await self.images.inline(request))
        return inlined[0]

    async def _send(self, adapter: Adapter, target: Target, call: HttpCall) -> UpstreamResponse:
        call = await adapter.authorize(target.provider, call, self.transport)
        upstream = await self.transport.open(target.provider, call)
        if upstream.status >= 400:
            raise await _fail(adapter, target, upstream)
        return upstream

    async def _failover(self, targets: list[Target], once: Callable[[Target, Adapter], Awaitable[tuple[T, int]]],
                        admission: Admission) -> tuple[T, Target, list[Attempt], float]:
        attempts: list[Attempt] = []
        errors: list[ProviderError] = []
        skipped: list[tuple[Target, float]] = []
        refused: list[ByWayError] = []
        for target in targets:
            name = target.provider.name
            connection = target.provider.connection_id
            breaker = self.breakers.get(connection)
            if not breaker.allow():
                skipped.append((target, breaker.retry_in()))
                continue
            try:
                admission.enter(target.provider, target.model)
            except (RateLimitError, BudgetExceededError) as e:
                refused.append(e)  # this target's own limit or budget: another target may still serve
                continue
            adapter = adapter_for(target.provider.provider_type)
            tries = 1 + (target.retries if target.retries is not None else target.provider.retries)
            for n in range(tries):
                started = time.perf_counter()
                try:
                    result, status = await once(target, adapter)
                except ProviderError as e:
                    elapsed_ms = (time.perf_counter() - started) * 1000
                    attempts.append(Attempt(name, target.model, e.upstream_status or 0, elapsed_ms, e.message,
                                            connection))
                    errors.append(e)
                    failed = is_failure(e)
                    breaker.record(failed)
                    self.health.record(connection, name, elapsed_ms, ok=not failed, error=e.message)
                    if not e.retryable:
                        e.attempts = attempts  # type: ignore[attr-defined]
                        raise
                    if n + 1 < tries and breaker.state == "closed":
                        wait = self.retry.delay(n, e)
                        if wait is not None:
                            await asyncio.sleep(wait)
                            continue
                    break
                elapsed = time.perf_counter() - started
                breaker.record(False)
                self.health.record(connection, name, elapsed * 1000, ok=True)
                attempts.append(Attempt(name, target.model, status, elapsed * 1000, None, connection))
                return result, target, attempts, elapsed
            admission.leave()
        if refused and not errors:
            raise refused[0]
        raise _exhausted(errors, attempts, skipped)

    async def complete(self, request: ChatRequest, targets: list[Target],
                       admission: Admission = OPEN) -> Completion[ChatResponse]:
        inlined: list[ChatRequest] = []

        async def once(target: Target, adapter: Adapter) -> tuple[ChatResponse, int]:
            ready = await self._prepare(adapter, request, inlined)
            call = adapter.chat_call(target.provider, _with_model(ready, target.model))
            upstream = await self._send(adapter, target, call)
            body = await upstream.read(target.provider)
            response = adapter.parse_chat(target.provider, body)
            if not response.model:  # Bedrock and Cohere answers do not name the model
                response.model = target.model
            return response, upstream.status

        response, target, attempts, elapsed = await self._failover(targets, once, admission)
        return Completion(response, target, attempts, elapsed)

    async def embed(self, request: EmbeddingRequest, targets: list[Target],
                    admission: Admission = OPEN) -> Completion[EmbeddingResponse]:
        async def once(target: Target, adapter: Adapter) -> tuple[EmbeddingResponse, int]:
            routed = request if request.model == target.model else msgspec.structs.replace(request,
                                                                                          model=target.model)
            calls = adapter.embeddings_calls(target.provider, routed)
            bodies = await asyncio.gather(*(self._read(adapter, target, call) for call in calls))
            return adapter.parse_embeddings(target.provider, routed, list(bodies)), 200

        response, target, attempts, elapsed = await self._failover(targets, once, admission)
        return Completion(response, target, attempts, elapsed)

    async def _read(self, adapter: Adapter, target: Target, call: HttpCall) -> bytes:
        upstream = await self._send(adapter, target, call)
        return await upstream.read(target.provider)

    async def stream(self, request: ChatRequest, targets: list[Target], passthrough: str | None = None,
                     admission: Admission = OPEN) -> OpenStream:
        """A stream whose first frame has arrived (within the target's ``timeout``); until then a failing
        target is retried or failed over like any call. ``passthrough`` names the client's wire family: a
        provider speaking it passes its frames on untouched, so their content need not be decoded (the frames
        then carry only the start, usage and errors as events)."""
        inlined: list[ChatRequest] = []

        async def once(target: Target, adapter: Adapter) -> tuple[tuple[UpstreamResponse, StreamDecoder,
                                                                          list[Frame]], int]:
            ready = _with_model(await self._prepare(adapter, request, inlined), target.model)
            upstream = await self._send(adapter, target, adapter.chat_call(target.provider, ready))
            try:
                decoder = adapter.stream_decoder(target.provider, ready)
                if passthrough is not None and hasattr(decoder, "lean") and \
                        adapter.wire_family(target.provider) == passthrough:
                    decoder.lean = True  # the client takes the bytes as they are: decode only what we need
                first = await _first_frames(upstream, decoder, target)
            except BaseException:
                upstream.close()
                raise
            return (upstream, decoder, first), upstream.status

        (upstream, decoder, first), target, attempts, elapsed = await self._failover(targets, once, admission)
        return OpenStream(target, attempts, upstream, decoder, first, elapsed)


async def _first_frames(upstream: UpstreamResponse, decoder: StreamDecoder, target: Target) -> list[Frame]:
    """Read until the first frame that means something; a provider that sends nothing for ``timeout`` seconds
    has timed out."""
    provider = target.provider
    first: list[Frame] = []
    ended = False
    if provider.idle_timeout is None or provider.idle_timeout <= provider.timeout:
        # the first read needs no clock of its own: the transport bounds each read by the provider's idle
        # time (its ``timeout`` when it has none)
        chunk = await upstream.read_chunk(provider)
        ended = not chunk
        first = decoder.feed(chunk) if chunk else []
        if any(f.events for f in first):
            return first
    try:
        async with asyncio.timeout(provider.timeout):
            while not ended and (chunk := await upstream.read_chunk(provider)):
                first.extend(decoder.feed(chunk))
                if any(f.events for f in first):
                    return first
    except TimeoutError:
        raise UpstreamTimeoutError(f"{target.provider.name}: no first token within {target.provider.timeout:g} s",
                                   provider=target.provider.name) from None
    first.extend(decoder.close())
    return first


def _exhausted(errors: list[ProviderError], attempts: list[Attempt],
               skipped: list[tuple[Target, float]]) -> ProviderError:
    """The error to answer when no target succeeded."""
    if not errors:
        waits = ", ".join(f"{t.provider.name} (retried in {w:.0f} s)" for t, w in skipped)
        error: ProviderError = UpstreamUnavailableError(
            f"every target's circuit is open: {waits}", code="circuits_open", status=503, retryable=False)
    elif len(errors) == 1 and not skipped:
        error = errors[0]
    elif all(isinstance(e, UpstreamRateLimitError) for e in errors):
        waits = [e.retry_after for e in errors if isinstance(e, UpstreamRateLimitError) and e.retry_after]
        error = UpstreamRateLimitError("every target is rate limited: " + _listing(attempts),
                                       retry_after=min(waits) if waits else None)
    else:
        closed = "".join(f"; {t.provider.name}: circuit open" for t, _ in skipped)
        error = UpstreamUnavailableError("every target failed: " + _listing(attempts) + closed,
                                         code="all_targets_failed")
    error.attempts = attempts  # type: ignore[attr-defined]
    return error


def _listing(attempts: list[Attempt]) -> str:
    return "; ".join(f"{a.provider}:{a.model} -> {a.status or 'no answer'} ({a.error})" for a in attempts)
