"""An Ollama native ``/api/chat`` stream as canonical stream events.

The stream is NDJSON: one JSON object per line, each a piece of the message (``thinking``, ``content``, or
whole ``tool_calls``), the last with ``"done": true``, ``done_reason`` and the token counts. A failure
after the stream began is an ``{"error": "..."}`` line under status 200: the frames before it are handed
over, then the decoder raises ``ProviderError``. One ``Frame`` per line, newline included.
"""

from __future__ import annotations

from byway.core import (
    Finish,
    ProviderError,
    StreamEvent,
    StreamStart,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallStart,
    UpstreamUnavailableError,
    UsageReport,
)
from byway.providers.base import Frame
from byway.providers.ollama_response import WireChunk, created_seconds, decode_chunk, stop_reason, tool_parts


class OllamaStreamDecoder:
    """``StreamDecoder`` for ``POST /api/chat`` with ``stream: true``."""

    __slots__ = ("_buffer", "_done", "_next", "_pending", "_provider", "_started", "_text", "_thinking", "_tools")

    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._buffer = b""
        self._started = False
        self._done = False
        self._pending: ProviderError | None = None
        self._next = 0
        self._thinking: int | None = None
        self._text: int | None = None
        self._tools = False

    def feed(self, chunk: bytes) -> list[Frame]:
        if self._pending is not None:
            raise self._pending
        at = chunk.rfind(b"\n")  # only the new bytes can hold the line end we are waiting for
        if at < 0:
            self._buffer += chunk
            return []
        buffer = self._buffer + chunk if self._buffer else chunk
        end = len(buffer) - len(chunk) + at
        self._buffer = buffer[end + 1:]
        return self._frames(buffer[:end + 1].splitlines(keepends=True))

    def close(self) -> list[Frame]:
        if self._pending is not None:
            raise self._pending
        rest, self._buffer = self._buffer, b""
        frames = self._frames([rest]) if rest.strip() else []
        if self._pending is not None:
            raise self._pending
        if not self._done:
            raise UpstreamUnavailableError(f"{self._provider}: the stream ended before its done line",
                                           provider=self._provider, upstream_status=200)
        return frames

    def _frames(self, lines: list[bytes]) -> list[Frame]:
        frames: list[Frame] = []
        for line in lines:
            if not line.strip():
                continue
            try:
                frames.append(Frame(line, self._events(decode_chunk(self._provider, line))))
            except ProviderError as exc:
                self._pending = exc  # the stream is over: every later call raises it too
                if not frames:
                    raise
                break  # hand over the frames before it first; raise on the next call
        return frames

    def _claim(self) -> int:
        index = self._next
        self._next += 1
        return index

    def _events(self, chunk: WireChunk) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        if not self._started:
            self._started = True
            events.append(StreamStart(id="", model=chunk.model, created=created_seconds(chunk.created_at)))
        message = chunk.message
        if message is not None:
            if message.thinking:
                if self._thinking is None:
                    self._thinking = self._claim()
                events.append(ThinkingDelta(self._thinking, text=message.thinking))
            if message.content:
                if self._text is None:
                    self._text = self._claim()
                events.append(TextDelta(self._text, message.content))
            for call in tool_parts(message.tool_calls or []):
                index = self._claim()
                self._tools = True
                events.append(ToolCallStart(index, call.id, call.name))
                events.append(ToolCallDelta(index, call.arguments))
        if chunk.done and not self._done:
            self._done = True
            events.append(Finish(stop_reason=stop_reason(chunk.done_reason, self._tools)))
            events.append(UsageReport(chunk.usage()))
        return events
