"""An Anthropic Messages response as a canonical ``ChatResponse``."""

from __future__ import annotations

from collections.abc import Mapping
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
from byway.providers.anthropic_errors import STATUS_BY_TYPE, anthropic_error
from byway.providers.anthropic_request import JSON_TOOL

STOP_REASONS: dict[str, StopReason] = {
    "end_turn": "end",
    "stop_sequence": "stop_sequence",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "refusal",
    "pause_turn": "pause",
}

# Fields of the message worth handing back to an Anthropic client as they are.
_EXTRA_FIELDS = ("stop_details", "container", "context_management")
_CANONICAL_BLOCKS = frozenset(("text", "tool_use", "thinking", "redacted_thinking"))


def stop_reason(reason: str | None, real_tool_calls: bool) -> StopReason | None:
    """The canonical stop reason; a ``tool_use`` stop with only the JSON-mode tool called is a plain end."""
    if reason is None:
        return None
    if reason == "tool_use" and not real_tool_calls:
        return "end"
    return STOP_REASONS.get(reason, "end")


def make_usage(input_tokens: int, output_tokens: int, cache_read: int, cache_write: int, reasoning: int) -> Usage:
    """Canonical usage. Anthropic's ``input_tokens`` leaves out cache reads and writes; ours is the whole prompt."""
    return Usage(input_tokens=input_tokens + cache_read + cache_write, output_tokens=output_tokens,
                 cached_tokens=cache_read, cache_write_tokens=cache_write, reasoning_tokens=reasoning)


def usage_from(raw: Mapping[str, Any]) -> Usage:
    details = raw.get("output_tokens_details")
    reasoning = (details.get("thinking_tokens") or 0) if isinstance(details, dict) else 0
    return make_usage(raw.get("input_tokens") or 0, raw.get("output_tokens") or 0,
                      raw.get("cache_read_input_tokens") or 0, raw.get("cache_creation_input_tokens") or 0, reasoning)


def parse_message(provider: str, body: bytes) -> ChatResponse:
    try:
        message = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise UpstreamUnavailableError(f"{provider}: unreadable response ({exc})", provider=provider,
                                       upstream_status=200) from exc
    if not isinstance(message, dict):
        raise UpstreamUnavailableError(f"{provider}: unexpected response", provider=provider, upstream_status=200)
    if message.get("type") == "error":
        error = message.get("error") or {}
        raise anthropic_error(provider, STATUS_BY_TYPE.get(error.get("type", ""), 500), {}, body)

    parts: list[Part] = []
    real_tools = False
    native = False  # blocks with no canonical form (server tools, citations, compaction...)
    content = message.get("content") or []
    for block in content:
        kind = block.get("type")
        if kind == "text":
            parts.append(TextPart(block.get("text") or ""))
            native = native or bool(block.get("citations"))
        elif kind == "tool_use":
            arguments = msgspec.json.encode(block.get("input") or {}).decode()
            if block.get("name") == JSON_TOOL:
                parts.append(TextPart(arguments))
            else:
                real_tools = True
                parts.append(ToolCallPart(id=block.get("id") or "", name=block.get("name") or "", arguments=arguments))
        elif kind == "thinking":
            parts.append(ThinkingPart(text=block.get("thinking") or "", signature=block.get("signature") or None))
        elif kind == "redacted_thinking":
            parts.append(ThinkingPart(signature=block.get("data") or None, redacted=True))
        if kind not in _CANONICAL_BLOCKS:
            native = True

    raw_usage = message.get("usage") or {}
    extra: dict[str, Any] = {k: message[k] for k in _EXTRA_FIELDS if message.get(k) is not None}
    if raw_usage:
        extra["usage"] = raw_usage
    if native:
        extra["content"] = content
    return ChatResponse(
        id=message.get("id") or "",
        model=message.get("model") or "",
        parts=parts,
        stop_reason=stop_reason(message.get("stop_reason"), real_tools),
        stop_sequence=message.get("stop_sequence"),
        usage=usage_from(raw_usage),
        extra=extra or None,
        extra_family="anthropic",
    )
