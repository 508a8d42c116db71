"""An Anthropic Messages event stream as canonical stream events.

One ``Frame`` per SSE event, its raw bytes untouched. An event's ``index`` is the
Anthropic content block index. Blocks without a canonical form (server tool
calls and results, compaction, fallback notices...) produce no events; their raw
frames still pass through to an Anthropic client. Events without an ``event:``
line are ignored, as Anthropic's SDK ignores them.
"""

from __future__ import annotations

import msgspec

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
from byway.providers.anthropic_errors import stream_error
from byway.providers.anthropic_response import make_usage, stop_reason
from byway.providers.base import Frame
from byway.providers.sse import SSEEvent, SSESplitter

# What each content block index is being built as.
_TEXT, _TOOL, _JSON, _THINKING, _OTHER = range(5)


class _OutputDetails(msgspec.Struct):
    thinking_tokens: int | None = None


class _Usage(msgspec.Struct):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    output_tokens_details: _OutputDetails | None = None


class _Message(msgspec.Struct):
    id: str = ""
    model: str = ""
    usage: _Usage | None = None


class _MessageStart(msgspec.Struct):
    message: _Message


class _Block(msgspec.Struct):
    type: str
    text: str | None = None
    id: str | None = None
    name: str | None = None
    input: msgspec.Raw = msgspec.Raw()  # the whole input, when given at the start
    thinking: str | None = None
    signature: str | None = None
    data: str | None = None


class _BlockStart(msgspec.Struct):
    index: int
    content_block: _Block


class _Delta(msgspec.Struct):
    type: str
    text: str | None = None
    partial_json: str | None = None
    thinking: str | None = None
    signature: str | None = None


class _BlockDelta(msgspec.Struct):
    index: int
    delta: _Delta


class _StopDelta(msgspec.Struct):
    stop_reason: str | None = None
    stop_sequence: str | None = None
    stop_details: dict | None = None
    container: dict | None = None


class _MessageDelta(msgspec.Struct):
    delta: _StopDelta
    usage: _Usage | None = None


_START = msgspec.json.Decoder(_MessageStart)
_BLOCK_START = msgspec.json.Decoder(_BlockStart)
_BLOCK_DELTA = msgspec.json.Decoder(_BlockDelta)
_MESSAGE_DELTA = msgspec.json.Decoder(_MessageDelta)
_EMPTY_INPUTS = (b"{}", b"", b"null")


def _initial_input(raw: msgspec.Raw) -> str | None:
    """A tool_use block's input given whole at its start (normally ``{}``, then streamed), as compact JSON."""
    text = bytes(raw).strip()
    if text in _EMPTY_INPUTS:
        return None
    return msgspec.json.encode(msgspec.json.decode(text)).decode()


