"""Server-sent events framing: split a byte stream into events, keeping each
event's raw bytes so it can be passed through unchanged."""

from __future__ import annotations

import re

import msgspec

_SEPARATOR = re.compile(rb"\r\n\r\n|\n\n|\r\r")


class SSEEvent(msgspec.Struct):
    raw: bytes  # the event's bytes, separator included
    event: str | None  # the ``event:`` field, if any
    data: bytes  # the ``data:`` lines joined by newlines; b"" for comment-only events


def _parse(block: bytes, raw: bytes) -> SSEEvent:
    event: str | None = None
    data: list[bytes] = []
    for line in block.splitlines():
        if not line or line[:1] == b":":
            continue
        field, _, value = line.partition(b":")
        if value[:1] == b" ":
            value = value[1:]
        if field == b"data":
            data.append(value)
        elif field == b"event":
            event = value.decode("utf-8", "replace")
    return SSEEvent(raw=raw, event=event, data=b"\n".join(data))


def event_at(run: bytes, start: int, end: int) -> SSEEvent:
    """The one event of ``run[start:end]``, which ends with its plain ``"\n\n"``. An event that is a single
    ``data:`` line, as most are, is read without the general parser."""
    if run.startswith(b"data: ", start) and run.find(b"\n", start, end - 2) == -1:
        return SSEEvent(raw=run[start:end], event=None, data=run[start + 6:end - 2])
    return _parse(run[start:end - 2], run[start:end])


def events_in(run: bytes) -> list[SSEEvent]:
    """The events of ``run``: whole events separated by plain ``"\n\n"`` (what ``SSESplitter.feed_whole``
    answers)."""
    events: list[SSEEvent] = []
    start = 0
    while (at := run.find(b"\n\n", start)) != -1:
        events.append(event_at(run, start, at + 2))
        start = at + 2
    return events


class SSESplitter:
    """Feed bytes as they arrive; get back the events they complete."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        pending = len(self._buffer)
        buffer = self._buffer + chunk if pending else chunk
        events: list[SSEEvent] = []
        start = 0
        # The pending bytes held no separator: resume the search just before their end (a separator
        # is at most 4 bytes), so an event arriving in many small chunks is scanned once, not again per chunk.
        search = max(0, pending - 3)
        if b"\r" not in buffer:  # the common case: plain "\n\n" separators, found without a regex
            while True:
                at = buffer.find(b"\n\n", search)
                if at < 0:
                    break
                end = at + 2
                events.append(_parse(buffer[start:at], buffer[start:end]))
                start = search = end
        else:
            while True:
                match = _SEPARATOR.search(buffer, search)
                if match is None:
                    break
                end = match.end()
                events.append(_parse(buffer[start:match.start()], buffer[start:end]))
                start = search = end
        self._buffer = buffer[start:]
        return events

    def feed_whole(self, chunk: bytes) -> bytes | None:
        """Like ``feed``, but answer the completed events as one run of bytes, unparsed (``b""``: none yet).
        None when the stream separates events with carriage returns: then use ``feed``."""
        buffer = self._buffer + chunk if self._buffer else chunk
        if b"\r" in buffer:
            return None
        end = buffer.rfind(b"\n\n") + 2
        if end < 2:
            self._buffer = buffer
            return b""
        self._buffer = buffer[end:]
        return buffer[:end]

    def close(self) -> list[SSEEvent]:
        """The stream ended: an unterminated last event still counts."""
        rest, self._buffer = self._buffer, b""
        if rest.strip():
            return [_parse(rest, rest)]
        return []
