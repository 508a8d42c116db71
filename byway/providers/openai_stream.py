"""An OpenAI-style Chat Completions SSE stream -> one ``Frame`` per SSE event, with canonical events (in lean
mode, for a stream passed on as it is, a run of events the gateway need not read is one frame).

Part indexes are given in order of first appearance: thinking, text and each tool call get their own, so
an event's ``index`` is its part's position in the response the ``Accumulator`` builds. Only the first
choice is read (a request with ``n > 1`` streams the others too; canonical responses hold one).
"""

from __future__ import annotations

from byway.core import (
    Finish,
    RefusalDelta,
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
from byway.providers.openai_errors import error_in_payload
from byway.providers.openai_response import decode_completion, new_tool_call_id, stop_reason
from byway.providers.openai_wire import WireCompletion, WireMessage, WireToolCall, arguments_text, chunk_texts
from byway.providers.sse import SSEEvent, SSESplitter, event_at

_DONE = b"[DONE]"
_USAGE = b'"usage"'


def _usage_at(data: bytes, start: int = 0) -> int:
    """Where the first usage object is in ``data`` from ``start`` (Groq's under ``x_groq`` too), or -1. With
    ``include_usage`` every chunk has ``"usage":null``; only an object counts."""
    at = data.find(_USAGE, start)
    while at != -1:
        value = data[at + len(_USAGE):at + len(_USAGE) + 8].lstrip(b" \t\r\n:")
        if value[:1] == b"{":
            return at
        at = data.find(_USAGE, at + len(_USAGE))
    return -1


def _finishes(data: bytes) -> bool:
    return b'"finish_reason":"' in data or b'"finish_reason": "' in data


class OpenAIStreamDecoder:
    __slots__ = ("_by_id", "_done", "_finished", "_last_tool", "_next_index", "_provider", "_refusal", "_sse",
                 "_started", "_text_index", "_thinking_index", "_tool_ids", "_tools", "lean")

    def __init__(self, provider: str) -> None:
        self._provider = provider
        self._sse = SSESplitter()
        self._started = False
        self._done = False  # saw data: [DONE]
        self._finished = False  # saw a finish_reason
        self._refusal = False
        self._next_index = 0
        self._text_index: int | None = None
        self._thinking_index: int | None = None
        self._tools: dict[int, int] = {}  # the provider's tool-call index -> part index
        self._by_id: dict[str, int] = {}  # tool-call id -> part index
        self._tool_ids: dict[int, str] = {}  # part index -> tool-call id
        self._last_tool: int | None = None
        # Lean: the frames are passed on as they are (the client speaks OpenAI too), so after the stream has
        # started only what the gateway itself needs is decoded: usage, errors and the end.
        self.lean = False

    def feed(self, chunk: bytes) -> list[Frame]:
        if self.lean:
            whole = self._sse.feed_whole(chunk)
            if whole is not None:
                return self._lean_feed(whole) if whole else []
        return [self._frame(event) for event in self._sse.feed(chunk)]

    def _lean_feed(self, whole: bytes) -> list[Frame]:
        """Read events one by one until the stream has started; then every event before the first that
        matters to the gateway (a usage object, an error, the end) goes out undecoded as one frame, and that
        event and those after it are read."""
        frames: list[Frame] = []
        at = 0
        size = len(whole)
        while not self._started and at < size:
            end = whole.find(b"\n\n", at) + 2
            frames.append(self._frame(event_at(whole, at, end)))
            at = end
        if at == size:
            return frames
        cut = size
        for found in (_usage_at(whole, at), whole.find(b'"error"', at), whole.find(_DONE, at)):
            if found != -1 and found < cut:
                cut = found
        head = size
        if cut < size:  # the run ends where the event holding ``cut`` begins
            before = whole.rfind(b"\n\n", at, cut)
            head = before + 2 if before != -1 else at
        if head > at:
            run = whole[at:head] if at or head < size else whole
            if _finishes(run):
                self._finished = True
            frames.append(Frame(raw=run, events=[], count=run.count(b"\n\n")))
        at = head
        while at < size:
            end = whole.find(b"\n\n", at) + 2
            if whole.startswith(b"data: [DONE]\n\n", at) and end - at == 14:
                self._done = True
                frames.append(Frame(raw=whole[at:end], events=[]))
            else:
                frames.append(self._frame(event_at(whole, at, end)))
            at = end
        return frames

    def close(self) -> list[Frame]:
        frames = [self._frame(event) for event in self._sse.close()]
        if not self._done and not self._finished:
            raise UpstreamUnavailableError(f"{self._provider}: stream ended early", provider=self._provider,
                                           upstream_status=200)
        return frames

    def _frame(self, event: SSEEvent) -> Frame:
        data = event.data.strip()
        if not data:  # comments (": OPENROUTER PROCESSING"), keep-alives
            return Frame(raw=event.raw, events=[])
        if data == _DONE:
            self._done = True
            return Frame(raw=event.raw, events=[])
        if self.lean and self._started and _usage_at(data) == -1 and b'"error"' not in data:
            if _finishes(data):
                self._finished = True
            return Frame(raw=event.raw, events=[])
        chunk = decode_completion(self._provider, data)
        if chunk.error is not None:
            raise error_in_payload(self._provider, chunk.error)
        return Frame(raw=event.raw, events=self._events(chunk))

    def _events(self, chunk: WireCompletion) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        if not self._started and (chunk.id or chunk.choices):  # Azure opens with a choice-less filter chunk
            self._started = True
            events.append(StreamStart(id=chunk.id or "", model=chunk.model or "", created=int(chunk.created or 0)))
        choice = chunk.first_choice()
        if choice is not None:
            delta = choice.delta or choice.message
            if delta is not None:
                self._delta(delta, events)
            if choice.finish_reason and not self._finished:
                self._finished = True
                reason = stop_reason(choice.finish_reason, tool_calls=bool(self._tool_ids), refusal=self._refusal)
                events.append(Finish(stop_reason=reason or "end"))
        usage = chunk.wire_usage()
        if usage is not None:
            events.append(UsageReport(usage=usage.to_usage()))
        return events

    def _claim(self) -> int:
        index = self._next_index
        self._next_index += 1
        return index

    def _delta(self, delta: WireMessage, events: list[StreamEvent]) -> None:
        thinking = delta.reasoning_content or delta.reasoning
        content = delta.content
        if isinstance(content, list):
            chunk_thinking, text = chunk_texts(content)
            thinking = thinking or chunk_thinking
        else:
            text = content
        if thinking:
            if self._thinking_index is None:
                self._thinking_index = self._claim()
            events.append(ThinkingDelta(index=self._thinking_index, text=thinking))
        if text:
            if self._text_index is None:
                self._text_index = self._claim()
            events.append(TextDelta(index=self._text_index, text=text))
        if delta.refusal:
            self._refusal = True
            events.append(RefusalDelta(text=delta.refusal))
        for call in delta.tool_calls or ():
            self._tool_call(call, events)

    def _tool_call(self, call: WireToolCall, events: list[StreamEvent]) -> None:
        function = call.function
        name = function.name if function is not None else None
        if call.index is not None:
            part = self._tools.get(call.index)
            if part is not None and call.id and call.id != self._tool_ids[part]:
                part = None  # a new call that reuses the index
        elif call.id:
            part = self._by_id.get(call.id)
        else:
            part = None if name else self._last_tool
        if part is None:
            part = self._claim()
            tool_id = call.id or new_tool_call_id()
            if call.index is not None:
                self._tools[call.index] = part
            self._by_id[tool_id] = part
            self._tool_ids[part] = tool_id
            events.append(ToolCallStart(index=part, id=tool_id, name=name or ""))
        self._last_tool = part
        arguments = arguments_text(function.arguments) if function is not None else ""
        if arguments:
            events.append(ToolCallDelta(index=part, arguments=arguments))
