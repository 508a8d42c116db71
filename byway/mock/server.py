"""Running the mock: ``serve`` blocks (for ``byway mock``); ``running`` serves from a background
thread with its own event loop (for tests)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web

from byway.mock.app import create_app
from byway.mock.state import STATE, MockState


def serve(host: str = "127.0.0.1", port: int = 9200) -> None:
    """Serve the mock providers until interrupted (quietly: the caller announces the address)."""
    web.run_app(create_app(), host=host, port=port, access_log=None, print=None)


class MockServer:
    """A mock server running in a background thread; ``url`` is ``http://127.0.0.1:PORT``."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self._host = host
        self._requested_port = port
        self._app = create_app()
        self._loop = asyncio.new_event_loop()
        self._runner = web.AppRunner(self._app, access_log=None, handle_signals=False)
        self._thread = threading.Thread(target=self._loop.run_forever, name="byway-mock", daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def state(self) -> MockState:
        return self._app[STATE]

    def start(self) -> MockServer:
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        except BaseException:
            self.stop()
            raise
        return self

    async def _start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._requested_port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def stats(self) -> dict[str, Any]:
        """Request counts per path and, per fault spec, how often it was seen and struck."""
        return self.state.stats()

    def requests(self) -> list[dict[str, Any]]:
        """The most recent requests (method, path, headers, decoded body), oldest first."""
        return self.state.requests()

    def reset(self) -> None:
        self.state.reset()


@contextmanager
def running(port: int = 0) -> Iterator[MockServer]:
    """Serve the mocks on 127.0.0.1 (port 0: any free port) for the duration of the block."""
    server = MockServer(port).start()
    try:
        yield server
    finally:
        server.stop()
