"""An Ollama native ``/api/chat`` answer (or one line of its stream) as canonical values.

- ``message.thinking`` is a ``ThinkingPart``, ``message.content`` a ``TextPart``; ``message.tool_calls`` arrive
  whole, with ``arguments`` as an object (re-encoded as compact JSON text) and usually without an id, so one
  is made up (``call_`` + 24 hex digits).
- ``done_reason``: ``stop`` is ``end`` (``tool_calls`` when the answer calls tools), ``length`` is ``length``.
- Usage: ``prompt_eval_count`` in, ``eval_count`` out (only in the final, ``done`` object).
- Ollama gives no response id; ``created`` comes from ``created_at`` (RFC 3339 with nanoseconds).
- An ``{"error": "..."}`` body is an error even under status 200.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec

from byway.core import (
    ChatResponse,
    Part,
    ProviderError,
    StopReason,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    UpstreamUnavailableError,
    Usage,
)
from byway.providers.errors import error_for_status

DONE_REASONS: dict[str, StopReason] = {"stop": "end", "length": "length", "load": "end", "unload": "end"}


class WireFunction(msgspec.Struct):
    name: str = ""
    arguments: Any = None  # an object; some servers send JSON text


class WireToolCall(msgspec.Struct):
    function: WireFunction
    id: str | None = None  # newer servers number their calls


class WireMessage(msgspec.Struct):
    content: str | None = None
    thinking: str | None = None
    tool_calls: list[WireToolCall] | None = None


class WireChunk(msgspec.Struct):
    """A whole answer, or one line of a stream."""

    model: str = ""
    created_at: str | None = None
    message: WireMessage | None = None
    done: bool = False
    done_reason: str | None = None
    prompt_eval_count: int | None = None
    eval_count: int | None = None
    error: str | None = None

    def usage(self) -> Usage:
        return Usage(input_tokens=self.prompt_eval_count or 0, output_tokens=self.eval_count or 0)


CHUNK = msgspec.json.Decoder(WireChunk)


def decode_chunk(provider: str, data: bytes) -> WireChunk:
    try:
        chunk = CHUNK.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UpstreamUnavailableError(f"{provider}: unreadable answer ({exc})", provider=provider,
                                       upstream_status=200) from exc
    if chunk.error is not None:
        raise error_in_answer(provider, chunk.error)
    return chunk


def error_in_answer(provider: str, message: str) -> ProviderError:
    """An ``{"error": ...}`` found in a 200 answer or a stream line."""
    lowered = message.lower()
    missing = "model" in lowered and "not found" in lowered
    return error_for_status(provider, 500, message or "error in stream", model_missing=missing)


def new_tool_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


def arguments_text(arguments: Any) -> str:
    if arguments is None:
        return "{}"
    if isinstance(arguments, str):
        return arguments or "{}"
    return msgspec.json.encode(arguments).decode()


def created_seconds(created_at: str | None) -> int:
    """Epoch seconds of an RFC 3339 time; nanosecond fractions are cut to what ``datetime`` reads."""
    if not created_at:
        return 0
    text = created_at.replace("Z", "+00:00")
    dot = text.find(".")
    if dot >= 0:
        end = dot + 1
        while end < len(text) and text[end].isdigit():
            end += 1
        text = text[:dot + 1] + text[dot + 1:end][:6] + text[end:]
    try:
        return int(datetime.fromisoformat(text).timestamp())
    except ValueError:
        return 0


def stop_reason(done_reason: str | None, tool_calls: bool) -> StopReason:
    if tool_calls:
        return "tool_calls"
    return DONE_REASONS.get(done_reason or "stop", "end")


def tool_parts(calls: list[WireToolCall]) -> list[ToolCallPart]:
    return [ToolCallPart(id=call.id or new_tool_call_id(), name=call.function.name,
                         arguments=arguments_text(call.function.arguments)) for call in calls]


def parse_chat_answer(provider: str, body: bytes) -> ChatResponse:
    chunk = decode_chunk(provider, body)
    message = chunk.message or WireMessage()
    parts: list[Part] = []
    if message.thinking:
        parts.append(ThinkingPart(text=message.thinking))
    if message.content:
        parts.append(TextPart(message.content))
    calls = tool_parts(message.tool_calls or [])
    parts.extend(calls)
    kwargs: dict[str, Any] = {}
    created = created_seconds(chunk.created_at)
    if created:
        kwargs["created"] = created
    return ChatResponse(id="", model=chunk.model, parts=parts, stop_reason=stop_reason(chunk.done_reason, bool(calls)),
                        usage=chunk.usage(), **kwargs)
