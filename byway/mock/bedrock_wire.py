"""Decoding and checking a Bedrock Converse request into the brain's ``Ask``.

Checks as Bedrock makes them (its messages, its ``ValidationException``): roles and their alternation, the
content block kinds (text, image, document, video, toolUse, toolResult, reasoningContent, cachePoint,
guardContent), blank text, image formats and base64 bytes, ``toolResult`` blocks answering the previous
turn's ``toolUse`` blocks, a ``toolConfig`` whenever the conversation holds tool blocks, the inference
parameters' ranges, ``toolChoice`` naming an offered tool, Claude's extended thinking budget, and
``outputConfig.textFormat`` (structured output: the answer samples the schema).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec

from byway.mock.bedrock_errors import problem
from byway.mock.brain import Ask, Image, Tool, ToolCall, ToolResult, Turn
from byway.mock.media import base64_size
from byway.mock.problem import Problem

KNOWN_PARAMS = frozenset({
    "messages", "system", "inferenceConfig", "toolConfig", "guardrailConfig", "additionalModelRequestFields",
    "promptVariables", "additionalModelResponseFieldPaths", "requestMetadata", "performanceConfig", "serviceTier",
    "outputConfig",
})
_BLOCKS = frozenset({"text", "image", "document", "video", "toolUse", "toolResult", "reasoningContent",
                     "cachePoint", "guardContent", "citationsContent", "searchResult"})
IMAGE_FORMATS = ("png", "jpeg", "gif", "webp")
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MIN_THINKING_BUDGET = 1024


@dataclass(slots=True)
class ConverseRequest:
    ask: Ask
    uses_cache: bool  # some block is a cachePoint
    response_paths: list[str]  # additionalModelResponseFieldPaths: JSON pointers into the model's own answer


def invalid(message: str) -> Problem:
    return problem(400, "ValidationException", message)


def _constraint(value: Any, where: str, rule: str) -> Problem:
    return invalid(f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy constraint: "
                   f"{rule}")


def decode_converse(raw: bytes, model: str) -> ConverseRequest:
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise problem(400, "SerializationException", "Malformed request: the body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise problem(400, "SerializationException", "Malformed request: the body must be a JSON object.")
    for key in body:
        if key not in KNOWN_PARAMS:
            raise invalid(f"Malformed request: extraneous key [{key}] is not permitted.")
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise invalid("1 validation error detected: Value null at 'messages' failed to satisfy constraint: "
                      "Member must not be null")
    turns = _system(body.get("system")) + _messages(messages)
    tools, choice, forced = _tool_config(body.get("toolConfig"))
    if any(t.tool_calls or t.tool_results for t in turns) and body.get("toolConfig") is None:
        raise invalid("The toolConfig field must be defined when using toolUse and toolResult content blocks.")
    max_tokens, stops = _inference(body.get("inferenceConfig"))
    reasoning = _reasoning(body.get("additionalModelRequestFields"), max_tokens, choice)
    schema = _output_schema(body.get("outputConfig"))
    ask = Ask(model=model, turns=turns, tools=tools, tool_choice=choice, forced_tool=forced,
              json_mode=schema is not None, json_schema=schema, stop=stops, max_tokens=max_tokens,
              reasoning=reasoning)
    paths = body.get("additionalModelResponseFieldPaths") or []
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise _constraint(paths, "additionalModelResponseFieldPaths", "Member must be a list of JSON pointers")
    return ConverseRequest(ask=ask, uses_cache=b'"cachePoint"' in raw, response_paths=paths)


def _system(value: Any) -> list[Turn]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _constraint(value, "system", "Member must be a list of system content blocks")
    texts: list[str | Image] = []
    for i, block in enumerate(value):
        if not isinstance(block, dict) or len(block) != 1:
            raise invalid(f"The system content block at system.{i} must hold exactly one member.")
        if "text" in block:
            if not isinstance(block["text"], str) or not block["text"]:
                raise invalid(f"The text field in the SystemContentBlock object at system.{i} is blank. "
                              "Add text to the text field, and try again.")
            texts.append(block["text"])
        elif not ({"cachePoint", "guardContent"} & block.keys()):
            raise invalid(f"Unknown system content block at system.{i}: {next(iter(block))}")
    return [Turn(role="system", content=texts)] if texts else []


def _messages(value: list[Any]) -> list[Turn]:
    if not value:
        raise invalid("1 validation error detected: Value '[]' at 'messages' failed to satisfy constraint: "
                      "Member must have length greater than or equal to 1")
    turns: list[Turn] = []
    for i, msg in enumerate(value):
        if not isinstance(msg, dict):
            raise invalid(f"The message at messages.{i} must be an object.")
        role = msg.get("role")
        if role not in ("user", "assistant"):
            raise _constraint(role, f"messages.{i}.member.role", "Member must satisfy enum value set: "
                                                                  "[user, assistant]")
        if turns and turns[-1].role == role:
            raise invalid("A conversation must alternate between user and assistant roles. Make sure the "
                          "conversation alternates between user and assistant roles and try again.")
        content = msg.get("content")
        if not isinstance(content, list) or not content:
            raise invalid(f"The content field in the Message object at messages.{i} is empty. Add a ContentBlock "
                          "object to the content field and try again.")
        turns.append(_message(role, content, i))
    _check_tool_pairing(turns)
    return turns


def _message(role: str, content: list[Any], i: int) -> Turn:
    turn = Turn(role=role)
    for j, block in enumerate(content):
        where = f"messages.{i}.content.{j}"
        if not isinstance(block, dict) or len(block) != 1 or next(iter(block)) not in _BLOCKS:
            raise invalid(f"The content block at {where} is not a valid ContentBlock: exactly one of "
                          f"{', '.join(sorted(_BLOCKS))} must be set.")
        kind, value = next(iter(block.items()))
        if kind == "text":
            if not isinstance(value, str) or not value:
                raise invalid(f"The text field in the ContentBlock object at {where} is blank. Add text to the "
                              "text field, and try again.")
            turn.content.append(value)
        elif kind in ("image", "document", "video"):
            turn.content.append(media(kind, value, where))
        elif _server_block(kind, value, role):
            continue
        elif kind == "toolUse":
            if role != "assistant":
                raise invalid(f"The toolUse block at {where} is only allowed in an assistant message.")
            turn.tool_calls.append(_tool_use(value, where))
        elif kind == "toolResult":
            if role != "user":
                raise invalid(f"The toolResult block at {where} is only allowed in a user message.")
            turn.tool_results.append(_tool_result(value, where))
        # reasoningContent, cachePoint, guardContent, citations: accepted, not part of what the brain reads
    return turn


def _server_block(kind: str, value: Any, role: str) -> bool:
    """A server tool's call or result (Nova's code interpreter) replayed in an assistant turn: not the brain's."""
    return role == "assistant" and isinstance(value, dict) and (
        (kind == "toolUse" and value.get("type") == "server_tool_use") or (kind == "toolResult" and "type" in value))


