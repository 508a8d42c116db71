"""Decoding and checking an Anthropic Messages request into the brain's ``Ask``.

Checks as the real API makes them, with its pydantic-style messages (``max_tokens: Field
required``, ``foo: Extra inputs are not permitted``): required fields, roles, content blocks,
image sources, ``tool_result`` blocks answering the previous message's ``tool_use`` blocks (and
every ``tool_use`` answered in the next message), tools, ``tool_choice`` and extended thinking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec

from byway.mock.brain import Ask, Image, Tool, ToolCall, ToolResult, Turn
from byway.mock.media import base64_size
from byway.mock.problem import bad_request

KNOWN_PARAMS = frozenset({
    "model", "messages", "max_tokens", "system", "stop_sequences", "stream", "temperature", "top_p", "top_k",
    "tools", "tool_choice", "metadata", "thinking", "service_tier", "container", "mcp_servers", "output_format",
    "output_config", "context_management", "inference_geo", "cache_control",
})
# server-side blocks (server tools, MCP, compaction, ...) that conversations replay; accepted, not interpreted
_SERVER_BLOCK_SUFFIXES = ("_tool_use", "_tool_result")
_SERVER_BLOCKS = frozenset({"compaction", "container_upload", "search_result", "tool_addition"})
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
MIN_THINKING_BUDGET = 1024


@dataclass(slots=True)
class MessagesRequest:
    ask: Ask
    stream: bool
    uses_cache: bool  # some block carries cache_control


def decode_json(raw: bytes) -> Any:
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise bad_request("There was an issue with the format of your request: the body is not valid JSON.") from None


def decode_messages(raw: bytes, *, count_only: bool = False) -> MessagesRequest:
    """The checked request; ``count_only`` for ``/v1/messages/count_tokens`` (no ``max_tokens``)."""
    body = decode_json(raw)
    if not isinstance(body, dict):
        raise bad_request("Input should be a valid dictionary")
    for key in body:
        if key not in KNOWN_PARAMS:
            raise bad_request(f"{key}: Extra inputs are not permitted")
    required = ("model", "messages") if count_only else ("model", "max_tokens", "messages")
    for key in required:
        if key not in body:
            raise bad_request(f"{key}: Field required")
    model = body["model"]
    if not isinstance(model, str) or not model:
        raise bad_request("model: Input should be a valid string")
    max_tokens = None if count_only else _max_tokens(body["max_tokens"])
    turns = _system(body.get("system")) + _messages(body["messages"])
    tools = _tools(body.get("tools"))
    choice, forced, parallel = _tool_choice(body.get("tool_choice"), tools)
    reasoning = _thinking(body.get("thinking"), max_tokens, choice)
    schema = _output_schema(body.get("output_config"), body.get("output_format"))
    stops = body.get("stop_sequences") or []
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        raise bad_request("stop_sequences: Input should be a valid list of strings")
    ask = Ask(model=model, turns=turns, tools=tools, tool_choice=choice, forced_tool=forced, parallel=parallel,
              json_mode=schema is not None, json_schema=schema, stop=stops, max_tokens=max_tokens,
              reasoning=reasoning)
    return MessagesRequest(ask=ask, stream=body.get("stream") is True, uses_cache=b'"cache_control"' in raw)


def _max_tokens(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad_request("max_tokens: Input should be a valid integer")
    if value < 1:
        raise bad_request("max_tokens: Input should be greater than or equal to 1")
    return value


def _system(value: Any) -> list[Turn]:
    if value is None:
        return []
    if isinstance(value, str):
        return [Turn(role="system", content=[value])] if value else []
    if not isinstance(value, list):
        raise bad_request("system: Input should be a valid string or a list of text blocks")
    texts: list[str | Image] = []
    for i, block in enumerate(value):
        if not isinstance(block, dict) or block.get("type") != "text" or not isinstance(block.get("text"), str):
            raise bad_request(f"system.{i}: Input should be a text block")
        texts.append(block["text"])
    return [Turn(role="system", content=texts)]


def _messages(value: Any) -> list[Turn]:
    if not isinstance(value, list):
        raise bad_request("messages: Input should be a valid list")
    if not value:
        raise bad_request("messages: List should have at least 1 item after validation, not 0")
    turns = []
    for i, msg in enumerate(value):
        if not isinstance(msg, dict):
            raise bad_request(f"messages.{i}: Input should be a valid dictionary")
        role = msg.get("role")
        if role not in ("user", "assistant", "system"):
            raise bad_request(f"messages.{i}.role: Input should be 'user', 'assistant' or 'system'")
        if "content" not in msg:
            raise bad_request(f"messages.{i}.content: Field required")
        turns.append(_message(role, msg["content"], f"messages.{i}"))
    _check_tool_pairing(turns)
    return turns


def _message(role: str, content: Any, where: str) -> Turn:
    turn = Turn(role=role)
    if isinstance(content, str):
        turn.content.append(content)
        return turn
    if not isinstance(content, list):
        raise bad_request(f"{where}.content: Input should be a valid string or list of content blocks")
    for j, block in enumerate(content):
        here = f"{where}.content.{j}"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            if not isinstance(block.get("text"), str):
                raise bad_request(f"{here}.text: Field required")
            turn.content.append(block["text"])
        elif kind in ("image", "document"):
            turn.content.append(_source(block.get("source"), kind, here))
        elif kind == "tool_use" and role == "assistant":
            if not isinstance(block.get("id"), str) or not isinstance(block.get("name"), str):
                raise bad_request(f"{here}.id: Field required")
            arguments = msgspec.json.encode(block.get("input", {})).decode()
            turn.tool_calls.append(ToolCall(id=block["id"], name=block["name"], arguments=arguments))
        elif kind == "tool_result" and role == "user":
            if not isinstance(block.get("tool_use_id"), str):
                raise bad_request(f"{here}.tool_use_id: Field required")
            turn.tool_results.append(ToolResult(call_id=block["tool_use_id"],
                                                content=_result_text(block.get("content"), here)))
        elif kind in ("thinking", "redacted_thinking") and role == "assistant":
            continue  # earlier thinking is dropped from the context, as the real API does
        elif isinstance(kind, str) and (kind in _SERVER_BLOCKS or kind.endswith(_SERVER_BLOCK_SUFFIXES)):
            continue
        else:
            raise bad_request(f"{here}.type: Input tag '{kind}' found using 'type' does not match any of the "
                              f"expected tags for a {role} message")
    return turn


def _source(source: Any, kind: str, where: str) -> str | Image:
    if not isinstance(source, dict):
        raise bad_request(f"{where}.{kind}.source: Field required")
    if source.get("type") == "url" and isinstance(source.get("url"), str):
        return Image(url=source["url"]) if kind == "image" else f"[document {source['url']}]"
    if source.get("type") == "text" and kind == "document":
        return str(source.get("data", ""))
    if source.get("type") != "base64":
        raise bad_request(f"{where}.{kind}.source.type: Input should be 'base64', 'url' or 'text'")
    media_type = source.get("media_type")
    if kind == "image" and media_type not in IMAGE_TYPES:
        raise bad_request(f"{where}.image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', "
                          "'image/gif' or 'image/webp'")
    size = base64_size(source.get("data", "")) if isinstance(source.get("data"), str) else None
    if size is None:
        raise bad_request(f"{where}.{kind}.source.base64.data: The {kind} data is not valid base64")
    return Image(media_type=media_type, size=size) if kind == "image" else f"[document {media_type} {size} bytes]"


def _result_text(content: Any, where: str) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        raise bad_request(f"{where}.content: Input should be a valid string or list of content blocks")
    pieces = []
    for k, block in enumerate(content):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            pieces.append(str(block.get("text", "")))
        elif kind in ("image", "document"):
            part = _source(block.get("source"), kind, f"{where}.content.{k}")
            pieces.append(part.describe() if isinstance(part, Image) else part)
    return " ".join(pieces)


def _check_tool_pairing(turns: list[Turn]) -> None:
    for i, turn in enumerate(turns):
        previous = {c.id for c in turns[i - 1].tool_calls} if i else set()
        for j, result in enumerate(turn.tool_results):
            if result.call_id not in previous:
                raise bad_request(f"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` "
                                  f"blocks: {result.call_id}. Each `tool_result` block must have a corresponding "
                                  "`tool_use` block in the previous message.")
        if turn.tool_calls and i + 1 < len(turns):
            answered = {r.call_id for r in turns[i + 1].tool_results}
            missing = [c.id for c in turn.tool_calls if c.id not in answered]
            if missing:
                raise bad_request(f"messages.{i + 1}: `tool_use` ids were found without `tool_result` blocks "
                                  f"immediately after: {', '.join(missing)}. Each `tool_use` block must have a "
                                  "corresponding `tool_result` block in the next message.")


def _tools(value: Any) -> list[Tool]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_request("tools: Input should be a valid list")
    tools = []
    for i, tool in enumerate(value):
        if not isinstance(tool, dict):
            raise bad_request(f"tools.{i}: Input should be a valid dictionary")
        if tool.get("type") not in (None, "custom"):
            continue  # server tools (web search, code execution, ...) are accepted but never called
        name = tool.get("name")
        if not isinstance(name, str):
            raise bad_request(f"tools.{i}.custom.name: Field required")
        if not _TOOL_NAME.match(name):
            raise bad_request(f"tools.{i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'")
        schema = tool.get("input_schema")
        if not isinstance(schema, dict):
            raise bad_request(f"tools.{i}.custom.input_schema: Field required")
        tools.append(Tool(name=name, description=str(tool.get("description") or ""), schema=schema))
    return tools


def _tool_choice(value: Any, tools: list[Tool]) -> tuple[str, str | None, bool]:
    if value is None:
        return "auto", None, True
    kind = value.get("type") if isinstance(value, dict) else None
    parallel = not (isinstance(value, dict) and value.get("disable_parallel_tool_use") is True)
    if kind in ("auto", "none"):
        return kind, None, parallel
    if kind == "any":
        return "required", None, parallel
    if kind == "tool":
        name = value.get("name")
        if not isinstance(name, str):
            raise bad_request("tool_choice.tool.name: Field required")
        if all(t.name != name for t in tools):
            raise bad_request(f"tool_choice.tool.name: Tool '{name}' not found in provided tools")
        return "forced", name, parallel
    raise bad_request(f"tool_choice: Input tag '{kind}' found using 'type' does not match any of the expected "
                      "tags: 'auto', 'any', 'tool', 'none'")


def _thinking(value: Any, max_tokens: int | None, choice: str) -> bool:
    if not isinstance(value, dict) or value.get("type") not in ("enabled", "adaptive"):
        return False
    if value["type"] == "enabled":
        budget = value.get("budget_tokens")
        if not isinstance(budget, int) or budget < MIN_THINKING_BUDGET:
            raise bad_request(f"thinking.enabled.budget_tokens: Input should be greater than or equal to "
                              f"{MIN_THINKING_BUDGET}")
        if max_tokens is not None and budget >= max_tokens:
            raise bad_request("`max_tokens` must be greater than `thinking.budget_tokens`.")
        if choice in ("required", "forced"):
            raise bad_request("Thinking may not be enabled when tool_choice forces tool use.")
    return True


def _output_schema(config: Any, legacy: Any) -> dict[str, Any] | None:
    fmt = config.get("format") if isinstance(config, dict) else None
    fmt = fmt if fmt is not None else legacy
    if not isinstance(fmt, dict):
        return None
    if fmt.get("type") != "json_schema" or not isinstance(fmt.get("schema"), dict):
        raise bad_request("output_config.format: Input should be a json_schema format with a schema")
    return fmt["schema"]
