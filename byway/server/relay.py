"""Handing answers to the client: a finished call in one response (``deliver``), or a started provider
stream through a client-format encoder (``relay``: one write per upstream read, the error event when it
fails midway). Either way the usage record is written before the last byte leaves."""

from __future__ import annotations

import time
from typing import Protocol

from byway.core import Accumulator, ByWayError
from byway.providers.base import Frame
from byway.routing.dispatch import Completion, OpenStream
from byway.server.asgi import JSON, SSE_HEADERS, DisconnectWatch, Send
from byway.server.context import Gateway, RequestContext
from byway.server.metering import meter


async def deliver(gateway: Gateway, ctx: RequestContext, done: Completion, payload: bytes, send: Send) -> None:
    """Answer with ``payload``, the encoded answer of the finished call ``done``.

    Nothing watches for the client leaving while a call that is not streamed runs: the provider bills it
    whole anyway, so it runs to its end and is recorded, whether or not anyone is left to read it."""
    target = done.target
    response = done.response
    headers = ctx.response_headers(target.provider.name, target.model, len(done.attempts), done.upstream_seconds)
    headers.append(JSON)
    if response.cost is not None:
        headers.append((b"x-byway-cost-usd", format(response.cost, "f").encode()))
    meter(gateway, ctx, provider=target.provider.name, connection=target.provider.connection_id, model=target.model,
          usage=response.usage, cost=response.cost, estimated=response.estimated, attempts=done.attempts,
          upstream_seconds=done.upstream_seconds)
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class StreamEncoder(Protocol):
    def frame(self, frame: Frame) -> bytes: ...

    def end(self) -> bytes: ...

    def error(self, err: ByWayError) -> bytes: ...


async def relay(gateway: Gateway, ctx: RequestContext, stream: OpenStream, encoder: StreamEncoder,
                watch: DisconnectWatch, send: Send) -> None:
    """Pass the stream on as it arrives. What has all arrived by the time it is encoded (a short answer
    often comes in one read) is held and goes out with the end, in one write with the headers."""
    target = stream.target
    headers = ctx.response_headers(target.provider.name, target.model, len(stream.attempts),
                                   stream.upstream_seconds)
    headers.extend(SSE_HEADERS)
    accumulated = Accumulator()
    frames = 0
    first: float | None = None
    error: str | None = None
    held: list[bytes] = []  # encoded, not sent yet
    started = False
    try:
        while (batch := await stream.next_batch()) is not None:
            for frame in batch:
                frames += frame.count
                for event in frame.events:
                    accumulated.add(event)
                data = encoder.frame(frame)
                if data:
                    held.append(data)
            if stream.arriving():  # more to wait for: send what is here, and stop if the client leaves
                if held:
                    if not started:
                        await send({"type": "http.response.start", "status": 200, "headers": headers})
                        started = True
                    await send({"type": "http.response.body", "body": b"".join(held), "more_body": True})
                    held = []
                    if first is None:
                        first = time.perf_counter()
                watch.arm()
        tail = encoder.end()
    except ByWayError as e:
        error = e.message
        tail = encoder.error(e)
    except BaseException:
        error = "the client went away before the stream ended"
        raise
    finally:
        stream.close()
        if first is None and held:
            first = time.perf_counter()  # it all goes out now
        metered = gateway.engine.finish_stream(stream, accumulated, frames)
        meter(gateway, ctx, provider=target.provider.name, connection=target.provider.connection_id,
              model=target.model, usage=metered.usage, cost=metered.cost, estimated=metered.estimated,
              attempts=stream.attempts, upstream_seconds=stream.upstream_seconds, ttft=first, error=error)
    watch.finishing()
    body = b"".join(held) + tail if held else tail
    if not started:
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
