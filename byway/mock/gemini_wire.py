"""Decoding and checking a Gemini ``GenerateContentRequest`` (Vertex's is the same) into the brain's ``Ask``.

Field names are accepted in camelCase and snake_case, as Google's JSON parser accepts both. Checks made as the
real API makes them, in its words where they are known: unknown fields (``Unknown name "x": Cannot find
field.``), empty ``contents`` or ``parts``, roles other than user/model, malformed ``inlineData`` base64, the
legacy ``parameters`` schema of a function declaration holding JSON-schema-only keywords such as
``additionalProperties`` or ``$schema`` (``parametersJsonSchema`` takes full JSON schema), function response
turns whose part count differs from the function call turn before them, and, for Gemini 3 models, function call
turns whose first call carries no ``thoughtSignature``.

Mapping to the brain: ``systemInstruction`` is a system turn; ``model`` contents are assistant turns;
``functionResponse`` parts form a tool turn (results named by function, the text being the single string value
of ``response``, else its JSON); ``toolConfig`` mode ``NONE`` is no tools, ``ANY`` is a required call (a single
allowed name, or a first offered tool that is not allowed, forces that tool); ``responseMimeType:
application/json`` is JSON mode with ``responseJsonSchema`` (or the legacy ``responseSchema``) as the schema.

Reasoning (the mock's rule): models whose name contains ``thinking``, ``2.5`` or ``gemini-3`` think unless
``thinkingConfig.thinkingBudget`` is 0; the reasoning is counted in ``thoughtsTokenCount`` and shown as a
``thought`` part only when ``thinkingConfig.includeThoughts`` is true.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import msgspec

from byway.mock.brain import Ask, Image, Tool, ToolCall, ToolResult, Turn
from byway.mock.problem import bad_request

KNOWN_REQUEST = frozenset({
    "model", "contents", "systemInstruction", "tools", "toolConfig", "generationConfig", "safetySettings",
    "cachedContent", "labels", "modelArmorConfig",
})
KNOWN_GENERATION = frozenset({
    "stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema", "responseModalities",
    "candidateCount", "maxOutputTokens", "temperature", "topP", "topK", "seed", "presencePenalty",
    "frequencyPenalty", "responseLogprobs", "logprobs", "enableEnhancedCivicAnswers", "speechConfig",
    "thinkingConfig", "imageConfig", "mediaResolution", "audioTimestamp", "routingConfig",
    "modelSelectionConfig", "enableAffectiveDialog",
})
KNOWN_PART = frozenset({
    "text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode", "codeExecutionResult",
    "thought", "thoughtSignature", "videoMetadata", "toolCall", "toolResponse", "partMetadata", "mediaResolution",
})
_DATA_FIELDS = ("text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
                "codeExecutionResult", "toolCall", "toolResponse")
KNOWN_TOOL = frozenset({
    "functionDeclarations", "googleSearch", "googleSearchRetrieval", "codeExecution", "urlContext", "fileSearch",
    "googleMaps", "computerUse", "enterpriseWebSearch", "retrieval", "mcpServers",
})
KNOWN_DECLARATION = frozenset({"name", "description", "parameters", "parametersJsonSchema", "response",
                               "responseJsonSchema", "behavior"})
# Gemini's OpenAPI-style Schema: what the legacy ``parameters`` / ``responseSchema`` fields take.
KNOWN_SCHEMA = frozenset({
    "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties", "required",
    "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf", "propertyOrdering",
    "default", "items", "minimum", "maximum",
})
_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_.:-]{0,127}$")
_REASONING_MARKS = ("thinking", "2.5", "gemini-3")
_SNAKE = re.compile(r"([A-Z])")
_CAMEL = re.compile(r"_([a-z0-9])")


@dataclass(slots=True)
class GenerateRequest:
    ask: Ask
    include_thoughts: bool
    images: int  # image parts in the prompt, for the token details
    candidates: int


@cache
def snake(name: str) -> str:
    return _SNAKE.sub(r"_\1", name).lower()


@cache
def camel(name: str) -> str:
    return _CAMEL.sub(lambda m: m.group(1).upper(), name)


def field(obj: dict[str, Any], name: str) -> Any:
    """``obj[name]`` with ``name`` in camelCase, or its snake_case spelling."""
    value = obj.get(name)
    return obj.get(snake(name)) if value is None else value


def check_fields(obj: dict[str, Any], known: frozenset[str], where: str) -> None:
    for key in obj:
        if camel(key) not in known:
            at = f" at '{where}'" if where else ""
            raise bad_request(f'Invalid JSON payload received. Unknown name "{key}"{at}: Cannot find field.')


def decode_json(raw: bytes) -> dict[str, Any]:
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise bad_request("Invalid JSON payload received. Unexpected token.") from None
    if not isinstance(body, dict):
        raise bad_request("Invalid JSON payload received. Expected an object.")
    return body


def decode_base64(data: Any) -> bytes | None:
    """Bytes of standard or URL-safe base64 (Google accepts both), None when it is neither."""
    if not isinstance(data, str):
        return None
    padded = (data + "=" * (-len(data) % 4)).encode()
    for altchars in (None, b"-_"):
        try:
            return base64.b64decode(padded, altchars=altchars, validate=True)
        except (binascii.Error, ValueError):
            continue
    return None


def reasoning_model(model: str) -> bool:
    return any(mark in model for mark in _REASONING_MARKS)


def decode_generate(body: dict[str, Any], model: str) -> GenerateRequest:
    """The checked request (``body`` already decoded) for ``model``."""
    check_fields(body, KNOWN_REQUEST, "")
    config = field(body, "generationConfig") or {}
    if not isinstance(config, dict):
        raise bad_request("Invalid value at 'generation_config' (type.googleapis.com/google.ai.generativelanguage."
                          "v1beta.GenerationConfig), expected an object")
    check_fields(config, KNOWN_GENERATION, "generation_config")
    turns = _system(field(body, "systemInstruction"))
    content_turns, images = _contents(field(body, "contents"), model)
    turns += content_turns
    tools = _tools(field(body, "tools"))
    choice, forced = _tool_choice(field(body, "toolConfig"), tools)
    thinking = field(config, "thinkingConfig") or {}
    budget = field(thinking, "thinkingBudget") if isinstance(thinking, dict) else None
    reasoning = reasoning_model(model) and budget != 0
    mime = field(config, "responseMimeType")
    schema = field(config, "responseJsonSchema")
    if schema is None and field(config, "responseSchema") is not None:
        schema = openapi_to_json_schema(field(config, "responseSchema"), "generation_config.response_schema")
    stops = field(config, "stopSequences") or []
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        raise bad_request("Invalid value at 'generation_config.stop_sequences', expected a list of strings")
    max_tokens = field(config, "maxOutputTokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1):
        raise bad_request("* GenerateContentRequest.generation_config.max_output_tokens: max_output_tokens must be "
                          "positive.")
    candidates = field(config, "candidateCount") or 1
    if not isinstance(candidates, int) or not 1 <= candidates <= 8:
        raise bad_request("* GenerateContentRequest.generation_config.candidate_count: must be between 1 and 8.")
    ask = Ask(model=model, turns=turns, tools=tools, tool_choice=choice, forced_tool=forced,
              json_mode=mime == "application/json", json_schema=schema if isinstance(schema, dict) else None,
              stop=stops, max_tokens=max_tokens, reasoning=reasoning)
    include = bool(isinstance(thinking, dict) and field(thinking, "includeThoughts"))
    return GenerateRequest(ask=ask, include_thoughts=include and reasoning, images=images, candidates=candidates)


def _system(value: Any) -> list[Turn]:
    if value is None:
        return []
    if isinstance(value, str):
        return [Turn(role="system", content=[value])]
    parts = value.get("parts") if isinstance(value, dict) else None
    if not isinstance(parts, list):
        raise bad_request("Invalid value at 'system_instruction' (type.googleapis.com/google.ai.generativelanguage."
                          "v1beta.Content), expected a Content with parts")
    texts: list[str | Image] = [p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str)]
    return [Turn(role="system", content=texts)] if texts else []


def _contents(value: Any, model: str) -> tuple[list[Turn], int]:
    if not isinstance(value, list) or not value:
        raise bad_request("* GenerateContentRequest.contents: contents is not specified")
    turns: list[Turn] = []
    images = 0
    previous_calls: int | None = None  # function calls in the content just before, when it was a model turn
    previous_role: str | None = None
    for i, content in enumerate(value):
        if not isinstance(content, dict):
            raise bad_request(f"Invalid value at 'contents[{i}]', expected a Content object")
        role = content.get("role") or "user"
        if role not in ("user", "model", "function"):
            raise bad_request("Please use a valid role: user, model.")
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts:
            raise bad_request(f"* GenerateContentRequest.contents[{i}].parts: contents.parts must not be empty.")
        turn, results, counted = _content(role, parts, i)
        images += counted
        calls = len(turn.tool_calls)
        if results is not None:
            if previous_calls is not None and previous_calls != len(results.tool_results):
                raise bad_request("Please ensure that the number of function response parts is equal to the number "
                                  "of function call parts of the function call turn.")
        if calls and previous_role != "user":
            raise bad_request("Please ensure that function call turn comes immediately after a user turn or after a "
                              "function response turn.")
        if calls and "gemini-3" in model:
            _check_signature(parts, i)
        if results is not None:
            turns.append(results)
        if results is None or turn.content or turn.tool_calls:
            turns.append(turn)  # a content of function responses alone is only its tool turn
        previous_calls = calls if role == "model" and calls else None
        previous_role = "user" if role == "function" else role
    return turns, images


def _content(role: str, parts: list[Any], i: int) -> tuple[Turn, Turn | None, int]:
    """The content's own turn, a tool turn for its function responses (if any), and its image count."""
    turn = Turn(role="assistant" if role == "model" else "user")
    results: Turn | None = None
    images = 0
    for j, part in enumerate(parts):
        where = f"contents[{i}].parts[{j}]"
        if not isinstance(part, dict):
            raise bad_request(f"Invalid value at '{where}', expected a Part object")
        check_fields(part, KNOWN_PART, where)
        if not any(field(part, name) is not None for name in _DATA_FIELDS) and field(part, "thoughtSignature") is None:
            raise bad_request(f"* GenerateContentRequest.{where}.data: required oneof field 'data' must have one "
                              "initialized field")
        if field(part, "thought") is True:
            continue  # earlier reasoning: not part of the conversation's content
        text = part.get("text")
        if isinstance(text, str):
            if text:
                turn.content.append(text)
            continue
        inline = field(part, "inlineData")
        if inline is not None:
            item = _inline(inline, f"{where}.inline_data")
            images += isinstance(item, Image)
            turn.content.append(item)
            continue
        file = field(part, "fileData")
        if isinstance(file, dict):
            uri, mime = field(file, "fileUri"), str(field(file, "mimeType") or "")
            item = Image(url=str(uri)) if mime.startswith("image/") else f"[file {uri}]"
            images += isinstance(item, Image)
            turn.content.append(item)
            continue
        call = field(part, "functionCall")
        if isinstance(call, dict):
            name = str(call.get("name") or "")
            turn.tool_calls.append(ToolCall(id=str(call.get("id") or name), name=name,
                                            arguments=msgspec.json.encode(call.get("args") or {}).decode()))
            continue
        response = field(part, "functionResponse")
        if isinstance(response, dict):
            results = results or Turn(role="tool")
            results.tool_results.append(ToolResult(call_id=str(response.get("name") or ""),
                                                   content=response_text(response.get("response"))))
    return turn, results, images


