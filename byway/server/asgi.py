"""The few ASGI moves the handlers share: read a body, answer bytes, watch for the client leaving."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from byway.core import InvalidRequestError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

MAX_BODY = 32 * 1024 * 1024
JSON = (b"content-type", b"application/json")
SSE_HEADERS: Headers = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache"),
                        (b"x-accel-buffering", b"no")]


class ClientGone(Exception):
    """The client disconnected before the answer was complete."""


async def read_body(receive: Receive) -> bytes:
    message = await receive()
    if message["type"] == "http.disconnect":
        raise ClientGone
    body = message.get("body", b"")
    if not message.get("more_body"):
        return body
    parts = [body]
    size = len(body)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise InvalidRequestError(f"request body larger than {MAX_BODY // (1024 * 1024)} MiB", status=413)
        parts.append(chunk)
        if not message.get("more_body"):
            return b"".join(parts)


async def answer(send: Send, status: int, body: bytes, headers: Headers) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class DisconnectWatch:
    """Cancels the task handling a request when its client disconnects.

    Use ``async with``; mark ``finishing()`` before the last send so the
    disconnect the server reports after a complete response is not mistaken for
    the client leaving. With ``armed=False`` the watching (a task) starts only at
    ``arm()``: a stream whose upstream has already sent everything never needs it.
    """

    __slots__ = ("_done", "_receive", "_task", "_watcher", "gone")

    def __init__(self, receive: Receive, *, armed: bool = True) -> None:
        self._task = asyncio.current_task()
        self._receive = receive
        self._done = False
        self.gone = False
        self._watcher: asyncio.Future[None] | None = None
        if armed:
            self.arm()

    def arm(self) -> None:
        if self._watcher is None:
            self._watcher = asyncio.ensure_future(self._watch(self._receive))

    async def _watch(self, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                if not self._done and self._task is not None:
                    self.gone = True
                    self._task.cancel()
                return

    def finishing(self) -> None:
        self._done = True

    async def __aenter__(self) -> DisconnectWatch:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: Any) -> bool:
        self._done = True
        if self._watcher is not None:
            self._watcher.cancel()
        if kind is asyncio.CancelledError and self.gone and self._task is not None:
            self._task.uncancel()
            return True  # the client left: nothing more to do
        return False
