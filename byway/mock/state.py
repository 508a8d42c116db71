"""What one mock server remembers: request counts, fault counters, a log of recent requests
and the identifier sequence. ``POST /_mock/reset`` clears it all."""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from aiohttp import web

from byway.mock.faults import Fault, FaultBook
from byway.mock.ids import IdMaker

LOG_SIZE = 200


class MockState:
    def __init__(self) -> None:
        self.faults = FaultBook()
        self.ids = IdMaker()
        self._lock = threading.Lock()
        self._total = 0
        self._paths: dict[str, int] = {}
        self._log: deque[dict[str, Any]] = deque(maxlen=LOG_SIZE)
        self._abandoned = 0  # streams whose client disconnected before the end

    def record(self, method: str, path: str, headers: dict[str, str], body: Any) -> None:
        """Count a request to ``path`` (fault prefix already removed) and keep it in the log."""
        with self._lock:
            self._total += 1
            self._paths[path] = self._paths.get(path, 0) + 1
            self._log.append({"method": method, "path": path, "headers": headers, "body": body})

    def stream_abandoned(self) -> None:
        with self._lock:
            self._abandoned += 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            total, paths, abandoned = self._total, dict(self._paths), self._abandoned
        return {"total": total, "paths": paths, "streams_abandoned": abandoned, "faults": self.faults.snapshot()}

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._log)

    def reset(self) -> None:
        with self._lock:
            self._total = 0
            self._abandoned = 0
            self._paths.clear()
            self._log.clear()
        self.faults.reset()
        self.ids.reset()


STATE = web.AppKey("byway_mock_state", MockState)


def _request_key(name: str, kind: type) -> Any:
    """A typed request key where aiohttp has them (3.13+), else the plain name."""
    factory = getattr(web, "RequestKey", None)
    return factory(name, kind) if factory is not None else name


_FAULT = _request_key("byway_mock_fault", object)
_REQUEST_ID = _request_key("byway_mock_request_id", str)


def state_of(request: web.Request) -> MockState:
    return request.app[STATE]


def fault_of(request: web.Request) -> Fault | None:
    """The fault striking this request, if any (set by the app's middleware)."""
    return request.get(_FAULT)


def request_id_of(request: web.Request) -> str:
    return request[_REQUEST_ID]


def bind(request: web.Request, fault: Fault | None, request_id: str) -> None:
    request[_FAULT] = fault
    request[_REQUEST_ID] = request_id
