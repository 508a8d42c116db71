"""A Cohere v2 chat answer as a canonical ``ChatResponse``.

- ``message.content`` items: ``text`` is a ``TextPart``, ``thinking`` (reasoning models) a ``ThinkingPart``.
- ``message.tool_plan`` (what the model says it will do before calling tools) is a ``ThinkingPart`` ahead of
  the calls: it is the model reasoning, not an answer, so it stays out of the visible text.
- ``finish_reason``: COMPLETE is ``end``, STOP_SEQUENCE ``stop_sequence``, MAX_TOKENS ``length``, TOOL_CALL
  ``tool_calls``, ERROR and TIMEOUT ``error``.
- Usage is ``usage.billed_units``: what Cohere charges for. ``usage.tokens`` also counts Cohere's own
  preamble and special tokens and is not billed, so it is kept only in ``extra``. ``cached_tokens`` is left
  out of the canonical usage: Cohere counts it over the unbilled total (it can exceed the billed input) and
  bills cached tokens at the normal rate.
- Cohere does not name the model in its answer; ``model`` is whatever the caller passes in.
"""

from __future__ import annotations

from typing import Any

import msgspec

from byway.core import (
    ChatResponse,
    Part,
    StopReason,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    UpstreamUnavailableError,
    Usage,
)

FINISH_REASONS: dict[str, StopReason] = {
    "COMPLETE": "end",
    "STOP_SEQUENCE": "stop_sequence",
    "MAX_TOKENS": "length",
    "TOOL_CALL": "tool_calls",
    "ERROR": "error",
    "TIMEOUT": "error",
}


class WireUnits(msgspec.Struct):
    input_tokens: float | None = None
    output_tokens: float | None = None


class WireUsage(msgspec.Struct):
    billed_units: WireUnits | None = None
    tokens: WireUnits | None = None
    cached_tokens: float | None = None

    def to_usage(self) -> Usage:
        units = self.billed_units or self.tokens
        if units is None:
            return Usage()
        return Usage(input_tokens=int(units.input_tokens or 0), output_tokens=int(units.output_tokens or 0))


class _Function(msgspec.Struct):
    name: str | None = None
    arguments: str | None = None


class _ToolCall(msgspec.Struct):
    id: str | None = None
    function: _Function | None = None


class _Content(msgspec.Struct):
    type: str = "text"
    text: str | None = None
    thinking: str | None = None


class _Message(msgspec.Struct):
    content: list[_Content] | None = None
    tool_plan: str | None = None
    tool_calls: list[_ToolCall] | None = None
    citations: list[Any] | None = None


class _Answer(msgspec.Struct):
    id: str = ""
    finish_reason: str | None = None
    message: _Message | None = None
    usage: msgspec.Raw = msgspec.Raw()  # decoded twice: into WireUsage, and as it is for ``extra``
    logprobs: list[Any] | None = None


_ANSWER = msgspec.json.Decoder(_Answer)
_USAGE = msgspec.json.Decoder(WireUsage)


def finish_reason(reason: str | None) -> StopReason | None:
    if reason is None:
        return None
    return FINISH_REASONS.get(reason, "end")


def decode_usage(raw: msgspec.Raw) -> tuple[Usage, Any]:
    """The canonical usage and the usage object as Cohere sent it."""
    if not raw or bytes(raw) == b"null":
        return Usage(), None
    return _USAGE.decode(raw).to_usage(), msgspec.json.decode(raw)


def parse_answer(provider: str, body: bytes, model: str = "") -> ChatResponse:
    try:
        answer = _ANSWER.decode(body)
        usage, raw_usage = decode_usage(answer.usage)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UpstreamUnavailableError(f"{provider}: unreadable answer ({exc})", provider=provider,
                                       upstream_status=200) from exc
    message = answer.message or _Message()
    parts: list[Part] = []
    for item in message.content or ():
        if item.type == "thinking":
            if item.thinking:
                parts.append(ThinkingPart(text=item.thinking))
        elif item.text:
            parts.append(TextPart(item.text))
    if message.tool_plan:
        parts.append(ThinkingPart(text=message.tool_plan))
    for call in message.tool_calls or ():
        function = call.function or _Function()
        parts.append(ToolCallPart(id=call.id or "", name=function.name or "", arguments=function.arguments or "{}"))
    extra: dict[str, Any] = {}
    if raw_usage is not None:
        extra["usage"] = raw_usage
    if message.citations:
        extra["citations"] = message.citations
    if answer.logprobs:
        extra["logprobs"] = answer.logprobs
    return ChatResponse(
        id=answer.id,
        model=model,
        parts=parts,
        stop_reason=finish_reason(answer.finish_reason),
        usage=usage,
        extra=extra or None,
        extra_family="cohere" if extra else None,
    )
