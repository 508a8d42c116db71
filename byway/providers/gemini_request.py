"""The canonical ``ChatRequest`` as a Gemini ``generateContent`` body (Vertex takes the same body).

Choices made where the formats differ:

- ``system`` and ``developer`` turns, wherever they sit, become ``systemInstruction`` text parts, in order.
- ``assistant`` turns are ``model`` contents; ``user`` and ``tool`` turns are ``user`` contents. Consecutive
  contents of the same role are merged (Gemini wants user and model to alternate), and in a merged user content
  the ``functionResponse`` parts come first, so the results of parallel calls form one content.
- A tool result answers by function *name*: the name comes from the earlier assistant turn that made the call
  (by call id), else from ``ToolResultPart.name``; a result that answers no known call is refused with
  ``InvalidRequestError``. The call id is sent too (Gemini echoes ids it gave and accepts ours). The result is
  ``{"output": text}``, or ``{"error": text}`` for a failed call, as Gemini's documentation asks; images in a
  result follow it as ``inlineData`` parts.
- A tool call's ``arguments`` must be a JSON object (``{}`` when empty); anything else is refused rather than
  rewritten.
- Images go as ``inlineData`` (``mimeType`` + base64 ``data``): the dispatcher fetches http(s) URLs first
  (``inline_images``), ``data:`` URLs are split here, and an image left as a URL is refused.
- Thought signatures: thinking parts whose signature carries the ``gemini:`` prefix (see ``gemini_response``)
  go back as ``thought`` parts with their ``thoughtSignature``; an empty signed thinking part gives its signature
  to the call or text that follows it. Thinking from other providers (unsigned, or signed by them) is not sent.
  Gemini 3 and later refuse a turn whose function calls lack a signature, so for those models the first call of
  each model content without one gets the placeholder signature Google documents for histories from elsewhere.
- Tools are ``functionDeclarations`` with the JSON schema as ``parametersJsonSchema`` (accepted as JSON schema,
  ``additionalProperties`` included; ``$schema``/``$id`` are dropped). Tool choice maps to
  ``toolConfig.functionCallingConfig``: auto ``AUTO``, none ``NONE``, required ``ANY``, a named tool ``ANY`` with
  ``allowedFunctionNames``. ``parallel_tool_calls`` has no Gemini equivalent.
- ``generationConfig``: temperature, topP, maxOutputTokens, stopSequences, seed, ``candidateCount: 1``; JSON mode
  is ``responseMimeType: application/json`` with ``responseJsonSchema`` for a json_schema format.
  ``reasoning_effort`` becomes ``thinkingConfig`` (Gemini 2.5: a token budget; Gemini 3+: a thinking level) with
  ``includeThoughts`` so the reasoning comes back as thinking parts.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from byway.core import (
    ChatRequest,
    ImagePart,
    InvalidRequestError,
    Message,
    ResponseFormat,
    TextPart,
    ThinkingPart,
    Tool,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)
from byway.providers.gemini_response import SIGNATURE_PREFIX

# base64 of the placeholder Google documents for function calls whose real signature is unknown
# ("context_engineering_is_the_way_to_go"); the recorded traffic shows Gemini 3 accepting it.
PLACEHOLDER_SIGNATURE = "Y29udGV4dF9lbmdpbmVlcmluZ19pc190aGVfd2F5X3RvX2dv"
_GEMINI_VERSION = re.compile(r"gemini-(\d+)")
_EFFORT_BUDGET = {"none": 0, "minimal": 0, "low": 1024, "medium": 8192, "high": 24576}
_MIN_PRO_BUDGET = 128  # 2.5 Pro cannot turn thinking off
# Base64 openings of common image formats, for inline images given without a media type.
_IMAGE_MAGIC = (("/9j/", "image/jpeg"), ("iVBORw0KGgo", "image/png"), ("R0lGOD", "image/gif"),
                ("UklGR", "image/webp"))
_DROPPED_SCHEMA_KEYS = ("$schema", "$id")
_CHOICE_MODES = {"auto": "AUTO", "none": "NONE", "required": "ANY", "tool": "ANY"}

Json = dict[str, Any]


def model_name(model: str) -> str:
    """The bare model name: ``models/x`` and ``publishers/google/models/x`` become ``x``."""
    return model.rsplit("/", 1)[-1]


def major_version(model: str) -> int | None:
    """The Gemini generation of a model name (``gemini-2.5-flash`` -> 2), None for other models."""
    match = _GEMINI_VERSION.match(model_name(model))
    return int(match.group(1)) if match else None


def build_body(request: ChatRequest) -> Json:
    """The JSON body (as a dict) of ``generateContent`` / ``streamGenerateContent`` for ``request``."""
    version = major_version(request.model)
    system, contents = convert_messages(request.messages, placeholder_signatures=(version or 0) >= 3)
    body: Json = {"contents": contents}
    if system:
        body["systemInstruction"] = {"role": "user", "parts": system}
    if request.tools:
        body["tools"] = [{"functionDeclarations": [function_declaration(t) for t in request.tools]}]
        config = tool_config(request.tool_choice)
        if config is not None:
            body["toolConfig"] = config
    body["generationConfig"] = generation_config(request, version)
    return body


# -- messages --------------------------------------------------------------------------------------------------


def convert_messages(messages: list[Message], *, placeholder_signatures: bool = False) -> tuple[list[Json],
                                                                                               list[Json]]:
    """``(systemInstruction parts, contents)``."""
    system: list[Json] = []
    contents: list[Json] = []
    names: dict[str, str] = {}  # tool call id -> function name, from the assistant turns so far
    for index, message in enumerate(messages):
        if message.role in ("system", "developer"):
            system.extend({"text": p.text} for p in message.parts if isinstance(p, TextPart) and p.text.strip())
            continue
        if message.role == "assistant":
            role, parts = "model", _model_parts(message, index, names)
        else:
            role, parts = "user", _user_parts(message, index, names)
        if not parts:
            continue
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    for content in contents:
        if content["role"] == "user":
            _responses_first(content["parts"])
        elif placeholder_signatures:
            _sign_first_call(content["parts"])
    if not contents:  # Gemini needs a content even when the prompt is all instructions
        contents.append({"role": "user", "parts": [{"text": ""}]})
    return system, contents


def _model_parts(message: Message, index: int, names: dict[str, str]) -> list[Json]:
    parts: list[Json] = []
    pending: str | None = None  # a signature waiting for the part it belongs to
    for part in message.parts:
        if isinstance(part, TextPart):
            if part.text:
                parts.append(_signed({"text": part.text}, pending))
                pending = None
        elif isinstance(part, ToolCallPart):
            names[part.id] = part.name
            call = {"name": part.name, "args": _arguments(part, index), "id": part.id}
            parts.append(_signed({"functionCall": call}, pending))
            pending = None
        elif isinstance(part, ThinkingPart):
            own = _own_signature(part.signature)
            if own is None or part.redacted:
                continue
            if part.text:
                parts.append({"text": part.text, "thought": True, "thoughtSignature": own})
            else:
                pending = own
        elif isinstance(part, ImagePart):
            parts.append(image_part(part, f"messages[{index}]"))
    return parts


def _user_parts(message: Message, index: int, names: dict[str, str]) -> list[Json]:
    parts: list[Json] = []
    where = f"messages[{index}]"
    for part in message.parts:
        if isinstance(part, TextPart):
            if part.text:
                parts.append({"text": part.text})
        elif isinstance(part, ImagePart):
            parts.append(image_part(part, where))
        elif isinstance(part, ToolResultPart):
            parts.append(_function_response(part, names, where))
            parts.extend(image_part(p, where) for p in part.content if isinstance(p, ImagePart))
    if message.role == "user" and not parts and any(isinstance(p, TextPart) for p in message.parts):
        parts.append({"text": ""})  # an empty user prompt stays a turn, as Gemini accepts
    return parts


def _function_response(part: ToolResultPart, names: dict[str, str], where: str) -> Json:
    name = names.get(part.tool_call_id) or part.name
    if not name:
        raise InvalidRequestError(
            f"{where}: the tool result for call {part.tool_call_id!r} answers no earlier tool call; Gemini needs "
            "the function's name", param=where)
    key = "error" if part.is_error else "output"
    return {"functionResponse": {"id": part.tool_call_id, "name": name, "response": {key: part.text}}}


def _arguments(part: ToolCallPart, index: int) -> Any:
    text = part.arguments.strip()
    if not text:
        return {}
    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError:
        value = None
    if not isinstance(value, dict):
        raise InvalidRequestError(f"messages[{index}]: the arguments of tool call {part.id!r} are not a JSON object",
                                  param=f"messages[{index}]")
    return value


def _own_signature(value: str | None) -> str | None:
    if value and value.startswith(SIGNATURE_PREFIX):
        return value[len(SIGNATURE_PREFIX):] or None
    return None


def _signed(part: Json, signature: str | None) -> Json:
    if signature:
        part["thoughtSignature"] = signature
    return part


def _responses_first(parts: list[Json]) -> None:
    if any("functionResponse" not in p for p in parts):
        parts.sort(key=lambda p: "functionResponse" not in p)  # stable: keeps each group's order


def _sign_first_call(parts: list[Json]) -> None:
    first = next((p for p in parts if "functionCall" in p), None)
    if first is not None and "thoughtSignature" not in first:
        first["thoughtSignature"] = PLACEHOLDER_SIGNATURE


def image_part(part: ImagePart, where: str) -> Json:
    """An image as ``inlineData``; only inline data (or a ``data:`` URL) is accepted."""
    data, media_type = part.data, part.media_type
    if data is None:
        url = part.url or ""
        header, sep, payload = url[5:].partition(",") if url.startswith("data:") else ("", "", "")
        if not sep or not header.endswith(";base64"):
            raise InvalidRequestError(f"{where}: Gemini takes images as inline data; the image URL "
                                      f"{url[:80]!r} was not fetched", param=where)
        data, media_type = payload, header[: -len(";base64")] or media_type
    if not media_type:
        media_type = next((kind for magic, kind in _IMAGE_MAGIC if data.startswith(magic)), "image/png")
    return {"inlineData": {"mimeType": media_type, "data": data}}


# -- tools and configuration -----------------------------------------------------------------------------------


def json_schema(schema: Any) -> Json:
    """A JSON schema as Gemini's ``*JsonSchema`` fields take it (an object at the root, no ``$schema``)."""
    if not isinstance(schema, dict) or not schema:
        return {"type": "object", "properties": {}}
    if any(key in schema for key in _DROPPED_SCHEMA_KEYS):
        schema = {k: v for k, v in schema.items() if k not in _DROPPED_SCHEMA_KEYS}
    if "type" not in schema and not any(key in schema for key in ("$ref", "anyOf", "oneOf", "allOf")):
        schema = {"type": "object", **schema}
    return schema