class AnthropicStreamDecoder:
    """``StreamDecoder`` for ``POST /v1/messages`` with ``stream: true``."""

    __slots__ = ("_cache_read", "_cache_write", "_done", "_input", "_json_tool", "_kinds", "_output", "_pending",
                 "_provider", "_real_tools", "_reasoning", "_splitter")

    def __init__(self, provider: str, json_tool: str | None = None) -> None:
        self._provider = provider
        self._json_tool = json_tool
        self._splitter = SSESplitter()
        self._kinds: dict[int, int] = {}
        self._real_tools = False
        self._done = False
        self._pending: ProviderError | None = None
        self._input = self._output = self._cache_read = self._cache_write = self._reasoning = 0

    def feed(self, chunk: bytes) -> list[Frame]:
        if self._pending is not None:
            raise self._pending
        return self._frames(self._splitter.feed(chunk))

    def close(self) -> list[Frame]:
        if self._pending is not None:
            raise self._pending
        frames = self._frames(self._splitter.close())
        if self._pending is not None:
            raise self._pending
        if not self._done:
            raise UpstreamUnavailableError(f"{self._provider}: the stream ended before message_stop",
                                           provider=self._provider)
        return frames

    def _frames(self, events: list[SSEEvent]) -> list[Frame]:
        frames: list[Frame] = []
        for event in events:
            try:
                frames.append(Frame(event.raw, self._decode(event)))
            except ProviderError as exc:
                if not frames:
                    raise
                self._pending = exc  # hand over the frames before it first; raise on the next call
                break
        return frames

    def _decode(self, event: SSEEvent) -> list[StreamEvent]:
        name = event.event
        try:
            if name == "content_block_delta":
                return self._block_delta(_BLOCK_DELTA.decode(event.data))
            if name == "content_block_start":
                return self._block_start(_BLOCK_START.decode(event.data))
            if name == "message_delta":
                return self._message_delta(_MESSAGE_DELTA.decode(event.data))
            if name == "message_start":
                return self._message_start(_START.decode(event.data))
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise UpstreamUnavailableError(f"{self._provider}: malformed {name} event ({exc})",
                                           provider=self._provider) from exc
        if name == "message_stop":
            self._done = True
        elif name == "error":
            raise stream_error(self._provider, event.data)
        return []  # ping, content_block_stop, events without a name, and kinds we do not know

    def _message_start(self, start: _MessageStart) -> list[StreamEvent]:
        message = start.message
        if message.usage is not None:
            self._take_usage(message.usage)
        usage = make_usage(self._input, 0, self._cache_read, self._cache_write, 0)
        return [StreamStart(id=message.id, model=message.model), UsageReport(usage)]

    def _block_start(self, start: _BlockStart) -> list[StreamEvent]:
        index, block = start.index, start.content_block
        kind = block.type
        if kind == "text":
            self._kinds[index] = _TEXT
            return [TextDelta(index, block.text)] if block.text else []
        if kind == "tool_use":
            initial = _initial_input(block.input)
            if block.name == self._json_tool:
                self._kinds[index] = _JSON
                return [TextDelta(index, initial)] if initial is not None else []
            self._kinds[index] = _TOOL
            self._real_tools = True
            events: list[StreamEvent] = [ToolCallStart(index, block.id or "", block.name or "")]
            if initial is not None:
                events.append(ToolCallDelta(index, initial))
            return events
        if kind == "thinking":
            self._kinds[index] = _THINKING
            return [ThinkingDelta(index, text=block.thinking or "", signature=block.signature or None)]
        if kind == "redacted_thinking":
            self._kinds[index] = _THINKING
            return [ThinkingDelta(index, signature=block.data or None, redacted=True)]
        self._kinds[index] = _OTHER
        return []

    def _block_delta(self, event: _BlockDelta) -> list[StreamEvent]:
        index, delta = event.index, event.delta
        kind = delta.type
        if kind == "text_delta":
            if delta.text and self._kinds.get(index, _TEXT) == _TEXT:
                return [TextDelta(index, delta.text)]
        elif kind == "input_json_delta":
            if delta.partial_json:
                block = self._kinds.get(index)
                if block == _TOOL:
                    return [ToolCallDelta(index, delta.partial_json)]
                if block == _JSON:
                    return [TextDelta(index, delta.partial_json)]
        elif kind == "thinking_delta":
            if delta.thinking:
                return [ThinkingDelta(index, text=delta.thinking)]
        elif kind == "signature_delta" and delta.signature:
            return [ThinkingDelta(index, signature=delta.signature)]
        return []

    def _message_delta(self, event: _MessageDelta) -> list[StreamEvent]:
        if event.usage is not None:
            self._take_usage(event.usage)
        events: list[StreamEvent] = []
        stop = event.delta
        reason = stop_reason(stop.stop_reason, self._real_tools)
        if reason is not None:
            extra = {k: v for k, v in (("stop_details", stop.stop_details), ("container", stop.container)) if v}
            events.append(Finish(stop_reason=reason, stop_sequence=stop.stop_sequence, extra=extra or None))
        usage = make_usage(self._input, self._output, self._cache_read, self._cache_write, self._reasoning)
        events.append(UsageReport(usage))
        return events

    def _take_usage(self, usage: _Usage) -> None:
        """Keep the latest figure of each field; Anthropic's later reports are cumulative."""
        if usage.input_tokens is not None:
            self._input = usage.input_tokens
        if usage.output_tokens is not None:
            self._output = usage.output_tokens
        if usage.cache_read_input_tokens is not None:
            self._cache_read = usage.cache_read_input_tokens
        if usage.cache_creation_input_tokens is not None:
            self._cache_write = usage.cache_creation_input_tokens
        details = usage.output_tokens_details
        if details is not None and details.thinking_tokens is not None:
            self._reasoning = details.thinking_tokens