def media(kind: str, value: Any, where: str) -> str | Image:
    """An image as the brain's ``Image``; a document or video as a short description."""
    if not isinstance(value, dict) or not isinstance(value.get("source"), dict):
        raise invalid(f"The {kind} block at {where} needs a source.")
    fmt = value.get("format")
    source = value["source"]
    if kind == "image" and fmt not in IMAGE_FORMATS:
        raise _constraint(fmt, f"{where}.image.format",
                          f"Member must satisfy enum value set: [{', '.join(IMAGE_FORMATS)}]")
    data = source.get("bytes")
    if data is None:
        if isinstance(source.get("s3Location"), dict):
            return f"[{kind} s3 {source['s3Location'].get('uri', '')}]"
        raise invalid(f"The {kind} block at {where} needs source.bytes or source.s3Location.")
    size = base64_size(data) if isinstance(data, str) else None
    if size is None:
        raise invalid(f"The {kind} bytes at {where} are not valid base64.")
    if kind == "image":
        return Image(media_type=f"image/{fmt}", size=size)
    name = f" {value['name']}" if isinstance(value.get("name"), str) else ""
    return f"[{kind}{name} {fmt} {size} bytes]"


def _tool_use(value: Any, where: str) -> ToolCall:
    if not isinstance(value, dict) or not isinstance(value.get("toolUseId"), str) \
            or not isinstance(value.get("name"), str) or "input" not in value:
        raise invalid(f"The toolUse block at {where} needs toolUseId, name and input.")
    return ToolCall(id=value["toolUseId"], name=value["name"],
                    arguments=msgspec.json.encode(value["input"]).decode())


