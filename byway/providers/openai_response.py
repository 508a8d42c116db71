"""An OpenAI-style Chat Completions answer body -> canonical ``ChatResponse``."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from byway.core import ChatResponse, Part, StopReason, TextPart, ThinkingPart, ToolCallPart, UpstreamUnavailableError
from byway.providers.openai_errors import error_in_payload
from byway.providers.openai_wire import WireCompletion, WireMessage, arguments_text, chunk_texts, completion_decoder

_STOP_REASONS: dict[str, StopReason] = {
    "stop": "end",
    "eos": "end",
    "end_turn": "end",
    "length": "length",
    "max_tokens": "length",
    "model_length": "length",  # Mistral: the context window is full
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "tool_use": "tool_calls",
    "content_filter": "content_filter",
    "error": "error",
    "insufficient_system_resource": "error",  # DeepSeek
}


def stop_reason(finish_reason: str | None, *, tool_calls: bool, refusal: bool) -> StopReason | None:
    """Canonical stop reason. A turn with tool calls is ``tool_calls`` whatever the provider said (some say
    ``stop``); an OpenAI refusal arrives with ``stop`` and is reported as ``refusal``."""
    if tool_calls:
        return "tool_calls"
    if finish_reason is None:
        return "refusal" if refusal else None
    reason = _STOP_REASONS.get(finish_reason, "end")
    return "refusal" if refusal and reason == "end" else reason


def new_tool_call_id() -> str:
    """For servers that leave a tool call's id out (some OpenAI-compatible ones do)."""
    return f"call_{uuid.uuid4().hex[:24]}"


def decode_completion(provider: str, body: bytes) -> WireCompletion:
    try:
        return completion_decoder.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise UpstreamUnavailableError(f"{provider}: unreadable answer ({exc})", provider=provider,
                                       upstream_status=200) from exc


def parse_completion(provider: str, body: bytes) -> ChatResponse:
    completion = decode_completion(provider, body)
    if completion.error is not None and not completion.choices:
        raise error_in_payload(provider, completion.error)
    choice = completion.first_choice()
    message = choice.message if choice is not None else None
    parts = message_parts(message) if message is not None else []
    refusal = message.refusal if message is not None else None
    has_calls = any(isinstance(p, ToolCallPart) for p in parts)
    wire_usage = completion.wire_usage()
    extra: dict[str, Any] = {}
    if completion.system_fingerprint is not None:
        extra["system_fingerprint"] = completion.system_fingerprint
    if completion.service_tier is not None:
        extra["service_tier"] = completion.service_tier
    if choice is not None and choice.logprobs is not None:
        extra["logprobs"] = choice.logprobs
    kwargs: dict[str, Any] = {"created": int(completion.created)} if completion.created else {}
    if wire_usage is not None:
        kwargs["usage"] = wire_usage.to_usage()
    return ChatResponse(
        id=completion.id or "",
        model=completion.model or "",
        parts=parts,
        stop_reason=stop_reason(choice.finish_reason if choice else None, tool_calls=has_calls,
                                refusal=bool(refusal)),
        refusal=refusal or None,
        extra=extra or None,
        extra_family="openai" if extra else None,
        **kwargs,
    )


def message_parts(message: WireMessage) -> list[Part]:
    """Thinking first, then text, then tool calls: the order the model produced them in."""
    thinking = message.reasoning_content or message.reasoning or ""
    content = message.content
    if isinstance(content, list):
        chunk_thinking, text = chunk_texts(content)
        thinking = thinking or chunk_thinking
    else:
        text = content or ""
    parts: list[Part] = []
    if thinking:
        parts.append(ThinkingPart(text=thinking))
    if text:
        parts.append(TextPart(text))
    for call in message.tool_calls or ():
        function = call.function
        parts.append(ToolCallPart(
            id=call.id or new_tool_call_id(),
            name=(function.name if function else None) or "",
            arguments=(arguments_text(function.arguments) if function else "") or "{}",
        ))
    return parts
