"""Canonical ``ChatRequest`` -> an OpenAI Chat Completions request body (a dict, encoded once by the caller)."""

from __future__ import annotations

import hashlib
from typing import Any

from byway.core import (
    ChatRequest,
    ImagePart,
    Message,
    ResponseFormat,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)
from byway.providers.openai_quirks import Quirks

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_IMAGES_ONLY_RESULT = "(the result is the image in the next message)"


def mistral_tool_id(tool_id: str) -> str:
    """Mistral accepts only ids of exactly 9 ASCII letters and digits; map any other id onto one, the
    same way every time, so an assistant's tool call and the tool's answer still match."""
    if len(tool_id) == 9 and tool_id.isascii() and tool_id.isalnum():
        return tool_id
    number = int.from_bytes(hashlib.sha256(tool_id.encode()).digest()[:8], "big")
    chars = []
    for _ in range(9):
        number, digit = divmod(number, 62)
        chars.append(_BASE62[digit])
    return "".join(chars)


def build_body(request: ChatRequest, quirks: Quirks) -> dict[str, Any]:
    body: dict[str, Any] = {"model": request.model, "messages": encode_messages(request.messages, quirks)}
    if request.tools:
        body["tools"] = [encode_tool(tool) for tool in request.tools]
        if request.parallel_tool_calls is not None:  # OpenAI refuses it without tools
            body["parallel_tool_calls"] = request.parallel_tool_calls
    if request.tool_choice is not None:
        body["tool_choice"] = encode_tool_choice(request.tool_choice, quirks)
    if request.response_format is not None:
        body["response_format"] = encode_response_format(request.response_format)
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.max_tokens is not None:
        body[quirks.max_tokens_field] = request.max_tokens
    if request.stop:
        body["stop"] = request.stop
    if request.seed is not None:
        body[quirks.seed_field] = request.seed
    if request.user is not None:
        body["user"] = request.user
    if request.metadata and quirks.metadata:
        body["metadata"] = request.metadata
    if request.reasoning_effort is not None:
        body["reasoning_effort"] = request.reasoning_effort
    for name in quirks.dropped:
        body.pop(name, None)
    body["stream"] = request.stream
    if request.stream and quirks.stream_usage_option:
        body["stream_options"] = {"include_usage": True}
    if request.extra and request.extra_family == "openai":
        for key, value in request.extra.items():
            body.setdefault(key, value)
    return body


def encode_tool(tool: Tool) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name}
    if tool.description is not None:
        function["description"] = tool.description
    function["parameters"] = tool.parameters
    if tool.strict is not None:
        function["strict"] = tool.strict
    return {"type": "function", "function": function}


def encode_tool_choice(choice: ToolChoice, quirks: Quirks) -> str | dict[str, Any]:
    if choice.mode == "tool":
        return {"type": "function", "function": {"name": choice.name or ""}}
    if choice.mode == "required":
        return quirks.required_tool_choice
    return choice.mode


def encode_response_format(fmt: ResponseFormat) -> dict[str, Any]:
    if fmt.type != "json_schema":
        return {"type": fmt.type}
    schema: dict[str, Any] = {"name": fmt.name or "response"}
    if fmt.description is not None:
        schema["description"] = fmt.description
    schema["schema"] = fmt.schema if fmt.schema is not None else {"type": "object"}
    if fmt.strict is not None:
        schema["strict"] = fmt.strict
    return {"type": "json_schema", "json_schema": schema}


def encode_messages(messages: list[Message], quirks: Quirks) -> list[dict[str, Any]]:
    """OpenAI wants every tool answer as its own ``tool`` message right after the assistant's calls, with
    text content only; images a tool returned follow in one ``user`` message after that run of answers."""
    out: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    for message in messages:
        others: list[Any] = []
        for part in message.parts:
            if isinstance(part, ToolResultPart):
                out.append(_tool_message(part, quirks))
                images.extend(_image(p) for p in part.content if isinstance(p, ImagePart))
            else:
                others.append(part)
        if message.role == "tool" or (not others and len(message.parts) > 0):
            continue
        if images:
            out.append({"role": "user", "content": images})
            images = []
        out.append(_message(message, others, quirks))
    if images:
        out.append({"role": "user", "content": images})
    return out


def _tool_message(result: ToolResultPart, quirks: Quirks) -> dict[str, Any]:
    text = result.text
    if not text and any(isinstance(p, ImagePart) for p in result.content):
        text = _IMAGES_ONLY_RESULT
    tool_call_id = mistral_tool_id(result.tool_call_id) if quirks.mistral_tool_ids else result.tool_call_id
    return {"role": "tool", "tool_call_id": tool_call_id, "content": text}


def _image(part: ImagePart) -> dict[str, Any]:
    image: dict[str, Any] = {"url": part.data_url}
    if part.detail:
        image["detail"] = part.detail
    return {"type": "image_url", "image_url": image}


def _message(message: Message, parts: list[Any], quirks: Quirks) -> dict[str, Any]:
    role = message.role
    if role == "assistant":
        out = _assistant(parts, quirks)
    elif role in ("system", "developer"):
        if role == "developer" and not quirks.developer_role:
            role = "system"
        out = {"role": role, "content": "".join(p.text for p in parts if isinstance(p, TextPart))}
    else:
        out = {"role": role, "content": _user_content(parts)}
    if message.name and quirks.message_names:
        out["name"] = message.name
    return out


def _user_content(parts: list[Any]) -> str | list[dict[str, Any]]:
    if not parts:
        return ""
    if len(parts) == 1 and isinstance(parts[0], TextPart):
        return parts[0].text
    content: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            content.append(_image(part))
    return content or ""


def _assistant(parts: list[Any], quirks: Quirks) -> dict[str, Any]:
    text = "".join(p.text for p in parts if isinstance(p, TextPart))
    calls = [
        {
            "id": mistral_tool_id(p.id) if quirks.mistral_tool_ids else p.id,
            "type": "function",
            "function": {"name": p.name, "arguments": p.arguments},
        }
        for p in parts
        if isinstance(p, ToolCallPart)
    ]
    out: dict[str, Any] = {"role": "assistant"}
    if text or not calls:
        out["content"] = text
    if calls:
        out["tool_calls"] = calls
    if quirks.reasoning_history:
        thinking = [p.text for p in parts if isinstance(p, ThinkingPart) and not p.redacted]
        if thinking or calls:
            out["reasoning_content"] = "".join(thinking)
    return out
