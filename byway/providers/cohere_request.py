"""The canonical ``ChatRequest`` as a Cohere v2 ``POST /v2/chat`` body.

Choices made where the formats differ:

- ``system`` and ``developer`` turns become ``system`` messages where they stand.
- Each tool result becomes its own ``tool`` message (``tool_call_id`` + the result's text as a string, the shape
  the API accepted in the recordings). Tool messages take text or documents only, so images a tool returned
  follow the run of tool messages in one ``user`` message.
- Assistant thinking goes back in two ways: beside tool calls it is the turn's ``tool_plan`` (the reasoning
  Cohere itself writes before calling tools, accepted by every v2 chat model); without tool calls it is a
  ``thinking`` content item, as recorded for Cohere's reasoning models.
- ``tool_choice``: ``required`` is ``REQUIRED`` and ``none`` is ``NONE``. Cohere cannot force one named tool,
  so a forced tool is ``REQUIRED`` with only that tool offered. ``auto`` is the default and is left out.
- ``response_format`` is ``{"type": "json_object"}``, with ``json_schema`` holding the schema if one is given.
- ``top_p`` is Cohere's ``p``, clamped to the range the API accepts (0.01 to 0.99); ``stop`` is
  ``stop_sequences``. ``user``, ``metadata`` and ``parallel_tool_calls`` have no Cohere field and are dropped.
"""

from __future__ import annotations

from typing import Any

from byway.core import (
    ChatRequest,
    ImagePart,
    InvalidRequestError,
    Message,
    Part,
    ResponseFormat,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)

MIN_P = 0.01
MAX_P = 0.99
IMAGES_ONLY_RESULT = "(the result is the image in the next message)"
_TOOL_CHOICES = {"required": "REQUIRED", "tool": "REQUIRED", "none": "NONE"}  # auto is Cohere's default

Block = dict[str, Any]


def build_body(request: ChatRequest) -> dict[str, Any]:
    """The JSON body (as a dict) of ``POST /v2/chat`` for ``request``."""
    body: dict[str, Any] = {"model": request.model, "messages": encode_messages(request.messages)}
    tools = request.tools or []
    choice = request.tool_choice
    if tools and choice is not None and choice.mode == "tool":
        tools = _only(tools, choice)
    if tools:
        body["tools"] = [encode_tool(tool) for tool in tools]
        if any(tool.strict for tool in tools):
            body["strict_tools"] = True
        mode = _TOOL_CHOICES.get(choice.mode) if choice is not None else None
        if mode is not None:
            body["tool_choice"] = mode
    fmt = request.response_format
    if fmt is not None and fmt.type != "text":
        body["response_format"] = encode_response_format(fmt)
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["p"] = min(max(request.top_p, MIN_P), MAX_P)
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    if request.stop:
        body["stop_sequences"] = request.stop
    if request.seed is not None:
        body["seed"] = request.seed
    body["stream"] = request.stream
    return body


def _only(tools: list[Tool], choice: ToolChoice) -> list[Tool]:
    chosen = [tool for tool in tools if tool.name == choice.name]
    if not chosen:
        raise InvalidRequestError(f"tool_choice names {choice.name!r}, which is not among the tools offered",
                                  param="tool_choice")
    return chosen


def encode_tool(tool: Tool) -> Block:
    function: Block = {"name": tool.name}
    if tool.description is not None:
        function["description"] = tool.description
    function["parameters"] = tool.parameters
    return {"type": "function", "function": function}


def encode_response_format(fmt: ResponseFormat) -> Block:
    block: Block = {"type": "json_object"}
    if fmt.type == "json_schema" and fmt.schema is not None:
        block["json_schema"] = fmt.schema
    return block


# -- messages --------------------------------------------------------------------------------------------------


def encode_messages(messages: list[Message]) -> list[Block]:
    out: list[Block] = []
    images: list[Block] = []  # images returned by tools, sent after the run of tool messages
    for message in messages:
        others: list[Part] = []
        for part in message.parts:
            if isinstance(part, ToolResultPart):
                out.append(_tool_message(part))
                images.extend(image_block(p) for p in part.content if isinstance(p, ImagePart))
            else:
                others.append(part)
        if images and (others or message.role != "tool"):
            out.append({"role": "user", "content": images})
            images = []
        if not others:
            continue
        if message.role in ("system", "developer"):
            out.append({"role": "system", "content": "".join(p.text for p in others if isinstance(p, TextPart))})
        elif message.role == "assistant":
            turn = _assistant(others)
            if turn is not None:
                out.append(turn)
        else:
            out.append({"role": "user", "content": _user_content(others)})
    if images:
        out.append({"role": "user", "content": images})
    return out


def _tool_message(result: ToolResultPart) -> Block:
    text = result.text
    if not text and any(isinstance(p, ImagePart) for p in result.content):
        text = IMAGES_ONLY_RESULT
    return {"role": "tool", "tool_call_id": result.tool_call_id, "content": text}


def image_block(part: ImagePart) -> Block:
    image: Block = {"url": part.data_url}
    if part.detail:
        image["detail"] = part.detail
    return {"type": "image_url", "image_url": image}


def _user_content(parts: list[Part]) -> str | list[Block]:
    if len(parts) == 1 and isinstance(parts[0], TextPart):
        return parts[0].text
    content: list[Block] = []
    for part in parts:
        if isinstance(part, TextPart):
            content.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            content.append(image_block(part))
    return content


def _assistant(parts: list[Part]) -> Block | None:
    calls = [{"id": p.id, "type": "function", "function": {"name": p.name, "arguments": p.arguments or "{}"}}
             for p in parts if isinstance(p, ToolCallPart)]
    thinking = [p.text for p in parts if isinstance(p, ThinkingPart) and p.text and not p.redacted]
    texts = [p.text for p in parts if isinstance(p, TextPart) and p.text]
    turn: Block = {"role": "assistant"}
    if calls:
        if thinking:
            turn["tool_plan"] = "".join(thinking)
        if texts:
            turn["content"] = "".join(texts)
        turn["tool_calls"] = calls
        return turn
    if thinking:
        content: list[Block] = [{"type": "thinking", "thinking": "".join(thinking)}]
        content.extend({"type": "text", "text": text} for text in texts)
        turn["content"] = content
        return turn
    if not texts:
        return None
    turn["content"] = "".join(texts)
    return turn