def _inline(value: Any, where: str) -> str | Image:
    if not isinstance(value, dict) or not field(value, "mimeType"):
        raise bad_request(f"* GenerateContentRequest.{where}.mime_type: mime_type must be specified")
    data = decode_base64(value.get("data"))
    if data is None:
        raise bad_request(f"Invalid value at '{where}.data' (TYPE_BYTES), Base64 decoding failed")
    mime = str(field(value, "mimeType"))
    if mime.startswith("image/"):
        return Image(media_type=mime, size=len(data))
    return f"[document {mime} {len(data)} bytes]"


def response_text(response: Any) -> str:
    """A function response as text: its single string value, else its compact JSON."""
    if isinstance(response, dict) and len(response) == 1:
        (value,) = response.values()
        if isinstance(value, str):
            return value
    return msgspec.json.encode(response if response is not None else {}).decode()


def _check_signature(parts: list[Any], i: int) -> None:
    for part in parts:
        if isinstance(part, dict) and field(part, "functionCall") is not None:
            if not field(part, "thoughtSignature"):
                name = field(part, "functionCall").get("name")
                raise bad_request(
                    f"Function call is missing a thought_signature in functionCall parts. This is required for "
                    f"tools to work correctly. Function call `default_api:{name}`, position {i + 1}. Please refer "
                    "to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.")
            return  # only the first call of a turn carries one


