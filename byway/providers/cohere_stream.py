"""A Cohere v2 chat stream as canonical stream events.

The stream is server-sent events, each ``event: <type>`` with a ``data:`` JSON object repeating the type:
``message-start`` (the id), ``content-start`` / ``content-delta`` / ``content-end`` (text or thinking, by
content ``index``), ``tool-plan-delta``, ``tool-call-start`` / ``tool-call-delta`` / ``tool-call-end`` (by
tool-call ``index``, a numbering of its own), ``citation-start`` / ``citation-end`` and ``message-end``
(finish reason and usage), sometimes followed by ``data: [DONE]``. One ``Frame`` per event, its raw bytes
untouched. Part indexes are given in order of first appearance, so the tool plan, each content item and
each tool call is its own part, as in ``cohere_response``. An event without an ``event:`` line is read by
the ``type`` in its data, as Cohere's SDK reads it.
"""

from __future__ import annotations

from typing import Any

import msgspec

from byway.core import (
    Finish,
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
from byway.providers.cohere_response import WireUsage, finish_reason
from byway.providers.sse import SSEEvent, SSESplitter

_DONE = b"[DONE]"


class _Function(msgspec.Struct):
    name: str | None = None
    arguments: str | None = None


class _ToolCall(msgspec.Struct):
    id: str | None = None
    function: _Function | None = None


class _Content(msgspec.Struct):
    type: str | None = None
    text: str | None = None
    thinking: str | None = None


class _DeltaMessage(msgspec.Struct):
    # message-start repeats the whole message shape with empty lists; the deltas carry single objects
    content: _Content | list[Any] | None = None
    tool_plan: str | None = None
    tool_calls: _ToolCall | list[Any] | None = None


class _Delta(msgspec.Struct):
    message: _DeltaMessage | None = None
    finish_reason: str | None = None
    usage: WireUsage | None = None
    error: str | None = None


class _Event(msgspec.Struct):
    type: str = ""
    id: str | None = None
    index: int | None = None
    delta: _Delta | None = None


_EVENT = msgspec.json.Decoder(_Event)


class CohereStreamDecoder:
    """``StreamDecoder`` for ``POST /v2/chat`` with ``stream: true``. ``model`` names the model in
    ``StreamStart``, since Cohere's stream does not."""

    __slots__ = ("_content", "_content_kinds", "_done", "_model", "_next", "_plan", "_provider", "_splitter",
                 "_tools")

    def __init__(self, provider: str, model: str = "") -> None:
        self._provider = provider
        self._model = model
        self._splitter = SSESplitter()
        self._done = False
        self._next = 0
        self._plan: int | None = None  # part index of the tool plan
        self._content: dict[int, int] = {}  # Cohere content index -> part index
        self._content_kinds: dict[int, str] = {}  # Cohere content index -> "text" | "thinking"
        self._tools: dict[int, int] = {}  # Cohere tool-call index -> part index

    def feed(self, chunk: bytes) -> list[Frame]:
        return [Frame(event.raw, self._decode(event)) for event in self._splitter.feed(chunk)]

    def close(self) -> list[Frame]:
        frames = [Frame(event.raw, self._decode(event)) for event in self._splitter.close()]
        if not self._done:
            raise UpstreamUnavailableError(f"{self._provider}: the stream ended before message-end",
                                           provider=self._provider, upstream_status=200)
        return frames

    def _claim(self) -> int:
        index = self._next
        self._next += 1
        return index

    def _decode(self, sse: SSEEvent) -> list[StreamEvent]:
        data = sse.data.strip()
        if not data or data == _DONE:
            return []
        try:
            event = _EVENT.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise UpstreamUnavailableError(f"{self._provider}: malformed {sse.event or 'stream'} event ({exc})",
                                           provider=self._provider, upstream_status=200) from exc
        kind = sse.event or event.type
        delta = event.delta
        message = delta.message if delta is not None else None
        if kind == "content-delta" or kind == "content-start":
            return self._content_event(kind, event.index or 0, message)
        if kind == "tool-call-delta" or kind == "tool-call-start":
            return self._tool_event(kind, event.index or 0, message)
        if kind == "tool-plan-delta":
            text = message.tool_plan if message is not None else None
            if not text:
                return []
            if self._plan is None:
                self._plan = self._claim()
            return [ThinkingDelta(self._plan, text=text)]
        if kind == "message-start":
            return [StreamStart(id=event.id or "", model=self._model)]
        if kind == "message-end":
            self._done = True
            return self._end(delta)
        return []  # content-end, tool-call-end, citations, debug, and kinds we do not know

    def _content_event(self, kind: str, index: int, message: _DeltaMessage | None) -> list[StreamEvent]:
        content = message.content if message is not None else None
        if not isinstance(content, _Content):
            return []
        if kind == "content-start":
            self._content_kinds[index] = content.type or "text"
        if content.thinking is not None or (content.text is None and self._content_kinds.get(index) == "thinking"):
            text, thinking = content.thinking or "", True
        else:
            text, thinking = content.text or "", False
        if not text:
            return []
        part = self._content.get(index)
        if part is None:
            part = self._content[index] = self._claim()
        return [ThinkingDelta(part, text=text) if thinking else TextDelta(part, text)]

    def _tool_event(self, kind: str, index: int, message: _DeltaMessage | None) -> list[StreamEvent]:
        call = message.tool_calls if message is not None else None
        if not isinstance(call, _ToolCall):
            return []
        function = call.function or _Function()
        events: list[StreamEvent] = []
        part = self._tools.get(index)
        if kind == "tool-call-start" or part is None:
            part = self._tools[index] = self._claim()
            events.append(ToolCallStart(part, call.id or "", function.name or ""))
        if function.arguments:
            events.append(ToolCallDelta(part, function.arguments))
        return events

    def _end(self, delta: _Delta | None) -> list[StreamEvent]:
        if delta is None:
            return []
        events: list[StreamEvent] = []
        reason = finish_reason(delta.finish_reason)
        if reason is not None:
            extra = {"error": delta.error} if delta.error else None
            events.append(Finish(stop_reason=reason, extra=extra))
        if delta.usage is not None:
            events.append(UsageReport(delta.usage.to_usage()))
        return events
