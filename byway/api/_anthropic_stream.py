"""Encoding a provider stream as Anthropic Messages server-sent events.

The sequence is Anthropic's: ``message_start``, then per content block
``content_block_start`` / ``content_block_delta``... / ``content_block_stop`` (a ``ping``
after the first block opens), then ``message_delta`` with the stop reason and usage, and
``message_stop``. Every event has its ``event:`` line.

Canonical parts become blocks in the order they first appear, numbered from 0, one open at
a time. Providers of the OpenAI family may interleave: text resuming after a tool call
opens a new text block; a late argument fragment for a tool call whose block was closed
is still sent to that block's index (the Anthropic SDKs accumulate by index), so no
argument text is ever lost.
"""

from __future__ import annotations

import msgspec

from byway.api._anthropic_response import matched_stop, message_id, stop_reason, usage_object
from byway.api.errors import anthropic_error_object
from byway.core import (
    ByWayError,
    ChatRequest,
    Finish,
    RefusalDelta,
    StreamStart,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallStart,
    Usage,
    UsageReport,
)
from byway.providers.base import Frame

_encode = msgspec.json.encode
_REFUSAL = -1  # the part key of OpenAI-style refusal text, which has no part index
_TEXT, _THINKING, _REDACTED, _TOOL = "text", "thinking", "redacted", "tool"
_DELTA_HEAD = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":'
_PING = b'event: ping\ndata: {"type":"ping"}\n\n'
_STOP = b'event: message_stop\ndata: {"type":"message_stop"}\n\n'


def _event(name: bytes, payload: dict[str, object]) -> bytes:
    return b"event: " + name + b"\ndata: " + _encode(payload) + b"\n\n"


