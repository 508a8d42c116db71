"""Encoding a canonical ``ChatResponse`` as an OpenAI ``chat.completion`` object."""

from __future__ import annotations

import os
from typing import Any

import msgspec

from byway.core import ChatResponse, TextPart, ThinkingPart, ToolCallPart, Usage

# Canonical stop reason -> OpenAI finish_reason. OpenAI itself finishes a refusal with "stop" (the refusal
# text is in ``message.refusal``); "content_filter" is for answers its safety filter cut.
FINISH_REASONS: dict[str | None, str] = {
    "end": "stop",
    "stop_sequence": "stop",
    "pause": "stop",
    "refusal": "stop",
    "error": "stop",
    None: "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
}

_RESERVED = frozenset({"id", "object", "created", "model", "choices", "usage", "logprobs"})
_encode = msgspec.json.encode


def new_completion_id() -> str:
    return "chatcmpl-" + os.urandom(12).hex()


def usage_object(usage: Usage) -> dict[str, Any]:
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }


def _message(response: ChatResponse) -> dict[str, Any]:
    texts: list[str] = []
    thinking: list[str] = []
    calls: list[dict[str, Any]] = []
    for part in response.parts:
        if isinstance(part, TextPart):
            texts.append(part.text)
        elif isinstance(part, ToolCallPart):
            calls.append({"id": part.id, "type": "function",
                          "function": {"name": part.name, "arguments": part.arguments}})
        elif isinstance(part, ThinkingPart) and part.text:
            thinking.append(part.text)
    content: str | None = "".join(texts) if texts else None
    if content is None and not calls and response.refusal is None:
        content = ""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": response.refusal,
                               "annotations": []}
    if calls:
        message["tool_calls"] = calls
    if thinking:
        message["reasoning_content"] = "".join(thinking)
    return message


def encode_response(response: ChatResponse) -> bytes:
    """The ``chat.completion`` JSON body OpenAI would have answered with."""
    extra = response.extra if response.extra_family == "openai" and response.extra else None
    choice = {
        "index": 0,
        "message": _message(response),
        "logprobs": extra.get("logprobs") if extra else None,
        "finish_reason": FINISH_REASONS.get(response.stop_reason, "stop"),
    }
    body: dict[str, Any] = {
        "id": response.id or new_completion_id(),
        "object": "chat.completion",
        "created": response.created,
        "model": response.model,
        "choices": [choice],
        "usage": usage_object(response.usage),
    }
    if extra:
        body.update((k, v) for k, v in extra.items() if k not in _RESERVED)
    return _encode(body)
