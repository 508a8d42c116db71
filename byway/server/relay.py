"""Relaying a started provider stream to the client through a client-format encoder: one write per
upstream read, the error event when it fails midway, the cost settled however it ends."""

from __future__ import annotations

from typing import Protocol

from byway.core import Accumulator, ByWayError
from byway.engine import Engine
from byway.providers.base import Frame
from byway.routing.dispatch import OpenStream
from byway.server.asgi import SSE_HEADERS, DisconnectWatch, Send
from byway.server.context import RequestContext


class StreamEncoder(Protocol):
    def frame(self, frame: Frame) -> bytes: ...

    def end(self) -> bytes: ...

    def error(self, err: ByWayError) -> bytes: ...


async def relay(engine: Engine, ctx: RequestContext, stream: OpenStream, encoder: StreamEncoder,
                watch: DisconnectWatch, send: Send) -> None:
    target = stream.target
    headers = ctx.response_headers(target.provider.name, target.model, len(stream.attempts),
                                   stream.upstream_seconds)
    headers.extend(SSE_HEADERS)
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    accumulated = Accumulator()
    try:
        async for batch in stream.batches():
            out = []
            for frame in batch:
                for event in frame.events:
                    accumulated.add(event)
                data = encoder.frame(frame)
                if data:
                    out.append(data)
            if out:
                await send({"type": "http.response.body", "body": b"".join(out), "more_body": True})
        tail = encoder.end()
    except ByWayError as e:
        tail = encoder.error(e)
    finally:
        stream.close()
        engine.stream_cost(stream, accumulated)
    watch.finishing()
    await send({"type": "http.response.body", "body": tail, "more_body": False})
