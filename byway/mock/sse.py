"""Writing a server-sent-event stream, with the stream faults (``stall_ms``, ``cut_after``) applied."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import msgspec
from aiohttp import web

from byway.mock.faults import Fault
from byway.mock.state import STATE

_DONE = b"data: [DONE]\n\n"


class StreamCut(Exception):
    """Raised after the connection was closed on purpose; the app swallows it."""

    def __init__(self, response: web.StreamResponse) -> None:
        super().__init__("stream cut by fault")
        self.response = response


def data_event(payload: object) -> bytes:
    """``data: {json}`` — OpenAI's event form."""
    return b"data: " + msgspec.json.encode(payload) + b"\n\n"


def named_event(name: str, payload: object) -> bytes:
    """``event: name`` + ``data: {json}`` — Anthropic's event form."""
    return b"event: " + name.encode() + b"\ndata: " + msgspec.json.encode(payload) + b"\n\n"


def done_event() -> bytes:
    return _DONE


class EventStream:
    """A ``text/event-stream`` response that honours the request's stream faults."""

    def __init__(self, request: web.Request, fault: Fault | None, headers: Mapping[str, str]) -> None:
        self._request = request
        self._response = web.StreamResponse(headers={
            "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", **headers})
        self._cut_after = fault.cut_after if fault else None
        self._stall = (fault.stall_ms / 1000) if fault else 0.0
        self._sent = 0

    async def open(self) -> None:
        await self._response.prepare(self._request)
        if self._cut_after is not None and self._cut_after <= 0:
            await self._cut()

    async def send(self, event: bytes) -> None:
        try:
            if self._stall and self._sent:
                await asyncio.sleep(self._stall)
            await self._response.write(event)
        except (ConnectionError, asyncio.CancelledError):
            self._request.app[STATE].stream_abandoned()  # the client went away mid-stream
            raise
        self._sent += 1
        if self._cut_after is not None and self._sent >= self._cut_after:
            await self._cut()

    async def close(self) -> web.StreamResponse:
        await self._response.write_eof()
        return self._response

    async def _cut(self) -> None:
        transport = self._request.transport
        if transport is not None:
            transport.close()
        raise StreamCut(self._response)
