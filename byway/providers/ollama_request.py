"""The canonical ``ChatRequest`` as an Ollama native ``POST /api/chat`` body.

Choices made where the formats differ:

- Messages carry plain-text ``content`` (text parts joined by newlines) and base64 ``images``; an image
  still given by URL is refused, as the dispatcher fetches http(s) images first (``inline_images``).
- Tool calls go back with ``arguments`` as a JSON object (Ollama refuses a string); arguments that are not
  an object are refused with ``InvalidRequestError`` naming the message (empty arguments mean ``{}``).
  Assistant thinking goes back as ``thinking``.
- Each tool result is a ``tool`` message with ``tool_name``: the result's own name, else the name of the
  call it answers.
- Ollama has no ``tool_choice``: ``none`` leaves the tools out, a forced tool offers only that tool, and
  ``required`` cannot be enforced (the tools are offered as with ``auto``).
- JSON mode is ``format``: ``"json"`` for json_object, the schema itself for json_schema.
- Sampling goes in ``options``: ``temperature``, ``top_p``, ``num_predict`` (max tokens), ``stop``, ``seed``.
- ``stream`` is always sent (Ollama streams unless told otherwise).
- ``think`` and ``keep_alive`` in ``request.extra`` (from any client) pass through; otherwise a
  ``reasoning_effort`` turns thinking on (``none``/``minimal`` turn it off).
"""

from __future__ import annotations

from typing import Any

import msgspec

from byway.core import (
    ChatRequest,
    ImagePart,
    InvalidRequestError,
    Message,
    Part,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolResultPart,
)

PASSTHROUGH = ("think", "keep_alive")
_NO_THINKING = ("none", "minimal")

Block = dict[str, Any]


def build_body(request: ChatRequest) -> dict[str, Any]:
    """The JSON body (as a dict) of ``POST /api/chat`` for ``request``."""
    body: dict[str, Any] = {"model": request.model, "messages": encode_messages(request.messages)}
    tools = _offered(request)
    if tools:
        body["tools"] = [encode_tool(tool) for tool in tools]
    fmt = request.response_format
    if fmt is not None and fmt.type == "json_object":
        body["format"] = "json"
    elif fmt is not None and fmt.type == "json_schema":
        body["format"] = fmt.schema if fmt.schema is not None else {"type": "object"}
    options = _options(request)
    if options:
        body["options"] = options
    extra = request.extra or {}
    for key in PASSTHROUGH:
        if key in extra:
            body[key] = extra[key]
    if "think" not in body and request.reasoning_effort is not None:
        body["think"] = request.reasoning_effort not in _NO_THINKING
    body["stream"] = request.stream
    return body


def _offered(request: ChatRequest) -> list[Tool]:
    tools = request.tools or []
    choice = request.tool_choice
    if not tools or choice is None:
        return tools
    if choice.mode == "none":
        return []
    if choice.mode == "tool":
        chosen = [tool for tool in tools if tool.name == choice.name]
        if not chosen:
            raise InvalidRequestError(f"tool_choice names {choice.name!r}, which is not among the tools offered",
                                      param="tool_choice")
        return chosen
    return tools


def _options(request: ChatRequest) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if request.temperature is not None:
        options["temperature"] = request.temperature
    if request.top_p is not None:
        options["top_p"] = request.top_p
    if request.max_tokens is not None:
        options["num_predict"] = request.max_tokens
    if request.stop:
        options["stop"] = request.stop
    if request.seed is not None:
        options["seed"] = request.seed
    return options


def encode_tool(tool: Tool) -> Block:
    function: Block = {"name": tool.name}
    if tool.description is not None:
        function["description"] = tool.description
    function["parameters"] = tool.parameters
    return {"type": "function", "function": function}


# -- messages --------------------------------------------------------------------------------------------------


def encode_messages(messages: list[Message]) -> list[Block]:
    names: dict[str, str] = {}  # tool call id -> tool name, for results that do not name their tool
    out: list[Block] = []
    for index, message in enumerate(messages):
        others: list[Part] = []
        for part in message.parts:
            if isinstance(part, ToolResultPart):
                out.append(_tool_message(part, names, index))
            else:
                others.append(part)
        if not others:
            continue
        role = message.role
        if role == "assistant":
            turn = _assistant(others, names, index)
            if turn is not None:
                out.append(turn)
            continue
        turn = {"role": "system" if role in ("system", "developer") else "user", "content": _text(others)}
        images = [_image(part, index) for part in others if isinstance(part, ImagePart)]
        if images:
            turn["images"] = images
        out.append(turn)
    return out


def _text(parts: list[Part]) -> str:
    return "\n".join(p.text for p in parts if isinstance(p, TextPart))


def _image(part: ImagePart, index: int) -> str:
    if part.data is None:
        raise InvalidRequestError(f"messages[{index}]: Ollama takes images as data only, not by URL "
                                  f"({part.url})", param=f"messages[{index}].content")
    return part.data


def _tool_message(result: ToolResultPart, names: dict[str, str], index: int) -> Block:
    turn: Block = {"role": "tool", "content": result.text}
    name = result.name or names.get(result.tool_call_id)
    if name:
        turn["tool_name"] = name
    images = [_image(part, index) for part in result.content if isinstance(part, ImagePart)]
    if images:
        turn["images"] = images
    return turn


def _assistant(parts: list[Part], names: dict[str, str], index: int) -> Block | None:
    calls = []
    for part in parts:
        if isinstance(part, ToolCallPart):
            names[part.id] = part.name
            calls.append({"function": {"name": part.name, "arguments": _arguments(part, index)}})
    thinking = "".join(p.text for p in parts if isinstance(p, ThinkingPart) and not p.redacted)
    text = _text(parts)
    if not (text or calls or thinking):
        return None
    turn: Block = {"role": "assistant", "content": text}
    if thinking:
        turn["thinking"] = thinking
    if calls:
        turn["tool_calls"] = calls
    return turn


def _arguments(part: ToolCallPart, index: int) -> dict[str, Any]:
    text = part.arguments.strip()
    if not text:
        return {}
    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError:
        value = None
    if not isinstance(value, dict):
        raise InvalidRequestError(f"messages[{index}]: the arguments of tool call {part.id!r} are not a JSON object",
                                  param=f"messages[{index}].tool_calls")
    return value
