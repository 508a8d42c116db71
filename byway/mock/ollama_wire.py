"""Decoding and checking an Ollama native ``/api/chat`` request into the brain's ``Ask``.

Checks as Ollama (a Go server) makes them, each a 400 ``{"error": "..."}``: a ``model``; ``messages`` a list
of objects with one of the four roles and string ``content`` (a list is Go's ``cannot unmarshal array``
error); ``images`` valid base64; tool call ``arguments`` an object (a JSON string is refused, as Ollama
refuses it); ``format`` ``""``, ``"json"`` or a schema object; ``options`` of the right types; ``think`` a
boolean or an effort level. Unknown fields are ignored, as Go ignores them. Tool results name their tool
with ``tool_name`` (Ollama's calls carry no id), and the brain quotes them by that name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from byway.mock.brain import Ask, Image, Tool, ToolCall, ToolResult, Turn
from byway.mock.media import base64_size
from byway.mock.problem import Problem

_ROLES = ("system", "user", "assistant", "tool")
_THINK_LEVELS = ("low", "medium", "high")
_FLOAT_OPTIONS = ("temperature", "top_p", "min_p", "typical_p", "repeat_penalty", "presence_penalty",
                  "frequency_penalty", "mirostat_tau", "mirostat_eta")
_INT_OPTIONS = ("num_predict", "seed", "top_k", "num_ctx", "num_keep", "repeat_last_n", "mirostat", "num_batch",
                "num_gpu", "main_gpu", "num_thread")
# base64 openings of common image formats, for describing images that come without a media type
_IMAGE_MAGIC = (("/9j/", "image/jpeg"), ("iVBORw0KGgo", "image/png"), ("R0lGOD", "image/gif"),
                ("UklGR", "image/webp"))


@dataclass(slots=True)
class OllamaChat:
    ask: Ask
    stream: bool
    empty: bool  # no messages: Ollama only loads the model


def bad(message: str) -> Problem:
    return Problem(400, message)


def decode_json(raw: bytes) -> Any:
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise bad(f"invalid character in request body: {exc}") from None


def decode_chat(raw: bytes) -> OllamaChat:
    body = decode_json(raw)
    if not isinstance(body, dict):
        raise bad("json: cannot unmarshal non-object into Go value of type api.ChatRequest")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad("model is required")
    messages = body.get("messages") or []
    if not isinstance(messages, list):
        raise bad("json: cannot unmarshal non-array into Go struct field ChatRequest.messages of type []api.Message")
    turns = [_message(msg, i) for i, msg in enumerate(messages)]
    tools = _tools(body.get("tools"))
    json_mode, schema = _format(body.get("format"))
    options = _options(body.get("options"))
    num_predict = options.get("num_predict")
    stop = options.get("stop") or []
    ask = Ask(model=model, turns=turns, tools=tools, json_mode=json_mode, json_schema=schema, stop=list(stop),
              max_tokens=num_predict if isinstance(num_predict, int) and num_predict > 0 else None,
              reasoning=_think(body.get("think")))
    stream = body.get("stream", True)
    if not isinstance(stream, bool):
        raise bad("json: cannot unmarshal into Go struct field ChatRequest.stream of type bool")
    return OllamaChat(ask=ask, stream=stream, empty=not turns)


def _message(msg: Any, i: int) -> Turn:
    if not isinstance(msg, dict):
        raise bad(f"json: cannot unmarshal into Go struct field ChatRequest.messages[{i}] of type api.Message")
    role = msg.get("role")
    if role not in _ROLES:
        raise bad(f"messages[{i}]: invalid role {role!r}, expected one of system, user, assistant, tool")
    content = msg.get("content", "")
    if content is None:
        content = ""
    if not isinstance(content, str):
        kind = "array" if isinstance(content, list) else "object" if isinstance(content, dict) else "number"
        raise bad(f"json: cannot unmarshal {kind} into Go struct field Message.messages.content of type string")
    parts: list[str | Image] = [content] if content else []
    parts.extend(_images(msg.get("images"), i))
    if role == "tool":
        name = msg.get("tool_name")
        return Turn(role="tool", tool_results=[ToolResult(call_id=name if isinstance(name, str) else "",
                                                          content=content)])
    calls = _tool_calls(msg.get("tool_calls"), i) if role == "assistant" else []
    return Turn(role=role, content=parts, tool_calls=calls)


def image_of(data: str) -> Image | None:
    """An ``Image`` for raw base64 data (media type guessed from its first bytes); None when not base64."""
    size = base64_size(data)
    if size is None:
        return None
    media_type = next((kind for magic, kind in _IMAGE_MAGIC if data.startswith(magic)), "application/octet-stream")
    return Image(media_type=media_type, size=size)


def _images(value: Any, i: int) -> list[Image]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad(f"json: cannot unmarshal into Go struct field Message.messages[{i}].images of type []api.ImageData")
    images = []
    for item in value:
        image = image_of(item) if isinstance(item, str) else None
        if image is None:
            raise bad("illegal base64 data at input byte 0")
        images.append(image)
    return images


def _tool_calls(value: Any, i: int) -> list[ToolCall]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad(f"json: cannot unmarshal into Go struct field Message.messages[{i}].tool_calls of type "
                  "[]api.ToolCall")
    calls = []
    for call in value:
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise bad(f"messages[{i}]: tool calls need function.name")
        arguments = fn.get("arguments", {})
        if not isinstance(arguments, dict):
            kind = "string" if isinstance(arguments, str) else "value"
            raise bad(f"json: cannot unmarshal {kind} into Go struct field ToolCallFunction.messages.tool_calls."
                      "function.arguments of type api.ToolCallFunctionArguments")
        calls.append(ToolCall(id=fn["name"], name=fn["name"], arguments=msgspec.json.encode(arguments).decode()))
    return calls


def _tools(value: Any) -> list[Tool]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad("json: cannot unmarshal into Go struct field ChatRequest.tools of type api.Tools")
    tools = []
    for tool in value:
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise bad("tools need function.name")
        params = fn.get("parameters")
        tools.append(Tool(name=fn["name"], description=fn.get("description") or "",
                          schema=params if isinstance(params, dict) else {"type": "object", "properties": {}}))
    return tools


def _format(value: Any) -> tuple[bool, dict[str, Any] | None]:
    if value is None or value == "":
        return False, None
    if value == "json":
        return True, None
    if isinstance(value, dict):
        return True, value
    raise bad(f"invalid format: {msgspec.json.encode(value).decode()}; expected \"json\" or a valid JSON schema")


def _options(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad("json: cannot unmarshal into Go struct field ChatRequest.options of type map[string]interface {}")
    for key, item in value.items():
        if key in _FLOAT_OPTIONS and (isinstance(item, bool) or not isinstance(item, int | float)):
            raise bad(f"option {key!r} must be of type float32")
        if key in _INT_OPTIONS and (isinstance(item, bool) or not isinstance(item, int | float)):
            raise bad(f"option {key!r} must be of type integer")
        if key == "stop" and not (isinstance(item, list) and all(isinstance(s, str) for s in item)):
            raise bad("option \"stop\" must be of an array of strings")
    return value


def _think(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if value in _THINK_LEVELS:
        return True
    raise bad(f"invalid think value: {value!r} (must be \"true\", \"false\", \"low\", \"medium\", \"high\")")