def _tool_result(value: Any, where: str) -> ToolResult:
    if not isinstance(value, dict) or not isinstance(value.get("toolUseId"), str):
        raise invalid(f"The toolResult block at {where} needs a toolUseId.")
    content = value.get("content")
    if not isinstance(content, list):
        raise invalid(f"The toolResult block at {where} needs a content list.")
    status = value.get("status", "success")
    if status not in ("success", "error"):
        raise _constraint(status, f"{where}.toolResult.status", "Member must satisfy enum value set: [success, error]")
    if status == "error" and not content:
        raise invalid(f"The content field at {where}.toolResult cannot be empty when status value is error.")
    pieces: list[str] = []
    for k, item in enumerate(content):
        here = f"{where}.toolResult.content.{k}"
        if not isinstance(item, dict) or len(item) != 1:
            raise invalid(f"The tool result content block at {here} must hold exactly one member.")
        kind, part = next(iter(item.items()))
        if kind == "text" and isinstance(part, str):
            pieces.append(part)
        elif kind == "json":
            pieces.append(msgspec.json.encode(part).decode())
        elif kind in ("image", "document", "video"):
            found = media(kind, part, here)
            pieces.append(found.describe() if isinstance(found, Image) else found)
        else:
            raise invalid(f"Unknown tool result content block at {here}: {kind}")
    return ToolResult(call_id=value["toolUseId"], content=" ".join(pieces))


def _check_tool_pairing(turns: list[Turn]) -> None:
    for i, turn in enumerate(turns):
        if not turn.tool_results:
            continue
        previous = {c.id for c in turns[i - 1].tool_calls} if i else set()
        if len(turn.tool_results) > len(previous):
            raise invalid(f"The number of toolResult blocks at messages.{i}.content exceeds the number of toolUse "
                          "blocks of previous turn.")
        for result in turn.tool_results:
            if result.call_id not in previous:
                raise invalid(f"The toolResult block at messages.{i} answers toolUseId {result.call_id}, which the "
                              "previous turn did not use.")


def _tool_config(value: Any) -> tuple[list[Tool], str, str | None]:
    if value is None:
        return [], "auto", None
    tools_raw = value.get("tools") if isinstance(value, dict) else None
    if not isinstance(tools_raw, list) or not tools_raw:
        raise invalid("1 validation error detected: Value '[]' at 'toolConfig.tools' failed to satisfy "
                      "constraint: Member must have length greater than or equal to 1")
    tools: list[Tool] = []
    for i, entry in enumerate(tools_raw):
        spec = entry.get("toolSpec") if isinstance(entry, dict) else None
        if spec is None:
            if isinstance(entry, dict) and ({"cachePoint", "systemTool"} & entry.keys()):
                continue  # cache points and server tools (Nova's code interpreter) are accepted, never called
            raise invalid(f"The tool at toolConfig.tools.{i} needs a toolSpec.")
        name = spec.get("name") if isinstance(spec, dict) else None
        if not isinstance(name, str) or not _TOOL_NAME.match(name):
            raise _constraint(name, f"toolConfig.tools.{i}.member.toolSpec.name",
                              "Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+")
        schema = spec.get("inputSchema", {}).get("json") if isinstance(spec.get("inputSchema"), dict) else None
        if not isinstance(schema, dict):
            raise invalid(f"The toolSpec at toolConfig.tools.{i} needs inputSchema.json.")
        tools.append(Tool(name=name, description=str(spec.get("description") or ""), schema=schema))
    choice = value.get("toolChoice")
    if choice is None:
        return tools, "auto", None
    if not isinstance(choice, dict) or len(choice) != 1:
        raise invalid("toolConfig.toolChoice must hold exactly one of auto, any, tool.")
    kind, detail = next(iter(choice.items()))
    if kind == "auto":
        return tools, "auto", None
    if kind == "any":
        return tools, "required", None
    if kind == "tool":
        name = detail.get("name") if isinstance(detail, dict) else None
        if all(t.name != name for t in tools):
            raise invalid(f"The tool {name} named in toolConfig.toolChoice is not among toolConfig.tools.")
        return tools, "forced", name
    raise invalid(f"Unknown toolChoice {kind}: expected auto, any or tool.")


