"""Fault injection: parsing a fault spec and counting how often each spec has struck.

A spec is comma-separated ``key=value`` pairs, given in the ``x-mock-fault`` header or as a
``/fault/<spec>/`` path prefix (both at once: the path's pairs first, the header's override):

- ``status=N``       answer error status N in the family's error shape
- ``retry_after=S``  ``retry-after: S`` header on a 429 or 503
- ``latency_ms=N``   wait N ms before answering (errors and successes alike)
- ``cut_after=N``    streams only: close the connection abruptly after N events
- ``stall_ms=N``     streams only: pause N ms before each event after the first
- ``times=N``        the fault strikes only the first N requests carrying this exact spec,
                     later ones are answered normally (one counter per spec string)
- ``error_after=N``  streams of families that report failures in-band (Ollama's NDJSON): after N
                     events, an error line under status 200 ends the stream
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from byway.mock.problem import Problem

_INT_KEYS = ("status", "latency_ms", "cut_after", "stall_ms", "times", "error_after")
_KEYS = (*_INT_KEYS, "retry_after")


@dataclass(frozen=True, slots=True)
class Fault:
    status: int | None = None
    retry_after: str | None = None
    latency_ms: int = 0
    cut_after: int | None = None
    stall_ms: int = 0
    times: int | None = None
    error_after: int | None = None


def combine(path_spec: str | None, header_spec: str | None) -> str | None:
    """One spec string from the path prefix and the header (either may be missing)."""
    parts = [s.strip() for s in (path_spec, header_spec) if s and s.strip()]
    return ",".join(parts) or None


def parse(spec: str) -> Fault:
    """The ``Fault`` a spec describes; an unknown key or a bad number is a 400."""
    values: dict[str, object] = {}
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in _KEYS:
            raise Problem(400, f"mock: bad fault spec item {item!r}; keys are {', '.join(_KEYS)}")
        if key == "retry_after":
            values[key] = value.strip()
            continue
        try:
            values[key] = int(value)
        except ValueError:
            raise Problem(400, f"mock: fault {key} needs an integer, got {value!r}") from None
    return Fault(**values)  # type: ignore[arg-type]


class FaultBook:
    """Counts requests per spec string and decides whether the fault still strikes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, int] = {}
        self._struck: dict[str, int] = {}

    def take(self, spec: str) -> Fault | None:
        """The fault to apply to this request with ``spec``, or None once ``times`` is used up."""
        fault = parse(spec)
        with self._lock:
            seen = self._seen[spec] = self._seen.get(spec, 0) + 1
            if fault.times is not None and seen > fault.times:
                return None
            self._struck[spec] = self._struck.get(spec, 0) + 1
        return fault

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {spec: {"seen": n, "struck": self._struck.get(spec, 0)} for spec, n in self._seen.items()}

    def reset(self) -> None:
        with self._lock:
            self._seen.clear()
            self._struck.clear()