def _tools(value: Any) -> list[Tool]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_request("Invalid value at 'tools', expected a list of Tool objects")
    tools: list[Tool] = []
    for i, tool in enumerate(value):
        if not isinstance(tool, dict):
            raise bad_request(f"Invalid value at 'tools[{i}]', expected a Tool object")
        check_fields(tool, KNOWN_TOOL, f"tools[{i}]")
        for j, declaration in enumerate(field(tool, "functionDeclarations") or []):
            tools.append(_declaration(declaration, f"tools[{i}].function_declarations[{j}]"))
    return tools


def _declaration(value: Any, where: str) -> Tool:
    if not isinstance(value, dict):
        raise bad_request(f"Invalid value at '{where}', expected a FunctionDeclaration")
    check_fields(value, KNOWN_DECLARATION, where)
    name = value.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise bad_request(f"* GenerateContentRequest.{where}.name: Invalid function name. Must start with a letter "
                          "or an underscore. Must be a-z, A-Z, 0-9, or contain underscores, dots, colons and "
                          "dashes, with a maximum length of 128.")
    legacy, schema = field(value, "parameters"), field(value, "parametersJsonSchema")
    if legacy is not None and schema is not None:
        raise bad_request(f"* GenerateContentRequest.{where}: parameters and parameters_json_schema are mutually "
                          "exclusive.")
    if legacy is not None:
        schema = openapi_to_json_schema(legacy, f"{where}.parameters")
    if schema is None:
        schema = {"type": "object", "properties": {}}
    return Tool(name=name, description=str(value.get("description") or ""), schema=schema)


