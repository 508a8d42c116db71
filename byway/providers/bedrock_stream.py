"""A ConverseStream answer (``application/vnd.amazon.eventstream``) as canonical stream events.

The binary AWS event stream is split into messages by botocore's ``EventStreamBuffer``, which checks
each message's prelude and CRCs. One ``Frame`` per message, ``raw`` its exact bytes. A message's
``:event-type`` header names the event; its JSON payload carries a random ``p`` padding field (ignored):

- ``messageStart`` -> ``StreamStart`` (Converse names neither an id nor the model: both empty);
- ``contentBlockStart`` with ``start.toolUse`` -> ``ToolCallStart`` (text blocks have no start event);
- ``contentBlockDelta``: ``text`` -> ``TextDelta``, ``toolUse.input`` fragments -> ``ToolCallDelta``,
  ``reasoningContent`` text / signature / redactedContent -> ``ThinkingDelta``;
- ``messageStop`` -> ``Finish`` (with the stop sequence when Claude names it);
- ``metadata`` (the only place usage comes) -> ``UsageReport``;
- a message of ``:message-type`` ``exception`` (``throttlingException``, ``modelStreamErrorException``...)
  or ``error`` raises the mapped ``ProviderError``, after the frames before it were handed over.

An event's ``index`` is Bedrock's ``contentBlockIndex``. Server tool calls and their results produce no
events; their frames still pass through. A JSON-mode answer (a call to ``JSON_TOOL``) streams as text.
"""

from __future__ import annotations

from typing import Any

import msgspec
from botocore.eventstream import EventStreamBuffer, EventStreamMessage, ParserError

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
from byway.providers.anthropic_request import JSON_TOOL
from byway.providers.base import Frame
from byway.providers.bedrock_errors import stream_exception
from byway.providers.bedrock_response import SERVER_TOOL_USE, TokenUsage, make_usage, stop_reason, stop_sequence_of

# What each content block index is being built as.
_TEXT, _TOOL, _JSON, _THINKING, _OTHER = range(5)


class _ToolStart(msgspec.Struct):
    toolUseId: str = ""
    name: str = ""
    type: str | None = None


class _Start(msgspec.Struct):
    toolUse: _ToolStart | None = None


class _BlockStart(msgspec.Struct):
    contentBlockIndex: int = 0
    start: _Start | None = None


class _ToolDelta(msgspec.Struct):
    input: str = ""


class _ReasoningDelta(msgspec.Struct):
    text: str | None = None
    signature: str | None = None
    redactedContent: str | None = None


class _Delta(msgspec.Struct):
    text: str | None = None
    toolUse: _ToolDelta | None = None
    reasoningContent: _ReasoningDelta | None = None


class _BlockDelta(msgspec.Struct):
    contentBlockIndex: int = 0
    delta: _Delta | None = None


class _MessageStop(msgspec.Struct):
    stopReason: str | None = None
    additionalModelResponseFields: Any = None


class _Metadata(msgspec.Struct):
    usage: TokenUsage | None = None


_BLOCK_START = msgspec.json.Decoder(_BlockStart)
_BLOCK_DELTA = msgspec.json.Decoder(_BlockDelta)
_MESSAGE_STOP = msgspec.json.Decoder(_MessageStop)
_METADATA = msgspec.json.Decoder(_Metadata)


