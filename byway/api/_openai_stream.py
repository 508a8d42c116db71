"""Encoding a provider stream as OpenAI ``chat.completion.chunk`` server-sent events.

A chunk differs from the last one only in its ``delta`` and ``finish_reason``, so
the bytes around them are built once per stream and each event encodes just
its delta.
"""

from __future__ import annotations

import re
import time

import msgspec

from byway.api._openai_response import FINISH_REASONS, new_completion_id, usage_object
from byway.api.errors import openai_error_object
from byway.core import (
    ByWayError,
    ChatRequest,
    Finish,
    RefusalDelta,
    StreamEvent,
    StreamStart,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallStart,
    Usage,
    UsageReport,
)
from byway.providers.base import Frame

DONE = b"data: [DONE]\n\n"
_EMPTY_CHOICES = re.compile(rb'"choices"\s*:\s*\[\s*\]')
_DONE_LINE = re.compile(rb"^data: ?\[DONE\]\s*$", re.MULTILINE)
_OPEN_TAIL = b',"logprobs":null,"finish_reason":null}]}\n\n'
_ROLE_DELTA = b'{"role":"assistant","content":"","refusal":null}'
_encode = msgspec.json.encode


class StreamEncoder:
    """One per streamed request: turns each provider ``Frame`` into the bytes the client receives.

    With ``passthrough`` (the provider speaks OpenAI's format too) frames go out as they came, except a
    usage-only chunk the client did not ask for; otherwise the canonical events are encoded afresh.
    """

    __slots__ = ("_closed", "_created", "_done_sent", "_finished", "_head", "_id", "_include_usage", "_model",
                 "_passthrough", "_prefix", "_started", "_tool_index", "_usage", "_usage_seen", "_usage_sent")

    def __init__(self, request: ChatRequest, *, passthrough: bool) -> None:
        self._passthrough = passthrough
        self._include_usage = request.include_usage
        self._id = ""
        self._model = request.model
        self._created = 0
        self._head = b""  # data: {"id":..,"object":..,"created":..,"model":..
        self._prefix = b""  # _head + ,"choices":[{"index":0,"delta":
        self._started = False  # the first (role) chunk went out
        self._tool_index: dict[int, int] = {}  # canonical part index -> OpenAI tool call index
        self._usage = Usage()
        self._usage_seen = False
        self._usage_sent = False
        self._done_sent = False
        self._finished = False
        self._closed = False

    # -- public ------------------------------------------------------------------------------------------------------

    def frame(self, frame: Frame) -> bytes:
        if self._closed:
            return b""
        if self._passthrough:
            return self._pass(frame)
        events = frame.events
        if len(events) == 1:
            return self._event(events[0])
        return b"".join([self._event(e) for e in events])

    def end(self, usage: Usage | None = None) -> bytes:
        """What closes the stream: the usage chunk if the client asked for one, then ``[DONE]``.

        ``usage`` overrides what the stream reported (for example an estimate when it reported nothing)."""
        if self._closed:
            return b""
        self._closed = True
        if self._done_sent:
            return b""
        out = b""
        if usage is not None:
            self._usage, self._usage_seen = usage, True
        if self._include_usage and self._usage_seen and not self._usage_sent:
            out += self._usage_chunk()
        return out + DONE

    def error(self, err: ByWayError) -> bytes:
        """The in-stream error line; nothing follows it."""
        if self._closed:
            return b""
        self._closed = True
        return b"data: " + _encode(openai_error_object(err)) + b"\n\n"

    # -- passthrough -------------------------------------------------------------------------------------------------

    def _pass(self, frame: Frame) -> bytes:
        raw = frame.raw
        if len(raw) < 32 and _DONE_LINE.search(raw):
            self._done_sent = True
            return raw
        has_usage, usage_only = False, True
        for event in frame.events:
            if isinstance(event, UsageReport):
                self._usage = self._usage.merge(event.usage)
                self._usage_seen = has_usage = True
                continue
            usage_only = False
            if isinstance(event, StreamStart) and not self._id:
                self._take_start(event)
        if has_usage:
            if not self._include_usage and usage_only and _EMPTY_CHOICES.search(raw):
                return b""
            self._usage_sent = True
        return raw

    # -- encoding ----------------------------------------------------------------------------------------------------

    def _take_start(self, start: StreamStart) -> None:
        self._id = start.id
        self._model = start.model or self._model
        self._created = start.created

    def _ensure_prefix(self) -> None:
        if not self._id:
            self._id = new_completion_id()
        if not self._created:
            self._created = int(time.time())
        self._head = (b'data: {"id":' + _encode(self._id) + b',"object":"chat.completion.chunk","created":'
                      + str(self._created).encode() + b',"model":' + _encode(self._model))
        self._prefix = self._head + b',"choices":[{"index":0,"delta":'

    def _role_chunk(self) -> bytes:
        if not self._prefix:
            self._ensure_prefix()
        self._started = True
        return self._prefix + _ROLE_DELTA + _OPEN_TAIL

    def _chunk(self, delta: bytes) -> bytes:
        lead = b"" if self._started else self._role_chunk()
        return lead + self._prefix + delta + _OPEN_TAIL

    def _usage_chunk(self) -> bytes:
        if not self._head:
            self._ensure_prefix()
        self._usage_sent = True
        return self._head + b',"choices":[],"usage":' + _encode(usage_object(self._usage)) + b"}\n\n"

    def _event(self, event: StreamEvent) -> bytes:
        if isinstance(event, TextDelta):
            return self._chunk(b'{"content":' + _encode(event.text) + b"}") if event.text else b""
        if isinstance(event, ToolCallDelta):
            index = self._tool_index.get(event.index)
            if index is None:
                index = self._tool_index[event.index] = len(self._tool_index)
            call = {"index": index, "function": {"arguments": event.arguments}}
            return self._chunk(b'{"tool_calls":[' + _encode(call) + b"]}")
        if isinstance(event, ToolCallStart):
            index = self._tool_index[event.index] = len(self._tool_index)
            call = {"index": index, "id": event.id, "type": "function",
                    "function": {"name": event.name, "arguments": ""}}
            return self._chunk(b'{"tool_calls":[' + _encode(call) + b"]}")
        if isinstance(event, ThinkingDelta):
            if not event.text or event.redacted:
                return b""
            return self._chunk(b'{"reasoning_content":' + _encode(event.text) + b"}")
        if isinstance(event, RefusalDelta):
            return self._chunk(b'{"refusal":' + _encode(event.text) + b"}") if event.text else b""
        if isinstance(event, UsageReport):
            self._usage = self._usage.merge(event.usage)
            self._usage_seen = True
            return b""
        if isinstance(event, Finish):
            if self._finished:
                return b""
            self._finished = True
            reason = FINISH_REASONS.get(event.stop_reason, "stop")
            lead = b"" if self._started else self._role_chunk()
            return lead + self._prefix + b'{},"logprobs":null,"finish_reason":"' + reason.encode() + b'"}]}\n\n'
        if isinstance(event, StreamStart):
            if not self._prefix:
                self._take_start(event)
                return self._role_chunk()
        return b""