def function_declaration(tool: Tool) -> Json:
    declaration: Json = {"name": tool.name}
    if tool.description:
        declaration["description"] = tool.description
    declaration["parametersJsonSchema"] = json_schema(tool.parameters)
    return declaration


def tool_config(choice: ToolChoice | None) -> Json | None:
    if choice is None:
        return None
    config: Json = {"mode": _CHOICE_MODES[choice.mode]}
    if choice.mode == "tool" and choice.name:
        config["allowedFunctionNames"] = [choice.name]
    return {"functionCallingConfig": config}


def generation_config(request: ChatRequest, version: int | None) -> Json:
    config: Json = {"candidateCount": 1}
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if request.top_p is not None:
        config["topP"] = request.top_p
    if request.max_tokens is not None:
        config["maxOutputTokens"] = request.max_tokens
    if request.stop:
        stops = [s for s in request.stop if s]
        if stops:
            config["stopSequences"] = stops
    if request.seed is not None:
        config["seed"] = request.seed
    _response_format(request.response_format, config)
    thinking = thinking_config(request.model, request.reasoning_effort, version)
    if thinking is not None:
        config["thinkingConfig"] = thinking
    return config


def _response_format(fmt: ResponseFormat | None, config: Json) -> None:
    if fmt is None or fmt.type == "text":
        return
    config["responseMimeType"] = "application/json"
    if fmt.type == "json_schema" and fmt.schema is not None:
        config["responseJsonSchema"] = json_schema(fmt.schema)


def thinking_config(model: str, effort: str | None, version: int | None) -> Json | None:
    if not effort or version is None:
        return None
    if version >= 3:
        level = "low" if effort in ("none", "minimal", "low") else "high"
        return {"thinkingLevel": level, "includeThoughts": True}
    name = model_name(model)
    budget = _EFFORT_BUDGET.get(effort)
    if version != 2 or not name.startswith("gemini-2.5") or budget is None:
        return None
    if budget == 0 and "pro" in name:
        budget = _MIN_PRO_BUDGET
    return {"thinkingBudget": budget, "includeThoughts": True} if budget else {"thinkingBudget": 0}