class StreamEncoder:
    """One per streamed request: turns each provider ``Frame`` into the bytes the client receives.

    With ``passthrough`` (the provider speaks Anthropic's format too) frames go out exactly as
    they came; otherwise the canonical events are encoded afresh.
    """

    __slots__ = ("_blocks", "_calls_tools", "_closed", "_finish", "_id", "_kinds", "_model", "_next", "_open",
                 "_open_kind", "_passthrough", "_pinged", "_started", "_stop", "_text_head", "_usage", "_usage_seen")

    def __init__(self, request: ChatRequest, *, passthrough: bool) -> None:
        self._passthrough = passthrough
        self._id = ""
        self._model = request.model
        self._stop = request.stop
        self._started = False  # message_start went out
        self._pinged = False
        self._blocks: dict[int, int] = {}  # canonical part index -> block index
        self._kinds: dict[int, str] = {}  # block index -> kind
        self._next = 0
        self._open: int | None = None  # the block index now open
        self._open_kind = ""
        self._text_head = b""  # the bytes before a text_delta's text, for the open text block
        self._calls_tools = False
        self._finish: Finish | None = None
        self._usage = Usage()
        self._usage_seen = False
        self._closed = False

    # -- public ------------------------------------------------------------------------------------------------------

    def frame(self, frame: Frame) -> bytes:
        if self._closed:
            return b""
        if self._passthrough:
            return frame.raw
        out: list[bytes] = []
        pending_start = False
        for event in frame.events:
            if isinstance(event, TextDelta):
                if event.text:
                    self._text(event.index, event.text, out)
            elif isinstance(event, ToolCallDelta):
                self._arguments(event, out)
            elif isinstance(event, UsageReport):
                self._usage = self._usage.merge(event.usage)
                self._usage_seen = True
            elif isinstance(event, StreamStart):
                if not self._started:
                    self._id = event.id or self._id
                    self._model = event.model or self._model
                    pending_start = True
            elif isinstance(event, ToolCallStart):
                self._tool_start(event, out)
            elif isinstance(event, ThinkingDelta):
                self._thinking(event, out)
            elif isinstance(event, RefusalDelta):
                if event.text:
                    self._text(_REFUSAL, event.text, out)
            elif isinstance(event, Finish):
                if self._finish is None:
                    self._finish = event
        if pending_start and not self._started:  # held until the frame's usage report was read
            out.append(self._message_start())
        return b"".join(out)

    def end(self, usage: Usage | None = None) -> bytes:
        """What closes the stream: the open block's stop, ``message_delta`` and ``message_stop``.

        ``usage`` overrides what the stream reported (for example an estimate when it reported nothing)."""
        if self._closed:
            return b""
        self._closed = True
        if self._passthrough:
            return b""
        if usage is not None:
            self._usage, self._usage_seen = usage, True
        out = [] if self._started else [self._message_start()]
        if self._open is not None:
            out.append(self._block_stop())
        if not self._pinged:
            out.append(_PING)
        finish = self._finish
        reason = stop_reason(finish.stop_reason if finish else None, self._calls_tools)
        delta: dict[str, object] = {"stop_reason": reason, "stop_sequence": matched_stop(
            reason, finish.stop_sequence if finish else None, self._stop)}
        if finish is not None and finish.extra:
            delta.update((k, v) for k, v in finish.extra.items() if k in ("stop_details", "container"))
        usage_out: dict[str, int] = usage_object(self._usage) if self._usage_seen else {"output_tokens": 0}
        out.append(_event(b"message_delta", {"type": "message_delta", "delta": delta, "usage": usage_out}))
        out.append(_STOP)
        return b"".join(out)

    def error(self, err: ByWayError) -> bytes:
        """The in-stream ``error`` event; nothing follows it."""
        if self._closed:
            return b""
        self._closed = True
        return _event(b"error", anthropic_error_object(err))

    # -- blocks ------------------------------------------------------------------------------------------------------

    def _message_start(self) -> bytes:
        self._started = True
        message = {"id": message_id(self._id), "type": "message", "role": "assistant", "model": self._model,
                   "content": [], "stop_reason": None, "stop_sequence": None,
                   "usage": usage_object(self._usage)}
        return _event(b"message_start", {"type": "message_start", "message": message})

    def _block_stop(self) -> bytes:
        index, self._open = self._open, None
        self._text_head = b""
        return (b'event: content_block_stop\ndata: {"type":"content_block_stop","index":' + str(index).encode()
                + b"}\n\n")

    def _open_block(self, part: int, kind: str, block: dict[str, object], out: list[bytes]) -> int:
        """Close the open block, start a new one for ``part``; the ping follows the first block's start."""
        if not self._started:
            out.append(self._message_start())
        if self._open is not None:
            out.append(self._block_stop())
        index = self._next
        self._next += 1
        self._blocks[part] = index
        self._kinds[index] = kind
        self._open, self._open_kind = index, kind
        out.append(_event(b"content_block_start", {"type": "content_block_start", "index": index,
                                                   "content_block": block}))
        if not self._pinged:
            self._pinged = True
            out.append(_PING)
        return index

    def _current(self, part: int, kind: str) -> int | None:
        """The open block of ``part`` if it is open and of ``kind``."""
        index = self._blocks.get(part)
        if index is not None and index == self._open and self._open_kind == kind:
            return index
        return None

    def _text(self, part: int, text: str, out: list[bytes]) -> None:
        if self._current(part, _TEXT) is None:
            index = self._open_block(part, _TEXT, {"type": "text", "text": ""}, out)
            self._text_head = _DELTA_HEAD + str(index).encode() + b',"delta":{"type":"text_delta","text":'
        out.append(self._text_head + _encode(text) + b"}}\n\n")

    def _thinking(self, event: ThinkingDelta, out: list[bytes]) -> None:
        part = event.index
        if event.redacted:
            if self._current(part, _REDACTED) is None:
                self._open_block(part, _REDACTED, {"type": "redacted_thinking", "data": event.signature or ""}, out)
            return  # redacted data comes whole, in the block's start
        index = self._current(part, _THINKING)
        if index is None:
            index = self._open_block(part, _THINKING, {"type": "thinking", "thinking": "", "signature": ""}, out)
        if event.text:
            out.append(_DELTA_HEAD + str(index).encode() + b',"delta":{"type":"thinking_delta","thinking":'
                       + _encode(event.text) + b"}}\n\n")
        if event.signature:
            out.append(_DELTA_HEAD + str(index).encode() + b',"delta":{"type":"signature_delta","signature":'
                       + _encode(event.signature) + b"}}\n\n")

    def _tool_start(self, event: ToolCallStart, out: list[bytes]) -> None:
        self._calls_tools = True
        tool_id = event.id or "toolu_" + message_id("")[4:]
        self._open_block(event.index, _TOOL, {"type": "tool_use", "id": tool_id, "name": event.name, "input": {}},
                         out)

    def _arguments(self, event: ToolCallDelta, out: list[bytes]) -> None:
        if not event.arguments:
            return
        index = self._blocks.get(event.index)
        if index is None or self._kinds[index] != _TOOL:  # fragments before (or without) their start
            self._tool_start(ToolCallStart(index=event.index, id="", name=""), out)
            index = self._blocks[event.index]
        out.append(_DELTA_HEAD + str(index).encode() + b',"delta":{"type":"input_json_delta","partial_json":'
                   + _encode(event.arguments) + b"}}\n\n")
