"""Decoding and checking a Cohere v2 chat request into the brain's ``Ask``.

Checks as the real API makes them (every failure a 400 ``{"message": "invalid request: ..."}``): unknown
fields, a model and a non-empty ``messages`` list, the four roles, user content as a string or ``text`` /
``image_url`` items, assistant turns with content or tool calls, tool messages with a ``tool_call_id`` that
answers a call of an earlier assistant turn, ``tool_choice`` only ``REQUIRED`` or ``NONE`` and only with
tools, ``response_format`` ``text`` or ``json_object``, ``p`` within 0.01..0.99, at most 5 stop sequences.
A model whose name contains ``reasoning`` thinks first (a ``thinking`` content item).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec

from byway.mock.brain import Ask, Image, Tool, ToolCall, ToolResult, Turn
from byway.mock.media import image_from_url
from byway.mock.problem import Problem, bad_request

KNOWN_PARAMS = frozenset({
    "model", "messages", "tools", "strict_tools", "documents", "citation_options", "response_format", "safety_mode",
    "max_tokens", "stop_sequences", "temperature", "seed", "frequency_penalty", "presence_penalty", "k", "p",
    "logprobs", "tool_choice", "thinking", "priority", "stream",
})
_ROLES = ("system", "user", "assistant", "tool")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_STOPS = 5


@dataclass(slots=True)
class CohereChat:
    ask: Ask
    stream: bool


def invalid(message: str) -> Problem:
    return bad_request(f"invalid request: {message}")


def decode_json(raw: bytes) -> Any:
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise invalid("the body is not valid JSON") from None


def decode_chat(raw: bytes) -> CohereChat:
    body = decode_json(raw)
    if not isinstance(body, dict):
        raise invalid("the body must be a JSON object")
    for key in body:
        if key not in KNOWN_PARAMS:
            raise invalid(f"unknown field: parameter {key} is not a valid field")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("model must be a non-empty string")
    turns = _messages(body.get("messages"))
    tools = _tools(body.get("tools"))
    choice = _tool_choice(body.get("tool_choice"), tools)
    json_mode, schema = _response_format(body.get("response_format"))
    _check_p(body.get("p"))
    ask = Ask(model=model, turns=turns, tools=tools, tool_choice=choice, json_mode=json_mode, json_schema=schema,
              stop=_stops(body.get("stop_sequences")), max_tokens=_max_tokens(body.get("max_tokens")),
              reasoning="reasoning" in model and _thinking_on(body.get("thinking")))
    return CohereChat(ask=ask, stream=body.get("stream") is True)


def _messages(value: Any) -> list[Turn]:
    if not isinstance(value, list) or not value:
        raise invalid("messages must be a non-empty list")
    turns: list[Turn] = []
    answerable: set[str] = set()
    for i, msg in enumerate(value):
        if not isinstance(msg, dict) or msg.get("role") not in _ROLES:
            raise invalid(f"messages[{i}]: role must be one of system, user, assistant, tool")
        turn = _message(msg, i)
        if turn.role == "tool":
            call_id = turn.tool_results[0].call_id
            if call_id not in answerable:
                raise invalid(f"messages[{i}]: tool_call_id {call_id!r} does not match any tool call")
        else:
            answerable |= {call.id for call in turn.tool_calls}
        turns.append(turn)
    return turns


def _message(msg: dict[str, Any], i: int) -> Turn:
    role = msg["role"]
    content = msg.get("content")
    if role == "tool":
        call_id = msg.get("tool_call_id")
        if not isinstance(call_id, str) or not call_id:
            raise invalid(f"messages[{i}]: tool messages need a tool_call_id")
        return Turn(role="tool", tool_results=[ToolResult(call_id=call_id, content=_tool_content(content, i))])
    if role == "assistant":
        calls = _tool_calls(msg.get("tool_calls"), i)
        parts = _assistant_content(content, i) if content is not None else []
        if not parts and not calls:
            raise invalid(f"messages[{i}]: assistant messages need content or tool_calls")
        return Turn(role="assistant", content=parts, tool_calls=calls)
    if content is None:
        raise invalid(f"messages[{i}]: content is required")
    return Turn(role=role, content=_content(content, i, role))


def _content(content: Any, i: int, role: str) -> list[str | Image]:
    if isinstance(content, str):
        return [content]
    if not isinstance(content, list):
        raise invalid(f"messages[{i}]: content must be a string or a list of content items")
    parts: list[str | Image] = []
    for j, item in enumerate(content):
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "text" and isinstance(item.get("text"), str):
            parts.append(item["text"])
        elif kind == "image_url" and role == "user":
            spec = item.get("image_url")
            url = spec.get("url") if isinstance(spec, dict) else None
            image = image_from_url(url) if isinstance(url, str) else None
            if image is None:
                raise invalid(f"messages[{i}].content[{j}]: image_url.url must be a data URI or a web URL")
            parts.append(image)
        else:
            raise invalid(f"messages[{i}].content[{j}]: unsupported content type {kind!r}")
    return parts


def _assistant_content(content: Any, i: int) -> list[str | Image]:
    if isinstance(content, str):
        return [content] if content else []
    if not isinstance(content, list):
        raise invalid(f"messages[{i}]: content must be a string or a list of content items")
    parts: list[str | Image] = []
    for j, item in enumerate(content):
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "text" and isinstance(item.get("text"), str):
            parts.append(item["text"])
        elif kind != "thinking" or not isinstance(item.get("thinking"), str):
            raise invalid(f"messages[{i}].content[{j}]: assistant content items are text or thinking")
    return parts


def _tool_content(content: Any, i: int) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise invalid(f"messages[{i}]: tool content must be a string or a list of text or document items")
    texts = []
    for j, item in enumerate(content):
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "text" and isinstance(item.get("text"), str):
            texts.append(item["text"])
        elif kind == "document" and isinstance(item.get("document"), dict):
            texts.append(msgspec.json.encode(item["document"].get("data")).decode())
        else:
            raise invalid(f"messages[{i}].content[{j}]: tool content items are text or document")
    return " ".join(texts)


def _tool_calls(value: Any, i: int) -> list[ToolCall]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(f"messages[{i}]: tool_calls must be a list")
    calls = []
    for j, call in enumerate(value):
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(call.get("id"), str) or not isinstance(fn.get("name"), str):
            raise invalid(f"messages[{i}].tool_calls[{j}]: id and function.name are required")
        arguments = fn.get("arguments", "")
        if not isinstance(arguments, str):
            raise invalid(f"messages[{i}].tool_calls[{j}]: function.arguments must be a JSON string")
        calls.append(ToolCall(id=call["id"], name=fn["name"], arguments=arguments))
    return calls


def _tools(value: Any) -> list[Tool]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid("tools must be a list")
    tools = []
    for i, tool in enumerate(value):
        fn = tool.get("function") if isinstance(tool, dict) else None
        name = fn.get("name") if isinstance(fn, dict) else None
        if not isinstance(name, str) or not _TOOL_NAME.match(name):
            raise invalid(f"tools[{i}]: function.name must match ^[a-zA-Z0-9_-]{{1,64}}$")
        params = fn.get("parameters")
        if not isinstance(params, dict):
            raise invalid(f"tools[{i}]: function.parameters is required")
        tools.append(Tool(name=name, description=fn.get("description") or "", schema=params))
    return tools


def _tool_choice(value: Any, tools: list[Tool]) -> str:
    if value is None:
        return "auto"
    if value not in ("REQUIRED", "NONE"):
        raise invalid(f"tool_choice must be one of REQUIRED, NONE, got {value!r}")
    if not tools:
        raise invalid("tool_choice requires tools to be specified")
    return "required" if value == "REQUIRED" else "none"


def _response_format(value: Any) -> tuple[bool, dict[str, Any] | None]:
    if value is None:
        return False, None
    kind = value.get("type") if isinstance(value, dict) else None
    if kind == "text":
        return False, None
    if kind != "json_object":
        raise invalid(f"response_format.type must be text or json_object, got {kind!r}")
    schema = value.get("json_schema")
    if schema is not None and not isinstance(schema, dict):
        raise invalid("response_format.json_schema must be an object")
    return True, schema


def _check_p(value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.01 <= value <= 0.99:
        raise invalid(f"p must be between 0.01 and 0.99, got {value!r}")


def _stops(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_STOPS or not all(isinstance(s, str) for s in value):
        raise invalid(f"stop_sequences must be a list of at most {MAX_STOPS} strings")
    return value


def _max_tokens(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid(f"max_tokens must be a positive integer, got {value!r}")
    return value


def _thinking_on(value: Any) -> bool:
    return not (isinstance(value, dict) and value.get("type") == "disabled")
