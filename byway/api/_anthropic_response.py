"""Encoding a canonical ``ChatResponse`` as an Anthropic ``message`` object.

Choices made where the two models differ:

- Stop reasons map faithfully: ``tool_calls`` -> ``tool_use``, ``length`` -> ``max_tokens``,
  ``stop_sequence`` (with the sequence; when the provider does not say which one matched and the
  request gave just one, that one), ``content_filter``/``refusal`` -> ``refusal``,
  ``pause`` -> ``pause_turn``. An answer that calls tools but says it simply ended (some
  providers do) stops with ``tool_use``: that is what tells an Anthropic client to run them.
- ``usage.input_tokens`` is Anthropic's: the prompt *without* cache reads and writes (the
  canonical figure includes them), beside ``cache_read_input_tokens`` and
  ``cache_creation_input_tokens``.
- A tool call's arguments become the ``input`` object. Arguments that are not a JSON object
  (a provider wrote broken or truncated JSON) are never guessed at or dropped: ``input`` is
  ``{"byway_invalid_arguments": "<the text as written>"}``, which fails a client's schema
  check instead of running the tool with made-up arguments.
- An OpenAI-style refusal (``refusal`` text, no content) is given as a text block.
- An answer from an Anthropic upstream keeps its own ``usage`` object, its content blocks
  when some have no canonical form (server tools, citations...; not when it answered JSON
  through the adapter's JSON tool) and ``stop_details``, ``container`` and ``context_management``.
"""

from __future__ import annotations

import os
from typing import Any

import msgspec

from byway.core import ChatResponse, Part, StopReason, TextPart, ThinkingPart, ToolCallPart, Usage
from byway.providers.anthropic_request import JSON_TOOL

STOP_REASONS: dict[StopReason | None, str] = {
    "end": "end_turn",
    "stop_sequence": "stop_sequence",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
    "refusal": "refusal",
    "pause": "pause_turn",
    "error": "end_turn",
    None: "end_turn",
}
INVALID_ARGUMENTS = "byway_invalid_arguments"
_NATIVE_FIELDS = ("stop_details", "container", "context_management")
_encode = msgspec.json.encode
_decode = msgspec.json.decode


def new_message_id() -> str:
    return "msg_" + os.urandom(12).hex()


def message_id(upstream_id: str) -> str:
    """Anthropic's ``msg_`` id: the upstream's own when it has that form, else made from it."""
    if upstream_id.startswith("msg_"):
        return upstream_id
    return "msg_" + upstream_id if upstream_id else new_message_id()


def stop_reason(reason: StopReason | None, calls_tools: bool) -> str:
    if calls_tools and reason in (None, "end"):
        return "tool_use"
    return STOP_REASONS.get(reason, "end_turn")


def matched_stop(reason: str, said: str | None, stop: list[str] | None) -> str | None:
    """The ``stop_sequence`` value: what the provider said matched, else the request's only stop sequence."""
    if reason != "stop_sequence":
        return None
    if said is None and stop is not None and len(stop) == 1:
        return stop[0]
    return said


def usage_object(usage: Usage) -> dict[str, int]:
    cached, written = usage.cached_tokens, usage.cache_write_tokens
    return {
        "input_tokens": max(usage.input_tokens - cached - written, 0),
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": cached,
        "output_tokens": usage.output_tokens,
    }


def tool_input(arguments: str) -> dict[str, Any]:
    """The ``input`` object of a tool call whose arguments are ``arguments`` (see the module docstring)."""
    if not arguments or arguments.isspace():
        return {}
    try:
        value = _decode(arguments)
    except msgspec.DecodeError:
        value = None
    if isinstance(value, dict):
        return value
    return {INVALID_ARGUMENTS: arguments}


def content_blocks(parts: list[Part], refusal: str | None = None) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, TextPart):
            if part.text:
                blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ToolCallPart):
            blocks.append({"type": "tool_use", "id": part.id, "name": part.name, "input": tool_input(part.arguments)})
        elif isinstance(part, ThinkingPart):
            if part.redacted:
                blocks.append({"type": "redacted_thinking", "data": part.signature or ""})
            elif part.text or part.signature:
                blocks.append({"type": "thinking", "thinking": part.text, "signature": part.signature or ""})
    if refusal and not any(b["type"] == "text" for b in blocks):
        blocks.append({"type": "text", "text": refusal})
    return blocks


def message_object(response: ChatResponse, stop: list[str] | None = None) -> dict[str, Any]:
    """The ``message`` object; ``stop`` is the request's stop sequences."""
    native = response.extra if response.extra_family == "anthropic" and response.extra else None
    calls_tools = any(isinstance(p, ToolCallPart) for p in response.parts)
    reason = stop_reason(response.stop_reason, calls_tools)
    content = native.get("content") if native else None
    if isinstance(content, list) and any(b.get("name") == JSON_TOOL for b in content if isinstance(b, dict)):
        content = None  # a JSON answer given through the adapter's tool: the parts hold it as text
    usage = native.get("usage") if native else None
    body: dict[str, Any] = {
        "id": message_id(response.id),
        "type": "message",
        "role": "assistant",
        "model": response.model,
        "content": content if isinstance(content, list) else content_blocks(response.parts, response.refusal),
        "stop_reason": reason,
        "stop_sequence": matched_stop(reason, response.stop_sequence, stop),
        "usage": usage if isinstance(usage, dict) else usage_object(response.usage),
    }
    if native:
        body.update((k, native[k]) for k in _NATIVE_FIELDS if native.get(k) is not None)
    return body


def encode_response(response: ChatResponse, stop: list[str] | None = None) -> bytes:
    """The ``message`` JSON body Anthropic would have answered with (``stop``: the request's stop sequences)."""
    return _encode(message_object(response, stop))
