"""A Gemini ``streamGenerateContent?alt=sse`` stream as canonical stream events.

Each SSE event is ``data: <a whole GenerateContentResponse>`` (real Gemini separates them with ``\\r\\n\\r\\n``;
there are no ``event:`` lines, comments or ``[DONE]``). One ``Frame`` per event, its raw bytes untouched.

Part indexes follow the rules of ``gemini_response``, so the ``Accumulator`` builds the response a
non-streamed call would have returned: text deltas extend the open text part, thought deltas the open thought
part (a signature closes it), each function call (which arrives whole) is a ``ToolCallStart`` and one
``ToolCallDelta`` with the full arguments, preceded by an empty signed thinking part when Gemini signed it.
Each chunk's ``usageMetadata`` is reported (Gemini's figures are running totals; the last chunk's are final).
The stream is complete once a chunk carries a ``finishReason`` (or the prompt was blocked).
"""

from __future__ import annotations

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
from byway.providers.gemini_errors import gemini_error
from byway.providers.gemini_response import (
    WirePart,
    WireResponse,
    call_arguments,
    decode_response,
    new_call_id,
    signature,
    stop_reason,
)
from byway.providers.sse import SSEEvent, SSESplitter

_TEXT, _THOUGHT = 1, 2
_JSON_OPENINGS = (b"{", b"[")


class GeminiStreamDecoder:
    """``StreamDecoder`` for Gemini and Vertex ``streamGenerateContent`` with ``alt=sse``."""

    __slots__ = ("_finished", "_next", "_open", "_open_kind", "_provider", "_sse", "_started", "_tools")

    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._sse = SSESplitter()
        self._started = False
        self._finished = False
        self._tools = False
        self._next = 0  # the next free part index
        self._open: int | None = None  # the text or thought part deltas extend
        self._open_kind = 0

    def feed(self, chunk: bytes) -> list[Frame]:
        return [self._frame(event) for event in self._sse.feed(chunk)]

    def close(self) -> list[Frame]:
        frames = [self._frame(event) for event in self._sse.close()]
        if not self._finished:
            raise UpstreamUnavailableError(f"{self._provider}: the stream ended before a finishReason",
                                           provider=self._provider, upstream_status=200)
        return frames

    def _frame(self, event: SSEEvent) -> Frame:
        data = event.data.strip()
        if not data:
            raw = event.raw.strip()
            if raw.startswith(_JSON_OPENINGS):  # an error answered as plain JSON under status 200
                raise gemini_error(self._provider, 500, {}, raw)
            return Frame(raw=event.raw, events=[])
        return Frame(raw=event.raw, events=self._events(decode_response(self._provider, data)))

    def _events(self, chunk: WireResponse) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        if not self._started:
            self._started = True
            events.append(StreamStart(id=chunk.response_id, model=chunk.model_version))
        candidate = chunk.first()
        if candidate is not None and candidate.content is not None:
            for part in candidate.content.parts:
                self._part(part, events)
        if chunk.usage_metadata is not None:
            events.append(UsageReport(chunk.usage_metadata.to_usage()))
        if not self._finished:
            if chunk.blocked():
                self._finished = True
                events.append(Finish(stop_reason="content_filter"))
            elif candidate is not None and candidate.finish_reason:
                self._finished = True
                events.append(Finish(stop_reason=stop_reason(candidate.finish_reason, self._tools) or "end"))
        return events

    def _claim(self) -> int:
        index = self._next
        self._next += 1
        return index

    def _extend(self, kind: int) -> int:
        if self._open is None or self._open_kind != kind:
            self._open, self._open_kind = self._claim(), kind
        return self._open

    def _part(self, part: WirePart, events: list[StreamEvent]) -> None:
        call = part.function_call
        if call is not None:
            self._open = None
            self._tools = True
            if part.thought_signature:
                events.append(ThinkingDelta(self._claim(), signature=signature(part.thought_signature)))
            index = self._claim()
            events.append(ToolCallStart(index, call.id or new_call_id(), call.name))
            events.append(ToolCallDelta(index, call_arguments(call)))
        elif part.thought:
            if part.text or part.thought_signature:
                events.append(ThinkingDelta(self._extend(_THOUGHT), text=part.text or "",
                                            signature=signature(part.thought_signature)))
            if part.thought_signature:
                self._open = None  # a signature ends the thought run
        elif part.text:
            events.append(TextDelta(self._extend(_TEXT), part.text))
