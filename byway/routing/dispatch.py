"""Calling the targets in turn: the failover loop around the provider call.

A target that fails with a retryable error (429, 5xx, timeout, connection
failure) hands over to the next one; any other error is the answer. A stream
is only committed to once its first frame has arrived, so a stream that fails
before that fails over like any other call; after it, it cannot.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Generic, TypeVar

import msgspec

from byway.core import (
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    ProviderError,
    UpstreamRateLimitError,
    UpstreamUnavailableError,
)
from byway.providers.base import Adapter, Frame, HttpCall, StreamDecoder
from byway.providers.images import ImageFetcher, has_remote_images
from byway.providers.registry import adapter_for
from byway.providers.transport import Transport, UpstreamResponse
from byway.routing.targets import Target


class Attempt(msgspec.Struct):
    provider: str
    model: str
    status: int  # the upstream status, or 0 when no answer came
    latency_ms: float
    error: str | None = None


R = TypeVar("R", ChatResponse, EmbeddingResponse)


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
    """A stream that has started: its first frame is in hand. Iterate ``frames()`` once."""

    __slots__ = ("_decoder", "_first", "_upstream", "attempts", "target", "upstream_seconds")

    def __init__(self, target: Target, attempts: list[Attempt], upstream: UpstreamResponse,
                 decoder: StreamDecoder, first: list[Frame], upstream_seconds: float) -> None:
        self.target = target
        self.attempts = attempts
        self._upstream = upstream
        self._decoder = decoder
        self._first = first
        self.upstream_seconds = upstream_seconds  # time spent waiting for the upstream to start

    async def batches(self) -> AsyncIterator[list[Frame]]:
        """The frames of the stream, grouped as they arrived (one upstream read per batch), so a
        caller can pass each batch on in one write."""
        try:
            if self._first:
                yield self._first
                self._first = []
            async for chunk in self._upstream.chunks(self.target.provider):
                frames = self._decoder.feed(chunk)
                if frames:
                    yield frames
            rest = self._decoder.close()
            if rest:
                yield rest
        finally:
            self._upstream.close()

    def close(self) -> None:
        self._upstream.close()


async def _fail(adapter: Adapter, target: Target, upstream: UpstreamResponse) -> ProviderError:
    body = await upstream.read(target.provider)
    return adapter.parse_error(target.provider, upstream.status, upstream.headers, body)


def _with_model(request: ChatRequest, model: str) -> ChatRequest:
    return request if request.model == model else msgspec.structs.replace(request, model=model)


class Dispatcher:
    def __init__(self, transport: Transport, images: ImageFetcher | None = None) -> None:
        self.transport = transport
        self.images = images or ImageFetcher()

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

    async def complete(self, request: ChatRequest, targets: list[Target]) -> Completion[ChatResponse]:
        attempts: list[Attempt] = []
        errors: list[ProviderError] = []
        inlined: list[ChatRequest] = []
        for target in targets:
            adapter = adapter_for(target.provider.provider_type)
            started = time.perf_counter()
            try:
                ready = await self._prepare(adapter, request, inlined)
                call = adapter.chat_call(target.provider, _with_model(ready, target.model))
                upstream = await self._send(adapter, target, call)
                body = await upstream.read(target.provider)
                elapsed = time.perf_counter() - started
                response = adapter.parse_chat(target.provider, body)
                if not response.model:  # Bedrock and Cohere answers do not name the model
                    response.model = target.model
            except ProviderError as e:
                attempts.append(_attempt(target, started, e))
                errors.append(e)
                if not e.retryable:
                    raise
                continue
            attempts.append(Attempt(target.provider.name, target.model, upstream.status, elapsed * 1000))
            return Completion(response, target, attempts, elapsed)
        raise _exhausted(errors, attempts)

    async def embed(self, request: EmbeddingRequest, targets: list[Target]) -> Completion[EmbeddingResponse]:
        attempts: list[Attempt] = []
        errors: list[ProviderError] = []
        for target in targets:
            adapter = adapter_for(target.provider.provider_type)
            started = time.perf_counter()
            try:
                routed = request if request.model == target.model else msgspec.structs.replace(request,
                                                                                              model=target.model)
                calls = adapter.embeddings_calls(target.provider, routed)
                bodies = await asyncio.gather(*(self._read(adapter, target, call) for call in calls))
                elapsed = time.perf_counter() - started
                response = adapter.parse_embeddings(target.provider, routed, list(bodies))
            except ProviderError as e:
                attempts.append(_attempt(target, started, e))
                errors.append(e)
                if not e.retryable:
                    raise
                continue
            attempts.append(Attempt(target.provider.name, target.model, 200, elapsed * 1000))
            return Completion(response, target, attempts, elapsed)
        raise _exhausted(errors, attempts)

    async def _read(self, adapter: Adapter, target: Target, call: HttpCall) -> bytes:
        upstream = await self._send(adapter, target, call)
        return await upstream.read(target.provider)

    async def stream(self, request: ChatRequest, targets: list[Target]) -> OpenStream:
        attempts: list[Attempt] = []
        errors: list[ProviderError] = []
        inlined: list[ChatRequest] = []
        for target in targets:
            adapter = adapter_for(target.provider.provider_type)
            started = time.perf_counter()
            upstream: UpstreamResponse | None = None
            try:
                ready = await self._prepare(adapter, request, inlined)
                call = adapter.chat_call(target.provider, _with_model(ready, target.model))
                upstream = await self._send(adapter, target, call)
                decoder = adapter.stream_decoder(target.provider, _with_model(ready, target.model))
                first: list[Frame] = []
                chunks = upstream.chunks(target.provider)
                async for chunk in chunks:
                    first.extend(decoder.feed(chunk))
                    if any(f.events for f in first):
                        break
                else:
                    first.extend(decoder.close())
                elapsed = time.perf_counter() - started
            except ProviderError as e:
                if upstream is not None:
                    upstream.close()
                attempts.append(_attempt(target, started, e))
                errors.append(e)
                if not e.retryable:
                    raise
                continue
            attempts.append(Attempt(target.provider.name, target.model, upstream.status, elapsed * 1000))
            return OpenStream(target, attempts, upstream, decoder, first, elapsed)
        raise _exhausted(errors, attempts)


def _attempt(target: Target, started: float, error: ProviderError) -> Attempt:
    return Attempt(target.provider.name, target.model, error.upstream_status or 0,
                   (time.perf_counter() - started) * 1000, error.message)


def _exhausted(errors: list[ProviderError], attempts: list[Attempt]) -> ProviderError:
    """The error to answer when no target succeeded."""
    if len(errors) == 1:
        error = errors[0]
    elif all(isinstance(e, UpstreamRateLimitError) for e in errors):
        waits = [e.retry_after for e in errors if isinstance(e, UpstreamRateLimitError) and e.retry_after]
        error = UpstreamRateLimitError("every target is rate limited: " + _listing(attempts),
                                       retry_after=min(waits) if waits else None)
    else:
        error = UpstreamUnavailableError("every target failed: " + _listing(attempts), code="all_targets_failed")
    error.attempts = attempts  # type: ignore[attr-defined]
    return error


def _listing(attempts: list[Attempt]) -> str:
    return "; ".join(f"{a.provider}:{a.model} -> {a.status or 'no answer'} ({a.error})" for a in attempts)