class BedrockStreamDecoder:
    """``StreamDecoder`` for ``POST /model/{id}/converse-stream``."""

    __slots__ = ("_buffer", "_done", "_json_tool", "_kinds", "_pending", "_provider", "_raw", "_real_tools")

    def __init__(self, provider: str, json_tool: str | None = JSON_TOOL) -> None:
        self._provider = provider
        self._json_tool = json_tool
        self._buffer = EventStreamBuffer()
        self._raw = bytearray()  # the bytes not yet handed out as frames, mirroring the buffer
        self._kinds: dict[int, int] = {}
        self._real_tools = False
        self._done = False
        self._pending: ProviderError | None = None

    def feed(self, chunk: bytes) -> list[Frame]:
        if self._pending is not None:
            raise self._pending
        self._buffer.add_data(chunk)
        self._raw += chunk
        frames: list[Frame] = []
        while True:
            try:
                message = next(self._buffer, None)
            except ParserError as exc:
                error = UpstreamUnavailableError(f"{self._provider}: corrupt event stream ({exc})",
                                                 provider=self._provider)
                return self._hand_over(frames, error)
            if message is None:
                return frames
            size = message.prelude.total_length
            raw = bytes(self._raw[:size])
            del self._raw[:size]
            try:
                frames.append(Frame(raw, self._decode(message)))
            except ProviderError as exc:
                return self._hand_over(frames, exc)

    def close(self) -> list[Frame]:
        if self._pending is not None:
            raise self._pending
        if self._raw:
            raise UpstreamUnavailableError(f"{self._provider}: the stream ended inside an event",
                                           provider=self._provider)
        if not self._done:
            raise UpstreamUnavailableError(f"{self._provider}: the stream ended before messageStop",
                                           provider=self._provider)
        return []

    def _hand_over(self, frames: list[Frame], error: ProviderError) -> list[Frame]:
        """Return the frames decoded before ``error``; raise it now if there are none, else on the next call."""
        if not frames:
            raise error
        self._pending = error
        return frames

    def _decode(self, message: EventStreamMessage) -> list[StreamEvent]:
        headers = message.headers
        kind = headers.get(":message-type")
        if kind != "event":
            raise stream_exception(self._provider, headers, message.payload)
        name = headers.get(":event-type")
        payload = message.payload
        try:
            if name == "contentBlockDelta":
                return self._block_delta(_BLOCK_DELTA.decode(payload))
            if name == "contentBlockStart":
                return self._block_start(_BLOCK_START.decode(payload))
            if name == "messageStart":
                return [StreamStart(id="", model="")]
            if name == "messageStop":
                self._done = True
                stop = _MESSAGE_STOP.decode(payload)
                sequence = stop_sequence_of(stop.additionalModelResponseFields)
                reason = stop_reason(stop.stopReason, self._real_tools, sequence) or "end"
                return [Finish(stop_reason=reason, stop_sequence=sequence if reason == "stop_sequence" else None)]
            if name == "metadata":
                return [UsageReport(make_usage(_METADATA.decode(payload).usage))]
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise UpstreamUnavailableError(f"{self._provider}: malformed {name} event ({exc})",
                                           provider=self._provider) from exc
        return []  # contentBlockStop and kinds we do not know

    def _block_start(self, event: _BlockStart) -> list[StreamEvent]:
        index = event.contentBlockIndex
        tool = event.start.toolUse if event.start is not None else None
        if tool is None or tool.type == SERVER_TOOL_USE:
            self._kinds[index] = _OTHER
            return []
        if tool.name == self._json_tool:
            self._kinds[index] = _JSON
            return []
        self._kinds[index] = _TOOL
        self._real_tools = True
        return [ToolCallStart(index, tool.toolUseId, tool.name)]

    def _block_delta(self, event: _BlockDelta) -> list[StreamEvent]:
        index, delta = event.contentBlockIndex, event.delta
        if delta is None:
            return []
        block = self._kinds.get(index)
        if delta.text is not None:
            if delta.text and block in (None, _TEXT):
                self._kinds[index] = _TEXT
                return [TextDelta(index, delta.text)]
        elif delta.toolUse is not None:
            if delta.toolUse.input:
                if block == _TOOL:
                    return [ToolCallDelta(index, delta.toolUse.input)]
                if block == _JSON:
                    return [TextDelta(index, delta.toolUse.input)]
        elif delta.reasoningContent is not None:
            reasoning = delta.reasoningContent
            self._kinds[index] = _THINKING
            if reasoning.redactedContent is not None:
                return [ThinkingDelta(index, signature=reasoning.redactedContent, redacted=True)]
            if reasoning.text or reasoning.signature:
                return [ThinkingDelta(index, text=reasoning.text or "", signature=reasoning.signature or None)]
        return []