def _number(config: dict[str, Any], key: str, low: float, high: float) -> None:
    value = config.get(key)
    if value is None:
        return
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _constraint(value, f"inferenceConfig.{key}", "Member must be a number")
    if value < low:
        raise _constraint(value, f"inferenceConfig.{key}", f"Member must have value greater than or equal to {low}")
    if value > high:
        raise _constraint(value, f"inferenceConfig.{key}", f"Member must have value less than or equal to {high}")


def _inference(config: Any) -> tuple[int | None, list[str]]:
    if config is None:
        return None, []
    if not isinstance(config, dict):
        raise invalid("inferenceConfig must be an object.")
    _number(config, "temperature", 0, 1)
    _number(config, "topP", 0, 1)
    max_tokens = config.get("maxTokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1):
        raise _constraint(max_tokens, "inferenceConfig.maxTokens", "Member must have value greater than or equal to 1")
    stops = config.get("stopSequences") or []
    if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
        raise _constraint(stops, "inferenceConfig.stopSequences", "Member must be a list of non-empty strings")
    return max_tokens, stops


def _reasoning(fields: Any, max_tokens: int | None, choice: str) -> bool:
    if not isinstance(fields, dict):
        return False
    thinking = fields.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive"):
        if thinking["type"] == "enabled":
            budget = thinking.get("budget_tokens")
            if not isinstance(budget, int) or budget < MIN_THINKING_BUDGET:
                raise invalid(f"thinking.enabled.budget_tokens: Input should be greater than or equal to "
                              f"{MIN_THINKING_BUDGET}")
            if max_tokens is not None and budget >= max_tokens:
                raise invalid("`max_tokens` must be greater than `thinking.budget_tokens`.")
        if choice in ("required", "forced"):
            raise invalid("Thinking may not be enabled when tool_choice forces tool use.")
        return True
    return bool(fields.get("reasoning_effort") or fields.get("reasoning_config"))


def _output_schema(config: Any) -> dict[str, Any] | None:
    if config is None:
        return None
    fmt = config.get("textFormat") if isinstance(config, dict) else None
    structure = fmt.get("structure") if isinstance(fmt, dict) else None
    definition = structure.get("jsonSchema") if isinstance(structure, dict) else None
    if not isinstance(fmt, dict) or fmt.get("type") != "json_schema" or not isinstance(definition, dict):
        raise invalid("outputConfig.textFormat must be a json_schema format with structure.jsonSchema.")
    try:
        schema = msgspec.json.decode(definition.get("schema", ""))
    except (msgspec.DecodeError, TypeError):
        raise invalid("outputConfig.textFormat.structure.jsonSchema.schema must be a JSON schema as a string.") \
            from None
    if not isinstance(schema, dict):
        raise invalid("outputConfig.textFormat.structure.jsonSchema.schema must describe a JSON object.")
    return schema