def openapi_to_json_schema(schema: Any, where: str) -> dict[str, Any]:
    """Check a Gemini OpenAPI-style Schema and turn it into JSON schema (lower-case types) for sampling."""
    if not isinstance(schema, dict):
        raise bad_request(f"Invalid value at '{where}', expected a Schema object")
    check_fields(schema, KNOWN_SCHEMA, where)
    out: dict[str, Any] = {}
    for key, value in schema.items():
        name = camel(key)
        if name == "type" and isinstance(value, str):
            out["type"] = value.lower()
        elif name == "properties" and isinstance(value, dict):
            out["properties"] = {k: openapi_to_json_schema(v, f"{where}.properties[{k}].value")
                                 for k, v in value.items()}
        elif name == "items":
            out["items"] = openapi_to_json_schema(value, f"{where}.items")
        elif name == "anyOf" and isinstance(value, list):
            out["anyOf"] = [openapi_to_json_schema(v, f"{where}.any_of[{n}]") for n, v in enumerate(value)]
        elif name != "propertyOrdering":
            out[name] = value
    return out


def _tool_choice(value: Any, tools: list[Tool]) -> tuple[str, str | None]:
    config = field(value, "functionCallingConfig") if isinstance(value, dict) else None
    if not isinstance(config, dict):
        return "auto", None
    mode = config.get("mode") or "AUTO"
    if mode not in ("AUTO", "ANY", "NONE", "VALIDATED", "MODE_UNSPECIFIED"):
        raise bad_request(f"Invalid value at 'tool_config.function_calling_config.mode' "
                          f"(type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode), "
                          f'"{mode}"')
    allowed = field(config, "allowedFunctionNames")
    if allowed and mode != "ANY":
        raise bad_request("* GenerateContentRequest.tool_config.function_calling_config.allowed_function_names: "
                          "allowed_function_names can only be set when the mode is ANY.")
    if mode == "NONE":
        return "none", None
    if mode != "ANY":
        return "auto", None
    if allowed:
        if len(allowed) == 1:
            return "forced", allowed[0]
        if tools and tools[0].name not in allowed:
            return "forced", next((t.name for t in tools if t.name in allowed), None)
    return "required", None
